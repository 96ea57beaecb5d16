// Who may know whom: the project's layering as a lint rule. Each folder may import its own files, the folders
// listed for it below, and packages; nothing else. A relative import is resolved against the importing file, so
// the rule judges the folder the import reaches, however many `../` it takes. Test files (*.test.ts) are exempt:
// a test may reach across layers to set up what it checks. DESIGN.md ("Layout and layering") explains the table.
import { dirname, relative, resolve, sep } from 'node:path';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');

/** Allowed targets per source folder; a folder is `src/<name>`, `apps/<name>`, `bench`, `testing` or `test`. */
export const LAYERS = {
  'src/core': [],
  'src/cel': ['src/core'],
  // The schema checks a PrometheusRule with the evidence stack's loader and a ServiceEntry with the mesh's rules.
  'src/manifests': ['src/core', 'src/cel', 'src/evidence', 'src/mesh'],
  'src/mesh': ['src/core', 'src/manifests'],
  'src/runtime': ['src/core', 'src/mesh'],
  'src/evidence': ['src/core', 'src/runtime'],
  'src/gateway': ['src/core', 'src/cel', 'src/manifests'],
  'src/agents': ['src/core'],
  'src/registry': ['src/core', 'src/manifests'],
  'src/supply-chain': ['src/core', 'src/manifests'],
  'src/scenario': ['src/runtime'],
  // The composition root and the operator's operations: everything below it, and the workloads it runs in-process.
  'src/control-plane': ['src/core', 'src/cel', 'src/manifests', 'src/mesh', 'src/runtime', 'src/gateway', 'src/agents', 'src/evidence', 'src/registry', 'src/supply-chain', 'src/scenario', 'apps/catalog', 'apps/currency-converter', 'apps/mock-attacker'],
  'src/demo': ['src/core', 'src/manifests', 'src/control-plane', 'src/scenario', 'apps/currency-converter'],
  'src/control-room': ['src/core', 'src/manifests', 'src/control-plane', 'src/demo', 'src/registry', 'src/scenario', 'apps/chatbot'],
  'src/cli': ['src/core', 'src/cel', 'src/manifests', 'src/mesh', 'src/runtime', 'src/gateway', 'src/agents', 'src/evidence', 'src/registry', 'src/supply-chain', 'src/scenario', 'src/control-plane', 'src/demo', 'src/control-room', 'apps/catalog', 'apps/currency-converter'],
  // A workload knows its own folder, the shared workload runtime and src/core; nothing of the mesh or the gateway.
  'apps/lib': ['src/core'],
  'apps/account-mcp': ['apps/lib', 'src/core'],
  'apps/transaction-mcp': ['apps/lib', 'src/core'],
  'apps/ticket-mcp': ['apps/lib', 'src/core'],
  'apps/currency-converter': ['apps/lib', 'src/core'],
  'apps/mock-attacker': ['apps/lib', 'src/core', 'apps/currency-converter'],
  'apps/chatbot': ['apps/lib', 'src/core', 'src/agents'],
  'apps/agent': ['apps/lib', 'src/core', 'src/agents'],
  'apps/catalog': ['apps/account-mcp', 'apps/transaction-mcp', 'apps/ticket-mcp', 'apps/currency-converter', 'apps/mock-attacker', 'apps/chatbot', 'apps/agent', 'apps/lib'],
  // Benchmarks and the test harness drive the whole system; benchmarks share the harness, never the tests.
  bench: ['*', '!test'],
  testing: ['*', '!test', '!bench'],
  test: ['*'],
};

/** The folder of a path (absolute), or undefined outside the layered tree. */
export function folderOf(path) {
  const parts = relative(ROOT, path).split(sep);
  if (parts[0] === 'src' || parts[0] === 'apps') {
    if (parts.length < 2) return undefined;
    const name = parts.length === 2 ? parts[1].replace(/\.ts$/, '') : parts[1];
    return `${parts[0]}/${name}`;
  }
  if (['bench', 'testing', 'test'].includes(parts[0]) && parts.length > 1) return parts[0];
  return undefined;
}

export function allowed(from, to) {
  if (from === to) return true;
  const rules = LAYERS[from];
  if (!rules) return false;
  if (rules.includes(`!${to.split('/')[0]}`) || rules.includes(`!${to}`)) return false;
  return rules.includes('*') || rules.includes(to);
}

const rule = {
  meta: { type: 'problem', docs: { description: 'imports follow the layering table (lint/layering.js)' }, schema: [], messages: { layer: '{{from}} may not import {{to}} ({{source}}): see lint/layering.js and DESIGN.md "Layout and layering"', unknown: '{{from}} is not in the layering table (lint/layering.js): add it' } },
  create(context) {
    const file = context.filename;
    if (file.endsWith('.test.ts')) return {};
    const from = folderOf(file);
    if (!from) return {};
    const check = (node) => {
      const source = node.source?.value;
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const to = folderOf(resolve(dirname(file), source));
      if (!to) return;
      if (!LAYERS[from]) context.report({ node, messageId: 'unknown', data: { from } });
      else if (!allowed(from, to)) context.report({ node, messageId: 'layer', data: { from, to, source } });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

export default { rules: { 'allowed-imports': rule } };
