// `trustusbank evidence export DIR`: a self-contained bundle an auditor can check without this project: the
// ledger as JSON lines, its signed head, the public key, the standalone verifier (one file, Node's built-ins
// only) and a README saying how. Whatever else the running stack can say at export time (alerts, mail) is added
// as snapshots beside it; the ledger alone is the tamper-evident part.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { UserError } from '../../core/errors.ts';
import { verifyLedger, type Verdict } from './chain.ts';
import { readLedger } from './ledger.ts';

const STANDALONE = join(import.meta.dirname, `standalone.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`);

export interface ExportResult {
  dir: string;
  files: string[];
  verdict: Verdict;
}

export async function exportBundle(ledgerDir: string, outDir: string, snapshots: Record<string, unknown> = {}): Promise<ExportResult> {
  if (existsSync(outDir) && readdirSync(outDir).length > 0) throw new UserError(`${outDir} is not empty: export into a new or empty directory`);
  const { records, head, publicKeyPem } = readLedger(ledgerDir);
  const verdict = verifyLedger(records, publicKeyPem, head);
  const verifier = await build({ entryPoints: [STANDALONE], bundle: true, platform: 'node', format: 'esm', target: 'node18', write: false, logLevel: 'silent', legalComments: 'none' });
  mkdirSync(outDir, { recursive: true });
  const files: Record<string, string> = {
    'ledger.jsonl': records.map((r) => JSON.stringify(r)).join('\n') + (records.length > 0 ? '\n' : ''),
    'head.json': `${JSON.stringify(head ?? null, null, 2)}\n`,
    'public-key.pem': publicKeyPem,
    'verify.mjs': verifier.outputFiles[0]!.text,
    'README.txt': readme(records.length, verdict),
    ...Object.fromEntries(Object.entries(snapshots).map(([name, value]) => [`${name}.json`, `${JSON.stringify(value, null, 2)}\n`])),
  };
  for (const [name, content] of Object.entries(files)) writeFileSync(join(outDir, name), content);
  return { dir: outDir, files: Object.keys(files), verdict };
}

function readme(count: number, verdict: Verdict): string {
  return `TrustUsBank evidence bundle, exported ${new Date().toISOString()}

ledger.jsonl    ${count} security events, one JSON record per line: seq, time, kind, subject, data, the previous
                record's hash (prev), this record's SHA-256 over its canonical JSON (hash) and an Ed25519
                signature of that hash (sig).
head.json       the signed head: how many records the ledger held and the last hash. Cutting records off the
                end is detected against it.
public-key.pem  the stack's ledger key (Ed25519, SPKI PEM).
verify.mjs      the verifier, Node's built-ins only:  node verify.mjs
                It names the first record edited, deleted, reordered, forged or cut off.
*.json          snapshots of the running stack at export time (not signed; the ledger is the evidence):
                dashboard.json (every DORA dashboard panel's query and answer), deny-log.json (each layer's
                refusals from the logs, with trace ids), incidents.json (the records derived from the ledger),
                traces.json (the spans of every trace an incident cites, OTLP JSON), alerts.json, mail.json.

At export the ledger verified: ${verdict.ok ? 'OK' : `NOT OK at record ${verdict.problem!.seq}: ${verdict.problem!.what}`}.
What it cannot prove: that the holder of the private key did not rewrite the whole ledger and re-sign it;
anchor the head elsewhere (a ticket, a mail to the auditor) to close that.
`;
}
