// The verifier that travels in an exported evidence bundle: `node verify.mjs` in the bundle's directory (or
// `node verify.mjs DIR`). It needs only Node's built-ins (esbuild bundles it with chain.ts into one file), so an
// auditor can run it without this project, and it checks exactly what `trustusbank evidence verify` checks.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseLedgerJsonl, verifyLedger, type LedgerHead } from './chain.ts';

const dir = process.argv[2] ?? dirname(fileURLToPath(import.meta.url));
const read = (name: string): string | undefined => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : undefined);

function main(): number {
  const text = read('ledger.jsonl');
  const key = read('public-key.pem');
  if (text === undefined || key === undefined) {
    console.error(`${dir} holds no ledger.jsonl and public-key.pem: not an evidence bundle`);
    return 2;
  }
  const parsed = parseLedgerJsonl(text);
  let head: LedgerHead | undefined;
  try {
    head = read('head.json') === undefined ? undefined : (JSON.parse(read('head.json')!) as LedgerHead);
  } catch {
    head = undefined;
  }
  const verdict = parsed.problem ? { ok: false, count: parsed.records.length, problem: parsed.problem } : verifyLedger(parsed.records, key, head);
  if (verdict.ok) {
    console.log(`ledger OK: ${verdict.count} records, chain and signatures intact, ending where the signed head says`);
    return 0;
  }
  console.log(`ledger NOT OK at record ${verdict.problem!.seq}: ${verdict.problem!.what}`);
  return 1;
}

process.exitCode = main();
