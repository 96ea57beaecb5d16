// External tools some tests use as judges (Debian's promtool, amtool, prometheus, alertmanager). On a machine with
// Node alone those tests skip with one loud line naming the package; under CI (`CI=true`) a missing tool is a
// failure, so CI can never skip them quietly.
import { execFileSync } from 'node:child_process';

const PACKAGES: Record<string, string> = { promtool: 'prometheus', prometheus: 'prometheus', amtool: 'prometheus-alertmanager', 'prometheus-alertmanager': 'prometheus-alertmanager' };

function onPath(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v "$0"`, name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const warned = new Set<string>();

/** Whether tests needing `name` should run: present, or CI (where its absence must fail the test). */
export function hasTool(name: string): boolean {
  if (onPath(name) || process.env.CI === 'true') return true;
  if (!warned.has(name)) {
    warned.add(name);
    console.warn(`\n!!! SKIPPING tests that need ${name}: install Debian's package (apt-get update && apt-get install -y ${PACKAGES[name] ?? name}) !!!\n`);
  }
  return false;
}

/** Fail with the install line when the tool is missing (under CI, where hasTool did not skip). */
export function requireTool(name: string): void {
  if (!onPath(name)) throw new Error(`${name} is missing (CI=true: tests that need it may not be skipped): apt-get install -y ${PACKAGES[name] ?? name}`);
}
