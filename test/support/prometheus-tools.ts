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
