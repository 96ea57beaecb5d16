// `npm run bench [name…]`: run the benchmarks (all, or those named) and print each one's ratio table.
const BENCHES: Record<string, () => Promise<{ run(): Promise<void> }>> = {
  authz: () => import('./authz.bench.ts'),
  cel: () => import('./cel.ts'),
  demo: () => import('./demo.bench.ts'),
  gateway: () => import('./gateway.bench.ts'),
  hbone: () => import('./hbone.bench.ts'),
  'image-verify': () => import('./image-verify.bench.ts'),
  'mcp-call': () => import('./mcp-call.bench.ts'),
  memory: () => import('./memory.bench.ts'),
  startup: () => import('./startup.bench.ts'),
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in BENCHES));
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(', ')} (have: ${Object.keys(BENCHES).join(', ')})`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : Object.keys(BENCHES)) {
  console.log(`running ${name}…`);
  await (await BENCHES[name]!()).run();
}
