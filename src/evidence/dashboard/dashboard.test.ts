// The dashboard's pure parts: the deny lines read from each layer's logs (and nothing else), Grafana's table
// building and transformations, and its time variables.
import { describe, expect, it } from 'vitest';
import { nodeOnlyMetric } from '../scrape/discovery.ts';
import { denyOf } from './deny-log.ts';
import { merge, organize, tableOf, transform, formatValue, linkOf } from './frames.ts';
import { interpolate, labelValuesQuery, legend, queryWindow } from './time.ts';

const ZTUNNEL_DENY = JSON.stringify({ ts: '2026-12-02T17:04:47.115Z', level: 'warn', component: 'ztunnel', msg: 'connection complete', 'src.workload': 'currency-converter-768fd5d8-zhfvy', 'src.namespace': 'trustusbank-bank-vendors', 'src.identity': 'spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter', 'dst.service': 'unknown', 'dst.workload': 'mock-attacker-1fd09dda-ob4vi', 'dst.namespace': 'external-attacker', direction: 'inbound', error: 'connection closed due to policy rejection: explicitly denied by: external-attacker/deny-bank-to-attacker' });

describe('deny log lines', () => {
  it("reads ztunnel's policy rejection: the pod, its identity, the destination and the policy", () => {
    expect(denyOf('ztunnel', ZTUNNEL_DENY)).toMatchObject({ layer: 'mesh', subject: 'trustusbank-bank-vendors/currency-converter-768fd5d8-zhfvy', identity: 'spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter', destination: 'mock-attacker-1fd09dda-ob4vi (external-attacker)', policy: 'external-attacker/deny-bank-to-attacker' });
  });
  it("reads the gateway's 403 with reason, policy and trace id, and leaves its other lines alone", () => {
    const line = { ts: '2026-12-02T17:04:46.755Z', level: 'warn', gateway: 'trustusbank-platform/trustusbank-agentgw', route: 'currency-converter-route', 'src.identity': 'spiffe://cluster.local/ns/trustusbank-bank-agents/sa/support-bot', 'http.status': 403, reason: 'DLP', policy: 'trustusbank-platform/dlp', 'gen_ai.tool.name': 'convert_currency', 'trace.id': 'be9826b6ab673d10608a65f133d65ff1' };
    expect(denyOf('agentgateway', JSON.stringify(line))).toMatchObject({ layer: 'gateway', reason: 'DLP', policy: 'trustusbank-platform/dlp', traceId: 'be9826b6ab673d10608a65f133d65ff1', destination: 'convert_currency on currency-converter-route' });
    expect(denyOf('agentgateway', JSON.stringify({ ...line, 'http.status': 405 }))).toBeUndefined();
    expect(denyOf('agentgateway', JSON.stringify({ ...line, gateway: 'trustusbank-bank-agents/support-bot-waypoint', reason: 'Authorization' }))?.layer).toBe('waypoint');
  });
  it('ignores clean lines, lines that are not JSON and lines without a time; keeps a hostile value as text', () => {
    expect(denyOf('ztunnel', JSON.stringify({ ts: '2026-12-02T17:04:47Z', msg: 'connection complete' }))).toBeUndefined();
    expect(denyOf('ztunnel', 'explicitly denied by: x')).toBeUndefined();
    expect(denyOf('ztunnel', JSON.stringify({ error: 'explicitly denied by: x' }))).toBeUndefined();
    const hostile = denyOf('pod trustusbank-bank-vendors/currency-converter-1', JSON.stringify({ ts: '2026-12-02T17:04:47Z', msg: 'exfil blocked', url: '<img src=x onerror=alert(1)>' }));
    expect(hostile).toMatchObject({ layer: 'workload', destination: '<img src=x onerror=alert(1)>' });
  });
});

describe("Grafana's data links", () => {
  const config = { overrides: [{ matcher: { id: 'byName', options: 'incident' }, properties: [{ id: 'links', value: [{ title: 'Incident record', url: 'http://127.0.0.1:18001/incidents/${__value.raw}' }] }] }] };
  it("fills ${__value.raw} from the cell, percent-encoded, and only for http(s)", () => {
    expect(linkOf(config, 'incident', 'INC-1')).toBe('http://127.0.0.1:18001/incidents/INC-1');
    expect(linkOf(config, 'incident', '../x?y=<z>')).toBe('http://127.0.0.1:18001/incidents/..%2Fx%3Fy%3D%3Cz%3E');
    expect(linkOf(config, 'cause', 'x')).toBeUndefined();
    expect(linkOf(config, 'incident', undefined)).toBeUndefined();
    const script = { overrides: [{ matcher: { id: 'byName', options: 'a' }, properties: [{ id: 'links', value: [{ url: 'javascript:${__value.raw}' }] }] }] };
    expect(linkOf(script, 'a', 'alert(1)')).toBeUndefined();
  });
});

describe("Grafana's tables", () => {
  const a = tableOf([{ metric: { source_workload: 'currency-converter', source_workload_namespace: 'trustusbank-bank-vendors' }, value: [1000, '2'] }], 'A', true);
  const b = tableOf([{ metric: { source_workload: 'currency-converter', source_workload_namespace: 'trustusbank-bank-vendors' }, value: [1000, '1796231102000'] }, { metric: { source_workload: 'other', source_workload_namespace: 'ns' }, value: [1000, '5'] }], 'B', true);
  it('merges rows whose shared labels agree, and keeps the others', () => {
    const merged = merge([a, b]);
    expect(merged.columns).toEqual(['Time', 'source_workload', 'source_workload_namespace', 'Value #A', 'Value #B']);
    expect(merged.rows).toEqual([
      { Time: 1_000_000, source_workload: 'currency-converter', source_workload_namespace: 'trustusbank-bank-vendors', 'Value #A': 2, 'Value #B': 1796231102000 },
      { Time: 1_000_000, source_workload: 'other', source_workload_namespace: 'ns', 'Value #B': 5 },
    ]);
  });
  it('organizes: excludes, orders and renames', () => {
    const t = organize(merge([a, b]), { excludeByName: { Time: true }, indexByName: { 'Value #A': 0 }, renameByName: { 'Value #A': 'Denied', source_workload: 'Workload' } });
    expect(t.columns).toEqual(['Denied', 'Workload', 'source_workload_namespace', 'Value #B']);
    expect(transform([a, b], [{ id: 'merge' }, { id: 'organize', options: { excludeByName: { Time: true } } }]).rows).toHaveLength(2);
    expect(() => transform([a], [{ id: 'joinByField' }])).toThrow(/joinByField/);
  });
  it('formats by unit', () => {
    expect(formatValue(1796231102000, 'dateTimeAsIso')).toBe('2026-12-02 17:05:02Z');
    expect(formatValue(3725, 's')).toBe('1 h 2 min');
    expect(formatValue(99.5, 'percent')).toBe('99.5%');
    expect(formatValue(1500)).toBe('1.5 K');
  });
});

describe("Grafana's time variables", () => {
  it('derives $__range, $__interval and $__rate_interval from the range, never below the scrape interval', () => {
    expect(queryWindow(1_000_000_000, 15 * 60_000).vars).toEqual({ __range: '900s', __interval: '15s', __rate_interval: '60s' });
    expect(queryWindow(1_000_000_000, 6 * 3_600_000).vars).toEqual({ __range: '21600s', __interval: '90s', __rate_interval: '105s' });
  });
  it('interpolates $x and ${x}, leaves unknown variables, reads legend formats and label_values', () => {
    expect(interpolate('kubectl -n ${ns} scale deploy/$w [$__range] $nope', { ns: 'a', w: 'b', __range: '5s' })).toBe('kubectl -n a scale deploy/b [5s] $nope');
    expect(legend('refused for {{source_workload}}', { source_workload: 'x' })).toBe('refused for x');
    expect(labelValuesQuery('label_values(ALERTS{alertstate="firing",source_workload!=""}, source_workload)')).toEqual({ match: 'ALERTS{alertstate="firing",source_workload!=""}', label: 'source_workload' });
  });
});

describe('the image gauges', () => {
  it('are node-only: a pod cannot report an image, signer or drift for itself or another workload', () => {
    expect(nodeOnlyMetric('trustusbank_image_info')).toBe(true);
    expect(nodeOnlyMetric('trustusbank_image_running_since_timestamp_seconds')).toBe(true);
  });
});
