// A bank database that is damaged on disk: the service refuses to start with an error naming the file and
// what is wrong (never a stack trace, never a silent re-seed that would reset balances). The clean path: a
// new file and a healthy existing one open, and the data in it is kept.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.ts';
import { tempDir } from '../../testing/workloads.ts';
import { DatabaseFileError, openDatabase } from './sqlite.ts';

const dir = tempDir('tub-sqlite-');
afterAll(() => dir.remove());

describe('openDatabase', () => {
  it('opens a new file and an existing healthy one, keeping its rows', () => {
    const file = join(dir.path, 'bank', 'healthy.sqlite');
    const db = openDatabase(file);
    db.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (42);');
    db.close();
    const again = openDatabase(file);
    expect(again.prepare('SELECT x FROM t').get()).toEqual({ x: 42 });
    again.close();
  });

  it('refuses a file that is not a database, naming it and the cause', () => {
    const file = join(dir.path, 'garbage.sqlite');
    writeFileSync(file, 'this is not a database, it is a note someone saved over it\n'.repeat(200));
    const attempt = () => openDatabase(file);
    expect(attempt).toThrow(DatabaseFileError);
    expect(attempt).toThrow(UserError);
    expect(attempt).toThrow(`cannot use the database ${file}: file is not a database (SQLITE_NOTADB). Restore it from a backup`);
    // Nothing was done to the file: the bytes are still there to be restored or examined.
    expect(readFileSync(file, 'utf8')).toMatch(/^this is not a database/);
  });

  it('refuses a database whose pages are damaged behind a valid header', () => {
    const file = join(dir.path, 'damaged.sqlite');
    const db = openDatabase(file);
    db.exec(`CREATE TABLE t (x TEXT); CREATE INDEX tx ON t (x);`);
    const insert = db.prepare('INSERT INTO t VALUES (?)');
    for (let i = 0; i < 2000; i++) insert.run(`row ${i} ${'x'.repeat(50)}`);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.pragma('journal_mode = DELETE');
    db.close();
    const bytes = readFileSync(file);
    // Keep the header and the schema page; scribble over every page after them.
    bytes.fill(0x5a, 4096 * 2);
    writeFileSync(file, bytes);
    expect(() => openDatabase(file)).toThrow(new RegExp(`cannot use the database ${file.replace(/[.]/g, '\\.')}: .*(damaged|malformed)`));
  });
});
