import { describe, expect, it } from 'vitest';
import { Engine } from '../evidence/promql/index.ts';
import { MemoryStore, parseExposition } from '../evidence/tsdb/index.ts';
import { cachedFor, exfiltrationCounts } from './incidents.ts';

const CONVERTER = 'source_workload="currency-converter",source_workload_namespace="trustusbank-bank-vendors"';
const ATTACKER = 'destination_workload="mock-attacker",destination_workload_namespace="external-attacker"';

/** The counts as `clusterIncidents` reads them: PromQL over one scrape of the node's exposition. */
function countsFrom(exposition: string) {
  const store = new MemoryStore();
  const now = Date.now();
  store.ingestScrape('node', parseExposition(exposition), now);
  const engine = new Engine(store);
  const total = (query: string): number => {
    const value = engine.instantQuery(query, now);
    return value.type === 'vector' ? value.samples.reduce((sum, s) => sum + s.value, 0) : 0;
  };
  return exfiltrationCounts(total, { workload: 'currency-converter', namespace: 'trustusbank-bank-vendors' });
}

describe("exfiltrationCounts: a workload's connections to the attacker from ztunnel's counters", () => {
  it('counts each refused connection once though both sides report it', () => {
    expect(
      countsFrom(
        [
          `istio_tcp_connections_opened_total{reporter="source",${CONVERTER},${ATTACKER}} 2`,
          `istio_tcp_connections_failed_total{reporter="source",${CONVERTER},${ATTACKER},response_flags="CONNECT"} 1`,
          `istio_tcp_connections_failed_total{reporter="destination",${CONVERTER},${ATTACKER},response_flags="DENY"} 1`,
        ].join('\n'),
      ),
    ).toEqual({ attempts: 2, refused: 1 });
  });

  it("counts a refusal the destination reported before the source side's counters were scraped", () => {
    expect(countsFrom(`istio_tcp_connections_failed_total{reporter="destination",${CONVERTER},${ATTACKER},response_flags="DENY"} 1`)).toEqual({ attempts: 1, refused: 1 });
  });

  it("ignores other workloads' connections and this workload's connections elsewhere", () => {
    expect(
      countsFrom(
        [
          `istio_tcp_connections_opened_total{reporter="source",source_workload="support-bot",source_workload_namespace="trustusbank-bank-agents",${ATTACKER}} 5`,
          `istio_tcp_connections_opened_total{reporter="source",${CONVERTER},destination_workload="account-mcp",destination_workload_namespace="trustusbank-bank-tools"} 7`,
        ].join('\n'),
      ),
    ).toEqual({ attempts: 0, refused: 0 });
  });

  it('has no counts for a cause without a workload (a gateway)', () => {
    expect(exfiltrationCounts(() => 1, { namespace: 'x' })).toBeUndefined();
  });
});

describe('cachedFor', () => {
  it('computes at most once per period, however often asked, and again after it', () => {
    let clock = 0;
    let computed = 0;
    const value = cachedFor(2_000, () => ++computed, () => clock);
    expect([value(), value(), value()]).toEqual([1, 1, 1]);
    clock = 2_000;
    expect(value()).toBe(1);
    clock = 2_001;
    expect(value()).toBe(2);
  });
});
