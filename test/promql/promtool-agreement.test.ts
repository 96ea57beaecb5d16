// The same rule files and promtool-format tests through the real promtool (Debian's `prometheus` package): its
// `check rules` and `test rules` must agree with our loader and our runner, on the shipped files and on broken
// copies of them. Without promtool this file skips with one loud line; under CI=true it fails instead.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRuleFile, runRuleTests } from '../../src/evidence/rules/index.ts';

const DIR = import.meta.dirname;
const RULE_FILES = [join(DIR, '../../deploy/prometheus/trustusbank.rules.yaml'), join(DIR, 'corpus.rules.yaml')];
const TEST_FILES = readdirSync(DIR).filter((name) => name.endsWith('.test.yaml')).map((name) => join(DIR, name));

const PROMTOOL_MISSING: string | undefined = (() => {
  const found = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (found.status === 0) return undefined;
  const missing = "promtool is not installed (Debian: apt-get install prometheus): the promtool agreement tests cannot run";
  if (process.env.CI === 'true') throw new Error(`${missing} (CI=true: they may not be skipped)`);
  console.warn(`\n!!! SKIPPING the promtool agreement tests: ${missing} !!!\n`);
  return missing;
})();

function promtool(...args: string[]): { ok: boolean; output: string } {
  const run = spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000 });
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}

function ours(file: string): boolean {
  return runRuleTests(file, (path) => readFileSync(path, 'utf8')).passed;
}

/** A copy of a test file in a temporary directory, with its rule_files made absolute and one edit applied. */
function brokenCopy(file: string, edit: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'promtool-'));
  const original = readFileSync(file, 'utf8').replace(/(rule_files:\n(?:\s+- .*\n)+)/, (block) => block.replace(/- (.*)/g, (_all, path: string) => `- ${join(DIR, path)}`));
  const text = edit(original);
  expect(text).not.toBe(original);
  const copy = join(dir, 'broken.test.yaml');
  writeFileSync(copy, text);
  return copy;
}

describe.skipIf(PROMTOOL_MISSING !== undefined)('promtool agrees with our evaluator', () => {
  it.each(RULE_FILES.map((file) => [basename(file), file]))('promtool check rules accepts %s, as our loader does', (_name, file) => {
    const result = promtool('check', 'rules', file);
    expect(result.output).toContain('SUCCESS');
    expect(result.ok).toBe(true);
    expect(() => loadRuleFile(readFileSync(file, 'utf8'), file)).not.toThrow();
  });

  it('both refuse a rule file with a malformed expression', () => {
    const dir = mkdtempSync(join(tmpdir(), 'promtool-'));
    const bad = join(dir, 'bad.rules.yaml');
    writeFileSync(bad, readFileSync(RULE_FILES[0]!, 'utf8').replace('> 0\n', '> \n'));
    expect(promtool('check', 'rules', bad).ok).toBe(false);
    expect(() => loadRuleFile(readFileSync(bad, 'utf8'), bad)).toThrow(/could not parse expression/);
  });

  it.each(TEST_FILES.map((file) => [basename(file), file]))('promtool test rules passes %s, as our runner does', (_name, file) => {
    const result = promtool('test', 'rules', file);
    expect(result.output).toContain('SUCCESS');
    expect(result.ok).toBe(true);
    expect(ours(file)).toBe(true);
  });

  it.each([
    ['a wrong rate', (text: string) => text.replace(/(rate\(http_requests_total\{job=\\"web\\"\}\[5m\]\)"[\s\S]*?value: )0\.375/, '$10.376')],
    ['a missing series', (text: string) => text.replace(/(expr: "up or app_info"[\s\S]*?exp_samples:\n)( {10}- labels: .*\n {12}value: .*\n)/, '$1')],
    ['an alert that fires earlier than `for` allows', (text: string) => text.replace('- eval_time: 7m\n        alertname: HighErrorRate\n        exp_alerts: []', '- eval_time: 7m\n        alertname: HighErrorRate\n        exp_alerts:\n          - exp_labels: {severity: page, job: api}')],
    ['keep_firing_for ignored', (text: string) => text.replace('- eval_time: 4m\n        alertname: Flapping\n        exp_alerts: *flapping', '- eval_time: 4m\n        alertname: Flapping\n        exp_alerts: []')],
  ])('both fail the corpus with %s', (_name, edit) => {
    const copy = brokenCopy(join(DIR, 'corpus.test.yaml'), edit);
    expect(promtool('test', 'rules', copy).ok).toBe(false);
    expect(ours(copy)).toBe(false);
  });

  it('both fail the shipped rules when an alert is expected where traffic is clean', () => {
    const copy = brokenCopy(join(DIR, 'trustusbank-rules.test.yaml'), (text) => text.replace('- eval_time: 25m\n        alertname: ToolDefinitionDrift\n        exp_alerts: []', '- eval_time: 25m\n        alertname: ToolDefinitionDrift\n        exp_alerts:\n          - exp_labels: {server: account-mcp}'));
    expect(promtool('test', 'rules', copy).ok).toBe(false);
    expect(ours(copy)).toBe(false);
  });
});
