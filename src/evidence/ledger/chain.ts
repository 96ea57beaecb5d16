// The ledger's chain: each record is hashed over the previous record's hash and its own canonical body, and the
// hash is signed with the stack's Ed25519 key. A signed head (how many records, the last hash) closes the chain,
// so that cutting records off its end is as visible as editing, deleting or reordering one inside it.
// Only node:crypto here: this file is bundled, as is, into the standalone verifier of an exported bundle.
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

export const GENESIS = '0'.repeat(64);

/** What an event says, before it is sealed. */
export interface LedgerEntry {
  /** ISO 8601 time of the event. */
  time: string;
  /** What happened: `mesh.deny`, `gateway.deny`, `policy.applied`, `alert.firing`, `mail.received`, … */
  kind: string;
  /** Who or what it is about, in one line (a SPIFFE id, a resource, an alert). */
  subject: string;
  data: Record<string, unknown>;
}

export interface LedgerRecord extends LedgerEntry {
  seq: number;
  prev: string;
  hash: string;
  /** Base64 Ed25519 signature of the hash's bytes. */
  sig: string;
}

export interface LedgerHead {
  count: number;
  hash: string;
  sig: string;
}

/** JSON with object keys sorted, no whitespace: the bytes the hash is taken over. */
export function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

export function recordHash(seq: number, prev: string, entry: LedgerEntry): string {
  return createHash('sha256')
    .update(canonical({ seq, prev, time: entry.time, kind: entry.kind, subject: entry.subject, data: entry.data }))
    .digest('hex');
}

const headMessage = (count: number, hash: string): Buffer => Buffer.from(`trustusbank-ledger-head\n${count}\n${hash}`);

export function seal(previous: { seq: number; hash: string } | undefined, entry: LedgerEntry, privateKey: KeyObject): LedgerRecord {
  const seq = previous ? previous.seq + 1 : 1;
  const prev = previous?.hash ?? GENESIS;
  const hash = recordHash(seq, prev, entry);
  return { seq, prev, ...entry, hash, sig: sign(null, Buffer.from(hash, 'hex'), privateKey).toString('base64') };
}

export function signHead(count: number, hash: string, privateKey: KeyObject): LedgerHead {
  return { count, hash, sig: sign(null, headMessage(count, hash), privateKey).toString('base64') };
}

export interface Verdict {
  ok: boolean;
  /** Records read. */
  count: number;
  /** The first problem, naming the record: edited, deleted, reordered, inserted, forged, truncated. */
  problem?: { seq: number; what: string };
}

/**
 * Check every record's hash, signature and place in the chain, then the head. Records are taken in the order
 * stored; the first problem found is named (later ones may follow from it).
 */
export function verifyLedger(records: readonly LedgerRecord[], publicKeyPem: string, head: LedgerHead | undefined): Verdict {
  let key: KeyObject;
  try {
    key = createPublicKey(publicKeyPem);
  } catch (error) {
    return { ok: false, count: records.length, problem: { seq: 0, what: `the public key cannot be read: ${(error as Error).message}` } };
  }
  const bad = (seq: number, what: string): Verdict => ({ ok: false, count: records.length, problem: { seq, what } });
  let prevHash = GENESIS;
  for (let index = 0; index < records.length; index++) {
    const record = records[index]!;
    const expectedSeq = index + 1;
    if (record.seq !== expectedSeq) {
      const later = records.slice(index + 1).some((r) => r.seq === expectedSeq);
      if (record.seq > expectedSeq && !later) return bad(expectedSeq, `record ${expectedSeq} is missing (deleted): record ${record.seq} follows record ${expectedSeq - 1}`);
      return bad(expectedSeq, `the records are reordered: record ${record.seq} stands where record ${expectedSeq} belongs`);
    }
    if (!verifySignature(key, record)) return bad(record.seq, `record ${record.seq} has no valid signature of the stack's key (forged or its hash replaced)`);
    if (recordHash(record.seq, record.prev, record) !== record.hash) return bad(record.seq, `record ${record.seq} was edited: its content no longer matches its signed hash`);
    if (record.prev !== prevHash) return bad(record.seq, `record ${record.seq} does not follow record ${record.seq - 1}: the chain is broken (a record was replaced or reordered)`);
    prevHash = record.hash;
  }
  if (!head) return bad(records.length, 'the signed head is missing: records may have been cut off the end');
  let headOk = false;
  try {
    headOk = verify(null, headMessage(head.count, head.hash), key, Buffer.from(head.sig, 'base64'));
  } catch {
    headOk = false;
  }
  if (!headOk) return bad(head.count, 'the head has no valid signature of the stack\'s key');
  if (head.count !== records.length || head.hash !== prevHash) {
    if (head.count > records.length) return bad(records.length + 1, `the ledger was truncated: the signed head says ${head.count} records, ${records.length} are left`);
    return bad(head.count + 1, `the ledger does not end where its signed head says (record ${head.count}, hash ${head.hash.slice(0, 12)}…)`);
  }
  return { ok: true, count: records.length };
}

function verifySignature(key: KeyObject, record: LedgerRecord): boolean {
  try {
    return /^[0-9a-f]{64}$/.test(record.hash) && verify(null, Buffer.from(record.hash, 'hex'), key, Buffer.from(record.sig, 'base64'));
  } catch {
    return false;
  }
}

/** An exported ledger (`ledger.jsonl`): one record per line. A line that is not a record is named, not skipped. */
export function parseLedgerJsonl(text: string): { records: LedgerRecord[]; problem?: { seq: number; what: string } } {
  const records: LedgerRecord[] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (let index = 0; index < lines.length; index++) {
    let record: LedgerRecord;
    try {
      record = JSON.parse(lines[index]!) as LedgerRecord;
    } catch {
      return { records, problem: { seq: index + 1, what: `line ${index + 1} of the ledger is not a record (edited or cut)` } };
    }
    const fields: [keyof LedgerRecord, string][] = [['seq', 'number'], ['time', 'string'], ['kind', 'string'], ['subject', 'string'], ['data', 'object'], ['prev', 'string'], ['hash', 'string'], ['sig', 'string']];
    const missing = fields.filter(([name, type]) => typeof record?.[name] !== type || record[name] === null).map(([name]) => name);
    if (missing.length > 0) return { records, problem: { seq: index + 1, what: `line ${index + 1} of the ledger lacks ${missing.join(', ')}` } };
    records.push(record);
  }
  return { records };
}
