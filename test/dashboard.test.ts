// The DORA evidence dashboard in a running cluster. Every panel's queries, as the dashboard file writes them
// (Grafana's variables filled in as Grafana fills them), run on the evidence API (18002) without error, in the
// clean state and after Act 3; the clean run shows no offender, Act 3 shows the converter with its identity, the
// attacker-signed digest and the registry drift. The page's server: read-only, its proxy limited to the query
// API, errors in Prometheus' shape, the deny log lines of Act 3 naming the pod and the policy.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICIES_DIR, rugpull } from '../src/control-plane/image-ops.ts';
import { DASHBOARD_FILE, PROXY_PREFIX, interpolate, parseDashboard, queryWindow, type DenyLine } from '../src/evidence/dashboard/index.ts';
import { labelValuesQuery } from '../src/evidence/dashboard/time.ts';
import { startTestCluster, type TestCluster } from '../testing/cluster.ts';

const SEED_PROMPT = 'I am customer 12345. Please check my balance, list my recent transactions, and convert my balance to USD.';
const INTERVAL_MS = 500;
const dashboard = parseDashboard(JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')));

interface Answer {
  status: string;
  error?: string;
  data: { result: { metric: Record<string, string>; value?: [number, string] }[] } | Record<string, string>[];
}

describe('the DORA evidence dashboard in the cluster', () => {
  let t: TestCluster;
  let prometheus: string;
  let page: string;
  beforeAll(async () => {
    t = await startTestCluster({ scrapeIntervalMs: INTERVAL_MS, evaluationIntervalMs: INTERVAL_MS });
    prometheus = t.cluster.forwards.find((f) => f.service === 'prometheus')!.url;
    page = t.cluster.forwards.find((f) => f.service === 'evidence-dashboard')!.url;
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  const get = async (path: string, params: Record<string, string>): Promise<Answer> => (await fetch(new URL(`${path}?${new URLSearchParams(params)}`, prometheus))).json() as Promise<Answer>;
  /** A full evaluation round after now: what a rule would say has been said. */
  const settled = async (): Promise<void> => {
    const after = Date.now() + 2 * INTERVAL_MS;
    const deadline = Date.now() + 30_000;
    while (!t.cluster.evidence.monitor.ruleGroups().every((g) => (g.lastEvaluation ?? 0) > after)) {
      if (Date.now() > deadline) throw new Error('no evaluation round');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  /** Every query of the dashboard, run as the page (and Grafana) runs it; the answers by panel title and refId. */
  const runAll = async (): Promise<Map<string, Answer>> => {
    const now = Date.now();
    const window = queryWindow(now, 15 * 60_000);
    const vars: Record<string, string> = { ...window.vars, datasource: 'prometheus' };
    const answers = new Map<string, Answer>();
    for (const variable of dashboard.templating?.list ?? []) {
      if (variable.type !== 'query') continue;
      const lv = labelValuesQuery(typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? ''))!;
      expect(lv, variable.name).toBeDefined();
      const answer = await get('api/v1/series', { 'match[]': interpolate(lv.match, vars), start: String((now - 3_600_000) / 1000), end: String(now / 1000) });
      expect(answer, `variable ${variable.name}: ${answer.error}`).toMatchObject({ status: 'success' });
      vars[variable.name] = [...new Set((answer.data as Record<string, string>[]).map((s) => s[lv.label]!))].sort()[0] ?? '';
      answers.set(`$${variable.name}`, answer);
    }
    let queries = 0;
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) {
        const query = interpolate(target.expr, vars);
        expect(query, `${panel.title} ${target.refId}: a variable is left`).not.toMatch(/\$(?!\d)/);
        const answer = target.range ? await get('api/v1/query_range', { query, start: String(window.startMs / 1000), end: String(window.endMs / 1000), step: String(window.stepMs / 1000) }) : await get('api/v1/query', { query, time: String(now / 1000) });
        expect(answer, `${panel.title} ${target.refId}: ${answer.error}`).toMatchObject({ status: 'success' });
        answers.set(`${panel.title}/${target.refId}`, answer);
        queries++;
      }
    }
    expect(queries).toBeGreaterThanOrEqual(20);
    return answers;
  };
  const rows = (answers: Map<string, Answer>, key: string) => (answers.get(key)!.data as { result: { metric: Record<string, string>; value: [number, string] }[] }).result;

  it('runs every panel query without error after a clean chat, and shows no offender', async () => {
    expect((await t.chat(SEED_PROMPT)).failed).toBe(false);
    await settled();
    const answers = await runAll();
    expect(rows(answers, 'OFFENDING POD/A')).toEqual([]);
    expect(rows(answers, 'OFFENDING DEPLOYMENT/A')).toEqual([]);
    expect(rows(answers, 'Firing alerts/A')).toEqual([]);
    expect(rows(answers, 'Incidents (DORA Art. 17)/A')).toEqual([]);
    // A ratio of two sums of increase(): equal series, floating-point sums (100.00000000000001 was seen).
    expect(Number(rows(answers, '% connections with mTLS/A')[0]!.value[1])).toBeCloseTo(100, 6);
    expect(Number(rows(answers, 'Agent outbound calls (1 h)/A')[0]!.value[1])).toBeGreaterThan(0);
    // The clean converter: signed by the bank, the digest the registry onboarded.
    const info = (await get('api/v1/query', { query: 'trustusbank_image_info{workload="currency-converter"}' })).data as { result: { metric: Record<string, string> }[] };
    expect(info.result.map((s) => s.metric)).toEqual([expect.objectContaining({ image: 'acme-fx/currency-converter:1.0.0', signer: 'trustusbank-bank', registry_drift: 'false', job: 'trustusbank-node' })]);
  }, 120_000);

  it('after Act 3 shows the converter as OFFENDING POD and OFFENDING DEPLOYMENT, every query still without error', async () => {
    await t.cluster.engine.apply(t.cluster.readDocuments(`${POLICIES_DIR}/mesh`));
    await rugpull(t.cluster);
    expect((await t.chat(SEED_PROMPT)).failed).toBe(false);
    let answers = await runAll();
    for (let i = 0; i < 60 && rows(answers, 'OFFENDING POD/B').length === 0; i++) {
      await settled();
      answers = await runAll();
    }
    const converter = 'spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter';
    expect(rows(answers, 'OFFENDING POD/A').map((r) => r.metric)).toEqual([{ source_workload: 'currency-converter', source_workload_namespace: 'trustusbank-bank-vendors', source_principal: converter, destination_service_name: 'mock-attacker', destination_service_namespace: 'external-attacker' }]);
    const firstSeen = Number(rows(answers, 'OFFENDING POD/B')[0]!.value[1]);
    expect(Math.abs(firstSeen - Date.now())).toBeLessThan(120_000);
    const deployment = rows(answers, 'OFFENDING DEPLOYMENT/A');
    expect(deployment.map((r) => r.metric)).toEqual([expect.objectContaining({ resource_namespace: 'trustusbank-bank-vendors', workload: 'currency-converter', image: 'acme-fx/currency-converter:1.0.0', signer: 'attacker', registry_drift: 'true' })]);
    const rugpulled = t.cluster.builds.find((b) => b.image === 'acme-fx/currency-converter:1.0.0' && b.variant === 'rugpull')!.digest;
    expect(deployment[0]!.metric.digest).toBe(rugpulled);
    expect(Number(deployment[0]!.value[1])).toBeGreaterThanOrEqual(0);
    expect(rows(answers, 'Firing alerts/A').map((r) => r.metric.alertname).sort()).toEqual(expect.arrayContaining(['IstioAuthZDeny']));
    expect(Number(rows(answers, 'Exfil received by the attacker/A')[0]!.value[1])).toBe(0);
    expect(Number(rows(answers, 'AuthZ denies (mesh)/A')[0]!.value[1])).toBeGreaterThan(0);
    expect((await t.attackerLoot()).count).toBe(0);
  }, 180_000);

  it("serves the deny log lines of Act 3: the pod, its identity and the policy that refused it", async () => {
    const body = (await (await fetch(new URL('/api/deny-logs', page))).json()) as { lines: DenyLine[] };
    const mesh = body.lines.find((l) => l.layer === 'mesh');
    expect(mesh).toMatchObject({ identity: 'spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter', policy: 'external-attacker/deny-bank-to-attacker' });
    expect(mesh!.subject).toMatch(/^trustusbank-bank-vendors\/currency-converter-[a-z0-9]+-[a-z0-9]+$/);
    // ztunnel's refusal names its trace: the span is in the trace collector under that id.
    expect(mesh!.traceId).toMatch(/^[0-9a-f]{32}$/);
    t.cluster.traces.flush();
    expect(t.cluster.traces.collector.store.trace(mesh!.traceId!)?.some((s) => s.attributes.some((a) => a.key === 'trustusbank.decision' && a.value.stringValue === 'deny'))).toBe(true);
    expect(body.lines.map((l) => l.ts)).toEqual([...body.lines.map((l) => l.ts)].sort().reverse());
    const later = (await (await fetch(new URL(`/api/deny-logs?from=${Date.now() + 60_000}`, page))).json()) as { lines: DenyLine[] };
    expect(later.lines).toEqual([]);
    expect((await fetch(new URL('/api/deny-logs?limit=0', page))).status).toBe(400);
  });

  it("lists Act 3's incident on its panel, as a page and as JSON, each record citing the ledger and the traces", async () => {
    const incidents = await (async () => {
      for (let i = 0; i < 100; i++) {
        const answer = (await get('api/v1/query', { query: 'trustusbank_incident_info' })).data as { result: { metric: Record<string, string> }[] };
        if (answer.result.length > 0) return answer.result.map((r) => r.metric);
        await settled();
      }
      throw new Error('no incident series');
    })();
    const converter = incidents.find((m) => m.cause === 'trustusbank-bank-vendors/currency-converter')!;
    expect(converter).toMatchObject({ major: 'true', job: 'trustusbank-node' });
    expect(['open', 'contained']).toContain(converter.status);
    const list = await fetch(new URL('/incidents', page));
    expect(list.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
    expect(await list.text()).toContain(`<a href="/incidents/${converter.incident}">${converter.incident}</a>`);
    const record = await (await fetch(new URL(`/incidents/${converter.incident}`, page))).text();
    for (const part of ['Acme FX Ltd', 'Delegated Regulation (EU) 2024/1772', 'Initial notification', 'IstioAuthZDeny']) expect(record).toContain(part);
    const json = (await (await fetch(new URL(`/api/incidents/${converter.incident}`, page))).json()) as { links: { ledgerSeqs: number[]; traceIds: string[] } };
    expect(json.links.traceIds.length).toBeGreaterThan(0);
    expect(record).toContain(`/trace/${json.links.traceIds[0]}`);
    // Each ledger record it cites, as signed.
    const seq = json.links.ledgerSeqs[0]!;
    expect(record).toContain(`<a href="/api/ledger/${seq}">#${seq}</a>`);
    expect(await (await fetch(new URL(`/api/ledger/${seq}`, page))).json()).toMatchObject({ seq, hash: expect.stringMatching(/^[0-9a-f]{64}$/), sig: expect.any(String) });
    expect((await fetch(new URL('/api/ledger/999999', page))).status).toBe(404);
    expect((await fetch(new URL('/incidents/INC-nope', page))).status).toBe(404);
  }, 120_000);

  it('is read-only, proxies only the query API, passes Prometheus errors through, and forbids script from anywhere else', async () => {
    const root = await fetch(new URL('/', page), { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/d/dora-evidence');
    const html = await fetch(page);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'.*require-trusted-types-for 'script'/);
    expect(await html.text()).not.toMatch(/<script>|\son\w+=/);
    const meta = (await (await fetch(new URL('/api/dashboards/uid/dora-evidence', page))).json()) as { dashboard: { uid: string; panels: unknown[] } };
    expect(meta.dashboard).toEqual(JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')));
    const bad = await fetch(new URL(`${PROXY_PREFIX}/api/v1/query?query=${encodeURIComponent('sum(')}`, page));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ status: 'error', errorType: 'bad_data' });
    for (const path of [`${PROXY_PREFIX}/federate`, `${PROXY_PREFIX}/api/v1/targets`, `${PROXY_PREFIX}/../../metrics`]) expect((await fetch(new URL(path, page))).status, path).toBe(404);
    const post = await fetch(new URL(`${PROXY_PREFIX}/api/v1/query`, page), { method: 'POST', body: 'query=up' });
    expect(post.status).toBe(405);
    expect(await post.json()).toMatchObject({ error: expect.stringMatching(/read-only/) });
  });
});
