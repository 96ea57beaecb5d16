// The ledger: appends that never wait, a chain that survives a restart, and every kind of tampering — edit,
// delete, reorder, forge, truncate — named by `verify` on the database and by the standalone verifier on an
// exported bundle (run as an auditor would: plain `node verify.mjs`, nothing of this project).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportBundle } from './bundle.ts';
import { canonical, parseLedgerJsonl, verifyLedger, type LedgerRecord } from './chain.ts';
import { Ledger, ledgerFiles, readLedger } from './ledger.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tub-ledger-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const ledgerDir = () => join(dir, 'ledger');
function fill(count: number): Ledger {
  const ledger = new Ledger({ dir: ledgerDir() });
  for (let i = 1; i <= count; i++) ledger.append('mesh.deny', 'spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter', { n: i, destination: 'mock-attacker.external-attacker.svc.cluster.local' });
  ledger.flush();
  return ledger;
}
const verifyDb = () => {
  const { records, head, publicKeyPem } = readLedger(ledgerDir());
  return verifyLedger(records, publicKeyPem, head);
};
function tamper(sql: string, ...params: unknown[]): void {
  const db = new Database(ledgerFiles(ledgerDir()).database);
  db.prepare(sql).run(...params);
  db.close();
}

describe('the ledger', () => {
  it('appends without waiting, chains and signs every record, and verifies', async () => {
    const ledger = new Ledger({ dir: ledgerDir() });
    ledger.append('policy.applied', 'AuthorizationPolicy/external-attacker/deny-bank-to-attacker', { action: 'created' });
    // Queued, not yet written: the caller (a data path) did not wait for SQLite.
    expect(readLedger(ledgerDir()).records).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    const [record] = readLedger(ledgerDir()).records;
    expect(record).toMatchObject({ seq: 1, kind: 'policy.applied', prev: '0'.repeat(64), data: { action: 'created' } });
    expect(record!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(ledger.verify()).toEqual({ ok: true, count: 1 });
    ledger.close();
  });

  it('keeps the chain across a restart, with the same key', () => {
    fill(3).close();
    const again = new Ledger({ dir: ledgerDir() });
    again.append('alert.firing', 'IstioAuthZDeny', {});
    expect(again.records().map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(again.records()[3]!.prev).toBe(again.records()[2]!.hash);
    expect(again.verify()).toEqual({ ok: true, count: 4 });
    again.close();
  });

  it('keeps a flood bounded and says how much it dropped, as a record of its own', () => {
    const ledger = new Ledger({ dir: ledgerDir(), queueLimit: 10 });
    for (let i = 0; i < 25; i++) ledger.append('gateway.deny', 'x', { i });
    ledger.flush();
    const records = ledger.records();
    expect(records).toHaveLength(11);
    expect(records[10]).toMatchObject({ kind: 'ledger.dropped', data: { events: 15 } });
    expect(ledger.verify().ok).toBe(true);
    ledger.close();
  });

  it('refuses to start with an unreadable key rather than sign with a new one', () => {
    fill(1).close();
    writeFileSync(ledgerFiles(ledgerDir()).privateKey, 'not a key');
    expect(() => new Ledger({ dir: ledgerDir() })).toThrow(/signing key .* cannot be read .*restore it from a backup/);
  });
});

describe('tampering with the database is named by verify', () => {
  beforeEach(() => fill(5).close());

  it('an edited record', () => {
    tamper("UPDATE records SET data = json_set(data, '$.destination', 'nowhere') WHERE seq = 3");
    expect(verifyDb()).toMatchObject({ ok: false, problem: { seq: 3, what: expect.stringMatching(/record 3 was edited/) } });
  });

  it('an edited record whose hash was recomputed: the signature no longer fits', () => {
    const row = readLedger(ledgerDir()).records[1]!;
    const data = { ...row.data, n: 99 };
    const hash = createHash('sha256').update(canonical({ seq: row.seq, prev: row.prev, time: row.time, kind: row.kind, subject: row.subject, data })).digest('hex');
    tamper('UPDATE records SET data = ?, hash = ? WHERE seq = 2', JSON.stringify(data), hash);
    expect(verifyDb()).toMatchObject({ ok: false, problem: { seq: 2, what: expect.stringMatching(/no valid signature/) } });
  });

  it('a deleted record', () => {
    tamper('DELETE FROM records WHERE seq = 2');
    expect(verifyDb()).toMatchObject({ ok: false, problem: { seq: 2, what: expect.stringMatching(/record 2 is missing \(deleted\)/) } });
  });

  it('records cut off the end', () => {
    tamper('DELETE FROM records WHERE seq > 3');
    expect(verifyDb()).toMatchObject({ ok: false, problem: { seq: 4, what: expect.stringMatching(/truncated: the signed head says 5 records, 3 are left/) } });
  });

  it('a head rewritten to match the cut', () => {
    tamper('DELETE FROM records WHERE seq > 3');
    const third = readLedger(ledgerDir()).records[2]!;
    tamper('UPDATE head SET count = 3, hash = ? WHERE id = 1', third.hash);
    expect(verifyDb()).toMatchObject({ ok: false, problem: { what: expect.stringMatching(/head has no valid signature/) } });
  });
});

describe('the exported bundle and its standalone verifier', () => {
  let bundle: string;
  beforeEach(async () => {
    fill(5).close();
    bundle = join(dir, 'bundle');
    const result = await exportBundle(ledgerDir(), bundle, { alerts: { alerts: [] } });
    expect(result.verdict).toEqual({ ok: true, count: 5 });
    expect(result.files.sort()).toEqual(['README.txt', 'alerts.json', 'head.json', 'ledger.jsonl', 'public-key.pem', 'verify.mjs']);
  });
  /** `node verify.mjs` in the bundle, as an auditor runs it: no loader, no project files. */
  const standalone = async (): Promise<{ code: number; out: string }> => {
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [join(bundle, 'verify.mjs')], { cwd: tmpdir(), env: { PATH: process.env.PATH ?? '' } });
      return { code: 0, out: stdout.trim() };
    } catch (error) {
      const failed = error as { code: number; stdout: string };
      return { code: failed.code, out: failed.stdout.trim() };
    }
  };
  const lines = (): string[] => readFileSync(join(bundle, 'ledger.jsonl'), 'utf8').trimEnd().split('\n');
  const rewrite = (next: string[]): void => writeFileSync(join(bundle, 'ledger.jsonl'), `${next.join('\n')}\n`);

  it('verifies the untouched bundle with nothing but Node', async () => {
    expect(await standalone()).toEqual({ code: 0, out: 'ledger OK: 5 records, chain and signatures intact, ending where the signed head says' });
    expect(readFileSync(join(bundle, 'verify.mjs'), 'utf8')).not.toMatch(/from ['"](?!node:)/);
  });

  it.each([
    ['an edited line', (l: string[]) => l.map((line, i) => (i === 2 ? line.replace('"n":3', '"n":4') : line)), /record 3: record 3 was edited/],
    ['a deleted line', (l: string[]) => l.filter((_, i) => i !== 1), /record 2: record 2 is missing \(deleted\)/],
    ['two lines swapped', (l: string[]) => [l[0]!, l[2]!, l[1]!, l[3]!, l[4]!], /record 2: the records are reordered: record 3 stands where record 2 belongs/],
    ['the last lines cut', (l: string[]) => l.slice(0, 3), /record 4: the ledger was truncated: the signed head says 5 records, 3 are left/],
    ['a line that is no record', (l: string[]) => [...l.slice(0, 4), '{"seq":5,'], /record 5: line 5 of the ledger is not a record/],
  ])('names %s', async (_what, change, message) => {
    rewrite(change(lines()));
    const result = await standalone();
    expect(result.code).toBe(1);
    expect(result.out).toMatch(message);
  });

  it('refuses to export over a directory that holds files', async () => {
    await expect(exportBundle(ledgerDir(), bundle)).rejects.toThrow(/is not empty/);
  });

  it('parses what it exported back to the same records', () => {
    const parsed = parseLedgerJsonl(readFileSync(join(bundle, 'ledger.jsonl'), 'utf8'));
    expect(parsed.problem).toBeUndefined();
    expect(parsed.records.map((r: LedgerRecord) => r.seq)).toEqual([1, 2, 3, 4, 5]);
  });
});
