// Opening a workload's SQLite database: WAL so readers never block the writer, and a busy timeout so that
// two processes on one file wait for each other instead of failing. Customer data: the file is the owner's
// alone (SQLite gives its -wal and -shm files the database file's mode).
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ensureDir, ensurePrivateFile } from '../../src/core/data-dir.ts';

export type Db = Database.Database;

export function openDatabase(file: string): Db {
  ensureDir(dirname(file));
  const db = new Database(ensurePrivateFile(file));
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  return db;
}
