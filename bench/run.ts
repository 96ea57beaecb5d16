// `npm run bench [--smoke] [name…]`: run the benchmarks (all, or those named) and print each one's ratio table.
// `--smoke` runs each with tiny counts and a time limit, and exits non-zero if any fails: CI runs it so that no
// benchmark can rot unnoticed. Its numbers mean nothing.
import { SMOKE_ENV } from './stats.ts';

const BENCHES: Record<string, () => Promise<{ run(): Promise<void> }>> = {
  'agent-memory': () => import('./agent-memory.bench.ts'),
  alerts: () => import('./alerts.bench.ts'),
  authz: () => import('./authz.bench.ts'),
  cel: () => import('./cel.ts'),
  'chatbot-page': () => import('./chatbot-page.bench.ts'),
  demo: () => import('./demo.bench.ts'),
  gateway: () => import('./gateway.bench.ts'),
  hbone: () => import('./hbone.bench.ts'),
  'image-verify': () => import('./image-verify.bench.ts'),
  isolation: () => import('./isolation.bench.ts'),
  ledger: () => import('./ledger.bench.ts'),
  'mcp-call': () => import('./mcp-call.bench.ts'),
  soak: () => import('./soak.bench.ts'),
  memory: () => import('./memory.bench.ts'),
  promql: () => import('./promql.bench.ts'),
  startup: () => import('./startup.bench.ts'),
  tracing: () => import('./tracing.bench.ts'),
};

/** Per benchmark in a smoke run, to catch a hang: the slowest (memory: two stacks, one after the other) takes ~30 s on an idle 2-core machine, ~100 s at load average 18. */
const SMOKE_LIMIT_MS = 240_000;

const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const wanted = args.filter((arg) => arg !== '--smoke');
const unknown = wanted.filter((name) => !(name in BENCHES));
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(', ')} (have: ${Object.keys(BENCHES).join(', ')}; --smoke for a short run of each)`);
  process.exit(2);
}
// Before any benchmark module loads: they size their constants when imported.
if (smoke) process.env[SMOKE_ENV] = '1';

const failed: string[] = [];
const started = performance.now();
for (const name of wanted.length > 0 ? wanted : Object.keys(BENCHES)) {
  console.log(`running ${name}${smoke ? ' (smoke)' : ''}…`);
  const began = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const bench = (await BENCHES[name]!()).run();
    await (smoke
      ? Promise.race([bench, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`did not finish within ${SMOKE_LIMIT_MS / 1000} s`)), SMOKE_LIMIT_MS)))])
      : bench);
    console.log(`${name}: done in ${((performance.now() - began) / 1000).toFixed(1)} s`);
  } catch (error) {
    failed.push(name);
    console.error(`${name}: FAILED after ${((performance.now() - began) / 1000).toFixed(1)} s: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    clearTimeout(timer);
  }
}
const total = ((performance.now() - started) / 1000).toFixed(1);
if (failed.length > 0) {
  console.error(`\n${failed.length} benchmark(s) failed: ${failed.join(', ')} (${total} s)`);
} else {
  console.log(`\nall benchmarks ran${smoke ? ' (smoke)' : ''} in ${total} s`);
}
// A benchmark that failed or timed out may leave a server or timer behind; do not wait for it.
process.exit(failed.length > 0 ? 1 : 0);
