// Debian's `prometheus` package for conformance tests: `promtool check metrics` (Prometheus' own linter for an
// exposition) and the `prometheus` server (a real scraper). .ci/run installs the package when it is missing.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  return undefined;
}

export const PROMTOOL_PATH = process.env.PROMTOOL_PATH ?? onPath('promtool');
export const PROMETHEUS_PATH = process.env.PROMETHEUS_PATH ?? onPath('prometheus');

const INSTALL = "install Debian's package (apt-get update && apt-get install -y prometheus)";

/**
 * Why the promtool checks cannot run here, or undefined when they can. Without promtool they skip with one loud
 * line; under CI (`CI=true`) a missing promtool is a failure, so CI never skips them quietly.
 */
export const PROMTOOL_MISSING: string | undefined = (() => {
  if (PROMTOOL_PATH) return undefined;
  const missing = `the promtool checks need promtool, which is not on PATH: ${INSTALL} or set PROMTOOL_PATH`;
  if (process.env.CI === 'true') throw new Error(`${missing} (CI=true: these checks may not be skipped)`);
  console.warn(`\n!!! SKIPPING the promtool checks: ${missing} !!!\n`);
  return missing;
})();

/** Why a real Prometheus server cannot scrape here (the same package), or undefined; the same rules as above. */
export const PROMETHEUS_MISSING: string | undefined = (() => {
  if (PROMETHEUS_PATH) return undefined;
  const missing = `the scrape by a real Prometheus needs the prometheus binary, which is not on PATH: ${INSTALL} or set PROMETHEUS_PATH`;
  if (process.env.CI === 'true') throw new Error(`${missing} (CI=true: it may not be skipped)`);
  console.warn(`\n!!! SKIPPING the real Prometheus scrape: ${missing} !!!\n`);
  return missing;
})();

export interface PromtoolVerdict {
  code: number;
  /** What promtool printed: one `metric problem` line per lint finding, or the parse error. */
  output: string;
}

/** `promtool check metrics` over an exposition, as `curl …/metrics | promtool check metrics` runs it. */
export function promtoolCheckMetrics(exposition: string): Promise<PromtoolVerdict> {
  if (!PROMTOOL_PATH) return Promise.reject(new Error(PROMTOOL_MISSING));
  return new Promise((resolve, reject) => {
    const child = spawn(PROMTOOL_PATH, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, output: output.trim() }));
    child.stdin.end(exposition);
  });
}

export interface RealPrometheus {
  /** The instant query's result, or undefined while the server is not answering or has no result yet. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[] | undefined>;
  /** Poll (bounded) until `expr` has a result; fails at once, with the server's log, if it exited. */
  until(expr: string, timeoutMs?: number): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  close(): Promise<void>;
}

/** Debian's prometheus with this scrape configuration (YAML), on a free loopback port, its data in a temp dir. */
export async function startRealPrometheus(config: string): Promise<RealPrometheus> {
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { createServer } = await import('node:net');
  const dir = mkdtempSync(join(tmpdir(), 'tub-prom-'));
  writeFileSync(join(dir, 'prometheus.yml'), config);
  // prometheus cannot listen on port 0 and say where: take a free port and hand it over.
  const port = await new Promise<number>((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as { port: number };
      probe.close(() => resolve(free));
    });
    probe.on('error', reject);
  });
  const child = spawn(PROMETHEUS_PATH!, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const query: RealPrometheus['query'] = async (expr) => {
    try {
      const answer = (await (await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as { status: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      return answer.status === 'success' && answer.data!.result.length > 0 ? answer.data!.result : undefined;
    } catch {
      return undefined; // not listening yet
    }
  };
  return {
    query,
    async until(expr, timeoutMs = 45_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const result = await query(expr);
        if (result) return result;
        if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}):\n${log}`);
        if (Date.now() > deadline) throw new Error(`no result for ${expr} within ${timeoutMs / 1000} s:\n${log.slice(-2000)}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
