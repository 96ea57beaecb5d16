// Alert in, mail out: an alert POSTed to our Alertmanager (configured by the shipped alertmanager.yaml) reaches
// our SOC inbox over real SMTP with the seed's subject and body. The attacks: a flood of alerts, and alert
// labels that try to inject mail headers. Conformance: Debian's amtool and prometheus-alertmanager against
// the same file, against our API, and delivering to our inbox — skipped with one loud line where they are
// missing, failing instead under CI=true.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_MANIFESTS, readManifestDocuments } from '../src/control-plane/cluster.ts';
import type { RunningAlertmanager } from '../src/evidence/alertmanager/index.ts';
import { startAlertmanager } from '../src/evidence/alertmanager/index.ts';
import type { RunningInbox, StoredMessage } from '../src/evidence/inbox/index.ts';
import { startInbox } from '../src/evidence/inbox/index.ts';
import { parseManifests } from '../src/manifests/load.ts';

const SHIPPED = join(import.meta.dirname, '..', 'deploy', 'manifests', 'evidence', 'alertmanager.yaml');
const configFor = (inbox: RunningInbox): string => readFileSync(SHIPPED, 'utf8').replace('smtp_smarthost: 127.0.0.1:1025', `smtp_smarthost: ${inbox.smarthost}`);

const SOURCE = {
  source_workload: 'currency-converter',
  source_workload_namespace: 'trustusbank-bank-vendors',
  source_principal: 'spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter',
};
const authzDeny = (startsAt: Date, extra: Record<string, string> = {}) => ({
  labels: { alertname: 'IstioAuthZDeny', severity: 'critical', dora_article: '10', nis2_clause: '21(2)(b)', ...SOURCE, destination_service_name: 'mock-attacker', destination_service_namespace: 'external-attacker', ...extra },
  annotations: { summary: 'mesh denied a connection', policy: 'external-attacker/deny-bank-to-attacker' },
  startsAt: startsAt.toISOString(),
  generatorURL: 'http://127.0.0.1:18002/graph',
});

async function postAlerts(url: string, alerts: unknown[]): Promise<Response> {
  return fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
}

/** What the seed says the SOC's mail holds. */
function expectSeedMail(mail: StoredMessage, startsAt: Date): void {
  expect(mail.decoded.subject).toBe('[FIRING:1] IstioAuthZDeny — TrustUsBank SOC alert');
  expect(mail.envelopeFrom).toBe('alerts@trustusbank.example');
  expect(mail.envelopeTo).toEqual(['soc@trustusbank.example']);
  expect(mail.decoded.from).toBe('alerts@trustusbank.example');
  const text = mail.decoded.text ?? '';
  for (const line of [
    'Pod: currency-converter',
    'Namespace: trustusbank-bank-vendors',
    'SPIFFE identity: spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter',
    'Destination: mock-attacker.external-attacker',
    'Policy: external-attacker/deny-bank-to-attacker',
    'DORA article: 10',
    'NIS2 clause: 21(2)(b)',
    `Started: ${startsAt.toISOString().replace(/\.\d{3}Z$/, 'Z')}`,
    'Dashboard: http://127.0.0.1:18001/',
    'Quarantine: kubectl -n trustusbank-bank-vendors scale deploy/currency-converter --replicas=0',
  ]) {
    expect(text).toContain(line);
  }
  expect(mail.decoded.html).toContain('<a href="http://127.0.0.1:18001/">');
}

it('the manifest reader leaves alertmanager.yaml to the Alertmanager, so `up` still loads deploy/manifests', () => {
  const documents = readManifestDocuments(DEFAULT_MANIFESTS, ['policies']);
  expect(documents.map((d) => d.file).filter((file) => file.endsWith('alertmanager.yaml'))).toEqual([]);
  for (const document of documents) expect(() => parseManifests(document.text, document.file)).not.toThrow();
});

describe('alert → our Alertmanager → SMTP → our inbox', () => {
  let inbox: RunningInbox;
  let am: RunningAlertmanager;
  beforeEach(async () => {
    inbox = await startInbox({ smtpPort: 0, httpPort: 0, log: () => {} });
    am = await startAlertmanager({ config: configFor(inbox), port: 0, log: () => {} });
  });
  afterEach(async () => {
    await am.close();
    await inbox.close();
  });

  it('delivers the seed mail for IstioAuthZDeny, and the MailHog API shows it', async () => {
    // Prometheus sends an alert with the time it started firing; older than group_wait, it is flushed at once.
    const startsAt = new Date(Date.now() - 60_000);
    expect((await postAlerts(am.url, [authzDeny(startsAt)])).status).toBe(200);
    const [mail] = await inbox.waitFor((all) => all.length >= 1);
    expectSeedMail(mail as StoredMessage, startsAt);
    const api = (await (await fetch(`${inbox.url}/api/v2/messages`)).json()) as { total: number; items: Array<{ Raw: { To: string[] } }> };
    expect(api.total).toBe(1);
    expect(api.items[0]?.Raw.To).toEqual(['soc@trustusbank.example']);
  });

  it('clean run: a silenced alert sends nothing while an unsilenced one still mails', async () => {
    const now = Date.now();
    const silence = await fetch(`${am.url}/api/v2/silences`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ matchers: [{ name: 'alertname', value: 'IstioAuthZDeny', isRegex: false, isEqual: true }], startsAt: new Date(now).toISOString(), endsAt: new Date(now + 3600_000).toISOString(), createdBy: 'soc', comment: 'maintenance' }),
    });
    expect(silence.status).toBe(200);
    await postAlerts(am.url, [authzDeny(new Date(now - 60_000))]);
    await postAlerts(am.url, [{ ...authzDeny(new Date(now - 60_000), { alertname: 'BankToAttackerAttempt' }) }]);
    await inbox.waitFor((all) => all.length >= 1);
    await am.settled();
    expect(inbox.messages().map((m) => m.decoded.subject)).toEqual(['[FIRING:1] BankToAttackerAttempt — TrustUsBank SOC alert']);
  });

  it('attack: a label carrying CR/LF cannot add a header or a recipient', async () => {
    const evil = 'X\r\nBcc: attacker@evil.example\r\nX-Injected: yes';
    await postAlerts(am.url, [{ ...authzDeny(new Date(Date.now() - 60_000)), labels: { ...authzDeny(new Date()).labels, alertname: evil } }]);
    const [mail] = await inbox.waitFor((all) => all.length >= 1);
    expect(mail?.envelopeTo).toEqual(['soc@trustusbank.example']);
    const head = (mail?.raw ?? '').split(/\r?\n\r?\n/)[0] ?? '';
    expect(head).not.toMatch(/^Bcc:/im);
    expect(head).not.toMatch(/^X-Injected:/im);
    expect(mail?.decoded.subject).toContain('X Bcc: attacker@evil.example X-Injected: yes');
  });

  it('attack: a flood of 1,000 alerts makes one mail per group, not 1,000', async () => {
    const startsAt = new Date(Date.now() - 60_000);
    const flood = Array.from({ length: 1000 }, (_, i) => authzDeny(startsAt, { source_workload_namespace: `trustusbank-bank-${i % 4}`, pod: `pod-${i}` }));
    expect((await postAlerts(am.url, flood)).status).toBe(200);
    const mails = await inbox.waitFor((all) => all.length >= 4);
    await am.settled();
    expect(inbox.messages()).toHaveLength(4);
    expect(mails.every((m) => m.decoded.subject === '[FIRING:250] IstioAuthZDeny — TrustUsBank SOC alert')).toBe(true);
  });

  it('attack: the Alertmanager\'s whole capacity in one group is still one mail the inbox takes', async () => {
    const startsAt = new Date(Date.now() - 60_000);
    const flood = Array.from({ length: 2000 }, (_, i) => authzDeny(startsAt, { pod: `pod-${i}` }));
    expect((await postAlerts(am.url, flood)).status).toBe(200);
    expect((await postAlerts(am.url, [authzDeny(startsAt, { pod: 'one-too-many' })])).status).toBe(400);
    const [mail] = await inbox.waitFor((all) => all.length >= 1);
    expect(mail?.decoded.subject).toBe('[FIRING:2000] IstioAuthZDeny — TrustUsBank SOC alert');
  });
});

// ---- conformance with Debian's amtool and prometheus-alertmanager ----------------------------------------

function findTool(names: string[], envVar: string): string | undefined {
  const fromEnv = process.env[envVar];
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  for (const name of names) {
    const found = spawnSync('which', [name], { encoding: 'utf8' });
    if (found.status === 0 && found.stdout.trim()) return found.stdout.trim();
  }
  return undefined;
}

const AMTOOL = findTool(['amtool'], 'AMTOOL_PATH');
const ALERTMANAGER = findTool(['prometheus-alertmanager', 'alertmanager'], 'ALERTMANAGER_PATH');
const TOOLS_MISSING = (() => {
  const missing = [!AMTOOL && 'amtool', !ALERTMANAGER && 'alertmanager'].filter(Boolean);
  if (missing.length === 0) return undefined;
  const message = `Alertmanager conformance tests need ${missing.join(' and ')}: install Debian's prometheus-alertmanager (apt-get install -y prometheus-alertmanager)`;
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true: these tests may not be skipped)`);
  console.warn(`\n!!! SKIPPING the Alertmanager conformance tests: ${message} !!!\n`);
  return message;
})();

/** Asynchronous on purpose: our Alertmanager answers amtool from this same process. */
function amtool(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(AMTOOL as string, args, { encoding: 'utf8', timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe.skipIf(TOOLS_MISSING !== undefined)('conformance with Debian\'s amtool and alertmanager', () => {
  let inbox: RunningInbox;
  let ours: RunningAlertmanager;
  beforeAll(async () => {
    inbox = await startInbox({ smtpPort: 0, httpPort: 0, log: () => {} });
    ours = await startAlertmanager({ config: configFor(inbox), port: 0, log: () => {} });
  });
  afterAll(async () => {
    await ours?.close();
    await inbox?.close();
  });

  it('amtool check-config accepts the shipped alertmanager.yaml', async () => {
    const result = await amtool(['check-config', SHIPPED]);
    expect(result.stdout + result.stderr).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });

  it('amtool queries our alerts and adds, lists and expires silences through our API', async () => {
    await postAlerts(ours.url, [authzDeny(new Date(Date.now() - 5_000))]);
    const query = await amtool([`--alertmanager.url=${ours.url}`, 'alert', 'query', '-o', 'json']);
    expect(query.stderr).toBe('');
    const alerts = JSON.parse(query.stdout) as Array<{ labels: Record<string, string>; fingerprint: string }>;
    expect(alerts.map((a) => a.labels.alertname)).toEqual(['IstioAuthZDeny']);
    const add = await amtool([`--alertmanager.url=${ours.url}`, 'silence', 'add', 'alertname=IstioAuthZDeny', '--comment=SOC is on it', '--author=soc', '--duration=1h']);
    expect(add.stderr).toBe('');
    const id = add.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const silences = JSON.parse((await amtool([`--alertmanager.url=${ours.url}`, 'silence', 'query', '-o', 'json'])).stdout) as Array<{ id: string; status: { state: string } }>;
    expect(silences.map((s) => [s.id, s.status.state])).toEqual([[id, 'active']]);
    const suppressed = await amtool([`--alertmanager.url=${ours.url}`, 'alert', 'query', '--silenced', '-o', 'json']);
    expect((JSON.parse(suppressed.stdout) as Array<{ status: { silencedBy: string[] } }>)[0]?.status.silencedBy).toEqual([id]);
    expect((await amtool([`--alertmanager.url=${ours.url}`, 'silence', 'expire', id])).status).toBe(0);
    const after = JSON.parse((await amtool([`--alertmanager.url=${ours.url}`, 'silence', 'query', '--expired', '-o', 'json'])).stdout) as Array<{ status: { state: string } }>;
    expect(after.map((s) => s.status.state)).toEqual(['expired']);
  });

  it('the real alertmanager, given the shipped file, sends our inbox the same mail ours sends; fingerprints and 400s agree', async () => {
    // An inbox of its own: mail from the other tests' alerts must not be mistaken for the real one's.
    const inbox = await startInbox({ smtpPort: 0, httpPort: 0, log: () => {} });
    const storage = mkdtempSync(join(tmpdir(), 'tub-alertmanager-'));
    const configFile = join(storage, 'alertmanager.yml');
    writeFileSync(configFile, configFor(inbox));
    const port = await freePort();
    const real = spawn(ALERTMANAGER as string, [`--config.file=${configFile}`, `--storage.path=${storage}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', `--web.external-url=http://127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    real.stderr?.on('data', (chunk: Buffer) => void (log += chunk.toString()));
    const realUrl = `http://127.0.0.1:${port}`;
    try {
      // Poll readiness: the real binary takes a moment to load its config and open the port.
      const deadline = Date.now() + 20_000;
      for (;;) {
        const ready = await fetch(`${realUrl}/-/ready`).then((r) => r.ok, () => false);
        if (ready) break;
        if (Date.now() > deadline || real.exitCode !== null) throw new Error(`alertmanager did not become ready:\n${log}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const startsAt = new Date(Math.floor((Date.now() - 60_000) / 1000) * 1000);
      const alert = authzDeny(startsAt);
      expect((await postAlerts(realUrl, [alert])).status).toBe(200);
      const [fromReal] = await inbox.waitFor((all) => all.length >= 1, 25_000);
      expectSeedMail(fromReal as StoredMessage, startsAt);

      const oursAm = await startAlertmanager({ config: configFor(inbox), port: 0, log: () => {} });
      try {
        await postAlerts(oursAm.url, [alert]);
        const all = await inbox.waitFor((msgs) => msgs.length >= 2, 25_000);
        const fromOurs = all[0] as StoredMessage;
        expect(fromOurs.decoded.subject).toBe(fromReal?.decoded.subject);
        expect(fromOurs.decoded.text?.trim()).toBe(fromReal?.decoded.text?.trim());
        const fp = async (url: string) => ((await (await fetch(`${url}/api/v2/alerts`)).json()) as Array<{ fingerprint: string }>)[0]?.fingerprint;
        expect(await fp(oursAm.url)).toBe(await fp(realUrl));
        for (const bad of ['{"labels":', '{"labels":{}}']) {
          const [r, o] = await Promise.all([realUrl, oursAm.url].map((u) => fetch(`${u}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bad })));
          expect(o?.status).toBe(r?.status);
          const [rb, ob] = (await Promise.all([r, o].map((x) => (x as Response).json()))) as Array<Record<string, unknown>>;
          expect(Object.keys(ob ?? {}).sort()).toEqual(Object.keys(rb ?? {}).sort());
          expect(ob?.code).toBe(rb?.code);
        }
      } finally {
        await oursAm.close();
      }
    } finally {
      // The real alertmanager writes its state on SIGTERM: remove its directory once it has exited.
      const exited = real.exitCode !== null || real.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => real.once('exit', () => resolve()));
      real.kill('SIGTERM');
      await exited;
      await inbox.close();
      rmSync(storage, { recursive: true, force: true });
    }
  });
});
