// The ledger's cost per event, against the same run's baseline: writing the same JSON rows to SQLite in batches
// of the same size, with no hash and no signature. What the ledger adds is the canonical JSON, the SHA-256 and
// the Ed25519 signature of each record, and the signed head per batch. Also the cost to the caller: `append`
// only queues, so the data path pays that, not the write.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Ledger } from '../src/evidence/ledger/ledger.ts';
import { report, sized, summarise } from './stats.ts';

const BATCHES = sized(40, 3);
const BATCH = sized(250, 20);
const EVENT = { source: 'spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter', destination: 'mock-attacker.external-attacker.svc.cluster.local', reason: 'connection closed due to policy rejection: explicitly denied by: external-attacker/deny-bank-to-attacker' };

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tub-ledger-bench-'));
  try {
    const plain = new Database(join(dir, 'plain.db'));
    plain.pragma('journal_mode = WAL');
    plain.exec('CREATE TABLE records (seq INTEGER PRIMARY KEY, time TEXT, kind TEXT, subject TEXT, data TEXT)');
    const insert = plain.prepare('INSERT INTO records (time, kind, subject, data) VALUES (?, ?, ?, ?)');
    const writeBatch = plain.transaction((n: number) => {
      for (let i = 0; i < n; i++) insert.run(new Date().toISOString(), 'mesh.deny', EVENT.source, JSON.stringify({ ...EVENT, n: i }));
    });
    const ledger = new Ledger({ dir: join(dir, 'ledger') });

    const baseline: number[] = [];
    const sealed: number[] = [];
    const queued: number[] = [];
    for (let b = 0; b < BATCHES; b++) {
      let started = performance.now();
      writeBatch(BATCH);
      baseline.push((performance.now() - started) / BATCH);

      started = performance.now();
      for (let i = 0; i < BATCH; i++) ledger.append('mesh.deny', EVENT.source, { ...EVENT, n: i });
      const afterQueue = performance.now();
      ledger.flush();
      queued.push((afterQueue - started) / BATCH);
      sealed.push((performance.now() - started) / BATCH);
    }
    if (!ledger.verify().ok) throw new Error('the benchmark ledger does not verify');
    report(`ledger: cost per event, ${BATCHES} batches of ${BATCH} (one transaction each)`, summarise('plain SQLite insert, same rows (baseline)', baseline), [
      summarise('ledger append + write (hash, sign, head)', sealed),
      summarise('ledger append alone (what the caller waits)', queued),
    ]);
    ledger.close();
    plain.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
