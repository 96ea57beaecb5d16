// Opening a workload's SQLite database: WAL so readers never block the writer, and a busy timeout so that
// two processes on one file wait for each other instead of failing. Customer data: the file is the owner's
// alone (SQLite gives its -wal and -shm files the database file's mode).
//
// A database that is damaged stops the service at start with an error naming the file and what is wrong
// (the supervisor shows it as the pod's last termination, and `up` fails fast with it). It is never moved
// aside or re-seeded automatically: seeding a fresh file would silently reset every balance and flag.
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ensureDir, ensurePrivateFile } from '../../src/core/data-dir.ts';
import { UserError } from '../../src/core/errors.ts';

export type Db = Database.Database;

export class DatabaseFileError extends UserError {
  override readonly name = 'DatabaseFileError';
  constructor(
    readonly file: string,
    readonly problem: string,
    damaged: boolean,
  ) {
    super(`cannot use the database ${file}: ${problem}${damaged ? '. Restore it from a backup (moving it aside starts the service from its seed data)' : ''}`);
  }
}

export function openDatabase(file: string): Db {
  ensureDir(dirname(file));
  let db: Db | undefined;
  try {
    db = new Database(ensurePrivateFile(file));
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    // A damaged page inside a valid header opens fine and fails on the first query that touches it: check
    // now (the bank's files are small; this is milliseconds), so the damage is found at start, not by a customer.
    const check = db.pragma('quick_check', { simple: true }) as string;
    if (check !== 'ok') throw new DatabaseFileError(file, `damaged (quick_check: ${check})`, true);
    return db;
  } catch (error) {
    db?.close();
    if (error instanceof DatabaseFileError) throw error;
    const code = (error as { code?: string }).code;
    throw new DatabaseFileError(file, `${(error as Error).message}${code ? ` (${code})` : ''}`, code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT');
  }
}
