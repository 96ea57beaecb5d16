// The tamper-evident ledger: every security-relevant event of the stack, sealed into a hash chain signed with an
// Ed25519 key made at first start, in SQLite under `<data dir>/state/`. Appending never blocks the data path: an
// event is queued and the queue is written in one transaction on the next turn of the event loop. The queue is
// bounded; events beyond it are counted and the count itself becomes a record, so a flood shows as a gap the
// ledger admits rather than one it hides.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { UserError } from '../../core/errors.ts';
import { seal, signHead, verifyLedger, type LedgerEntry, type LedgerHead, type LedgerRecord, type Verdict } from './chain.ts';

export const LEDGER_DIR = 'ledger';
export const LEDGER_FILE = 'ledger.db';
export const PRIVATE_KEY_FILE = 'ledger-ed25519.key';
export const PUBLIC_KEY_FILE = 'ledger-ed25519.pub.pem';
export const DEFAULT_QUEUE_LIMIT = 10_000;

export interface LedgerOptions {
  /** Directory for the database and the key pair (`<data dir>/state/ledger`). */
  dir: string;
  queueLimit?: number;
  now?: () => Date;
  onError?: (error: Error) => void;
}

export interface LedgerFiles {
  database: string;
  privateKey: string;
  publicKey: string;
}

export function ledgerFiles(dir: string): LedgerFiles {
  return { database: join(dir, LEDGER_FILE), privateKey: join(dir, PRIVATE_KEY_FILE), publicKey: join(dir, PUBLIC_KEY_FILE) };
}

/** The key pair, made on first use; the private key readable by the owner only. */
function loadOrCreateKeys(files: LedgerFiles): { privateKey: KeyObject; publicKeyPem: string } {
  if (existsSync(files.privateKey)) {
    try {
      const privateKey = createPrivateKey(readFileSync(files.privateKey));
      const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
      if (!existsSync(files.publicKey)) writeFileSync(files.publicKey, publicKeyPem);
      return { privateKey, publicKeyPem };
    } catch (error) {
      throw new UserError(`the ledger's signing key ${files.privateKey} cannot be read (${(error as Error).message}); restore it from a backup: a new key would not verify the records already signed`);
    }
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(files.privateKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  chmodSync(files.privateKey, 0o600);
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  writeFileSync(files.publicKey, publicKeyPem);
  return { privateKey, publicKeyPem };
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    data TEXT NOT NULL,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL,
    sig TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    count INTEGER NOT NULL,
    hash TEXT NOT NULL,
    sig TEXT NOT NULL);`;

interface RecordRow {
  seq: number;
  time: string;
  kind: string;
  subject: string;
  data: string;
  prev: string;
  hash: string;
  sig: string;
}

const fromRow = (row: RecordRow): LedgerRecord => ({ seq: row.seq, time: row.time, kind: row.kind, subject: row.subject, data: JSON.parse(row.data) as Record<string, unknown>, prev: row.prev, hash: row.hash, sig: row.sig });

function openDatabase(path: string): Database.Database {
  try {
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec(SCHEMA);
    return db;
  } catch (error) {
    throw new UserError(`the ledger ${path} cannot be opened (${(error as Error).message}); keep it for the auditor and move it aside to start a new ledger`);
  }
}

/** Read a ledger's records and head from its database, as stored (for `evidence verify` and `export`). */
export function readLedger(dir: string): { records: LedgerRecord[]; head: LedgerHead | undefined; publicKeyPem: string } {
  const files = ledgerFiles(dir);
  if (!existsSync(files.database)) throw new UserError(`no ledger in ${dir}: it is made by \`trustusbank up\``);
  if (!existsSync(files.publicKey)) throw new UserError(`the ledger's public key ${files.publicKey} is missing`);
  const db = new Database(files.database, { readonly: true, fileMustExist: true });
  try {
    // Stored order (rowid), not seq: a reordering must be seen, not sorted away.
    const records = (db.prepare('SELECT seq, time, kind, subject, data, prev, hash, sig FROM records ORDER BY rowid').all() as RecordRow[]).map(fromRow);
    const head = db.prepare('SELECT count, hash, sig FROM head WHERE id = 1').get() as LedgerHead | undefined;
    return { records, head, publicKeyPem: readFileSync(files.publicKey, 'utf8') };
  } catch (error) {
    throw new UserError(`the ledger ${files.database} cannot be read (${(error as Error).message})`);
  } finally {
    db.close();
  }
}

export class Ledger {
  readonly files: LedgerFiles;
  readonly publicKeyPem: string;
  private readonly db: Database.Database;
  private readonly privateKey: KeyObject;
  private readonly queue: LedgerEntry[] = [];
  private readonly queueLimit: number;
  private dropped = 0;
  private scheduled = false;
  private last: { seq: number; hash: string } | undefined;
  private readonly now: () => Date;
  private readonly insert: Database.Statement;
  private readonly putHead: Database.Statement;

  constructor(private readonly options: LedgerOptions) {
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    this.files = ledgerFiles(options.dir);
    const keys = loadOrCreateKeys(this.files);
    this.privateKey = keys.privateKey;
    this.publicKeyPem = keys.publicKeyPem;
    this.db = openDatabase(this.files.database);
    this.queueLimit = options.queueLimit ?? DEFAULT_QUEUE_LIMIT;
    this.now = options.now ?? (() => new Date());
    const tail = this.db.prepare('SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
    this.last = tail;
    this.insert = this.db.prepare('INSERT INTO records (seq, time, kind, subject, data, prev, hash, sig) VALUES (@seq, @time, @kind, @subject, @data, @prev, @hash, @sig)');
    this.putHead = this.db.prepare('INSERT INTO head (id, count, hash, sig) VALUES (1, @count, @hash, @sig) ON CONFLICT(id) DO UPDATE SET count = excluded.count, hash = excluded.hash, sig = excluded.sig');
  }

  /** Queue one event; written on the next turn of the event loop. Never throws, never waits. */
  append(kind: string, subject: string, data: Record<string, unknown> = {}, time: Date = this.now()): void {
    if (this.queue.length >= this.queueLimit) {
      this.dropped++;
    } else {
      this.queue.push({ time: time.toISOString(), kind, subject, data });
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Write what is queued, in one transaction: the records and the new signed head. */
  flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0 && this.dropped === 0) return;
    const batch = this.queue.splice(0);
    if (this.dropped > 0) {
      batch.push({ time: this.now().toISOString(), kind: 'ledger.dropped', subject: 'ledger', data: { events: this.dropped, reason: `more than ${this.queueLimit} events queued at once` } });
      this.dropped = 0;
    }
    try {
      const write = this.db.transaction((entries: LedgerEntry[]) => {
        let last = this.last;
        for (const entry of entries) {
          const record = seal(last, entry, this.privateKey);
          this.insert.run({ ...record, data: JSON.stringify(record.data) });
          last = record;
        }
        this.putHead.run(signHead(last!.seq, last!.hash, this.privateKey));
        return last;
      });
      this.last = write(batch);
    } catch (error) {
      this.options.onError?.(error as Error);
    }
  }

  /** Records in sequence, newest last; `kinds` narrows them. */
  records(options: { sinceSeq?: number; kinds?: readonly string[]; limit?: number } = {}): LedgerRecord[] {
    this.flush();
    const rows = this.db.prepare('SELECT seq, time, kind, subject, data, prev, hash, sig FROM records WHERE seq > ? ORDER BY seq').all(options.sinceSeq ?? 0) as RecordRow[];
    const records = rows.map(fromRow).filter((r) => !options.kinds || options.kinds.includes(r.kind));
    return options.limit !== undefined ? records.slice(-options.limit) : records;
  }

  /** One record by its sequence number, as stored (hash and signature included). */
  record(seq: number): LedgerRecord | undefined {
    this.flush();
    const row = this.db.prepare('SELECT seq, time, kind, subject, data, prev, hash, sig FROM records WHERE seq = ?').get(seq) as RecordRow | undefined;
    return row ? fromRow(row) : undefined;
  }

  verify(): Verdict {
    this.flush();
    const { records, head, publicKeyPem } = readLedger(this.options.dir);
    return verifyLedger(records, publicKeyPem, head);
  }

  close(): void {
    this.flush();
    this.db.close();
  }
}
