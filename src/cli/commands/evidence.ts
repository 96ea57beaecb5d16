// `trustusbank evidence`: the tamper-evident ledger of security events. It reads the ledger's files in the data
// directory directly, so it works whether the stack runs or not (what is still queued in a running stack is
// written within one turn of its event loop).
import { join } from 'node:path';
import { resolveDataDir } from '../../core/data-dir.ts';
import { UsageError } from '../../core/errors.ts';
import { verifyLedger } from '../../evidence/ledger/chain.ts';
import { exportBundle } from '../../evidence/ledger/bundle.ts';
import { LEDGER_DIR, readLedger } from '../../evidence/ledger/ledger.ts';
import { printable } from '../../evidence/inbox/index.ts';
import { readLiveStack } from '../../runtime/stack-state.ts';
import { dataDirHelp, printJson, stackCommand } from '../stack-command.ts';
import { formatTable } from '../table.ts';

const usage = `Usage: trustusbank evidence list [--kind KIND] [--limit N] [--json] [--data-dir DIR]
       trustusbank evidence verify [--json] [--data-dir DIR]
       trustusbank evidence export DIR [--data-dir DIR]

The ledger: every security event of the stack (each deny at each layer, policy applied or removed, image
retag, admission refusal, tool drift, alert firing or resolved, mail sent and received), hash-chained and
signed with an Ed25519 key made at the first \`up\` (<data dir>/state/${LEDGER_DIR}/).

  list     the records, oldest first (--kind mesh.deny, --limit 20)
  verify   check every hash, signature and link, and the signed head; names the first bad record; exit 1
  export   write a bundle for an auditor into DIR (new or empty): ledger.jsonl, head.json, public-key.pem,
           verify.mjs (a verifier needing only Node: \`node verify.mjs\`), README.txt, and the running stack's
           alerts and mail at export time

Options:
  --json           print JSON
${dataDirHelp()}
  -h, --help       show this help`;

export const evidenceCommand = stackCommand({
  name: 'evidence',
  summary: 'the signed ledger of security events: list, verify, export',
  usage,
  options: { json: { type: 'boolean' }, kind: { type: 'string' }, limit: { type: 'string' } },
  maxPositionals: Infinity,
  async run({ values, positionals, stack }) {
    const [action, ...rest] = positionals;
    const dataDir = resolveDataDir(values['data-dir']);
    const ledgerDir = join(dataDir, 'state', LEDGER_DIR);
    switch (action) {
      case 'list': {
        if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`, usage);
        const limit = values.limit === undefined ? undefined : Number(values.limit);
        if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new UsageError(`--limit must be a positive whole number, not "${values.limit}"`, usage);
        let records = readLedger(ledgerDir).records;
        if (values.kind) records = records.filter((r) => r.kind === values.kind);
        if (limit !== undefined) records = records.slice(-limit);
        if (values.json) printJson(records);
        else if (records.length === 0) console.log('No record.');
        else console.log(formatTable(['SEQ', 'TIME', 'KIND', 'SUBJECT', 'HASH'], records.map((r) => [String(r.seq), r.time, r.kind, printable(r.subject), `${r.hash.slice(0, 12)}…`])));
        return 0;
      }
      case 'verify': {
        if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`, usage);
        const { records, head, publicKeyPem } = readLedger(ledgerDir);
        const verdict = verifyLedger(records, publicKeyPem, head);
        if (values.json) printJson(verdict);
        else if (verdict.ok) console.log(`Ledger OK: ${verdict.count} records, every hash, signature and link intact, ending where the signed head says.`);
        else console.log(`Ledger NOT OK at record ${verdict.problem!.seq}: ${verdict.problem!.what}`);
        return verdict.ok ? 0 : 1;
      }
      case 'export': {
        if (rest.length !== 1) throw new UsageError('evidence export needs one directory', usage);
        const snapshots: Record<string, unknown> = {};
        if (readLiveStack(dataDir)) {
          snapshots.alerts = await stack().call('GET', '/alerts').catch((error: unknown) => ({ error: (error as Error).message }));
          snapshots.mail = await stack().call('GET', '/mail').catch((error: unknown) => ({ error: (error as Error).message }));
          // The dashboard's data, the deny log, the incidents and the traces they cite, as the stack has them now.
          const now = await stack().call<Record<string, unknown>>('GET', '/evidence/snapshot').catch((error: unknown) => ({ error: (error as Error).message }) as Record<string, unknown>);
          if ('error' in now) snapshots.snapshot = now;
          else Object.assign(snapshots, now);
        }
        const result = await exportBundle(ledgerDir, rest[0]!, snapshots);
        console.log(`Wrote ${result.files.join(', ')} to ${result.dir}`);
        console.log(result.verdict.ok ? `The ledger verified: ${result.verdict.count} records. Check it again anywhere with: node ${join(result.dir, 'verify.mjs')}` : `The ledger did NOT verify (record ${result.verdict.problem!.seq}: ${result.verdict.problem!.what}); exported as found.`);
        return result.verdict.ok ? 0 : 1;
      }
      case undefined:
        throw new UsageError('evidence needs an action: list, verify or export', usage);
      default:
        throw new UsageError(`unknown action "${action}" (list, verify, export)`, usage);
    }
  },
});
