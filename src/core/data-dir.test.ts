// The leak: a data directory of 0755 and databases of 0644 let every local user read the bank's customers
// and the agents' conversations. The clean path: the stack still creates, opens and writes them.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../apps/lib/sqlite.ts';
import { tempDir } from '../../testing/workloads.ts';
import { SessionStore } from '../agents/sessions.ts';
import { ensurePrivateDir, ensurePrivateFile, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from './data-dir.ts';

const mode = (path: string): number => statSync(path).mode & 0o777;

describe('private state', () => {
  const dirs: { remove(): void }[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));
  const scratch = (): string => {
    const dir = tempDir('tub-modes-');
    dirs.push(dir);
    return dir.path;
  };

  it('creates the data directory 0700 and tightens one an older version left 0755', () => {
    const root = scratch();
    expect(mode(ensurePrivateDir(join(root, 'fresh', 'data')))).toBe(PRIVATE_DIR_MODE);
    const old = join(root, 'old');
    mkdirSync(old, { mode: 0o755 });
    chmodSync(old, 0o755);
    expect(mode(ensurePrivateDir(old))).toBe(0o700);
  });

  it('creates a private file 0600 and tightens an existing 0644 one without touching its bytes', () => {
    const root = scratch();
    expect(mode(ensurePrivateFile(join(root, 'new.sqlite')))).toBe(PRIVATE_FILE_MODE);
    const old = join(root, 'old.sqlite');
    writeFileSync(old, 'kept', { mode: 0o644 });
    chmodSync(old, 0o644);
    ensurePrivateFile(old);
    expect(mode(old)).toBe(0o600);
    expect(statSync(old).size).toBe(4);
  });

  it("keeps a bank database and its WAL files the owner's alone, whatever the umask", () => {
    const root = scratch();
    const file = join(root, 'bank', 'accounts.sqlite');
    const db = openDatabase(file);
    try {
      db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
      expect(db.prepare('SELECT x FROM t').get()).toEqual({ x: 1 });
      for (const path of [file, `${file}-wal`, `${file}-shm`]) expect([path, mode(path)]).toEqual([path, 0o600]);
      expect(mode(join(root, 'bank'))).toBe(0o700);
    } finally {
      db.close();
    }
  });

  it("keeps an agent's session store the owner's alone", () => {
    const root = scratch();
    const file = join(root, 'volumes', 'ns', 'agent', 'sessions.sqlite');
    const store = SessionStore.open(file);
    try {
      for (const path of [file, `${file}-wal`, `${file}-shm`]) expect([path, mode(path)]).toEqual([path, 0o600]);
    } finally {
      store.close();
    }
  });

  it('gives a process under restrictUmask 0600 files and 0700 directories for anything it writes', () => {
    const root = scratch();
    const script = `
      import { mkdirSync, writeFileSync } from 'node:fs';
      import { restrictUmask } from ${JSON.stringify(new URL('./data-dir.ts', import.meta.url).pathname)};
      restrictUmask();
      mkdirSync(${JSON.stringify(join(root, 'logs'))});
      writeFileSync(${JSON.stringify(join(root, 'logs', 'up.log'))}, 'line');`;
    execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd() });
    expect(mode(join(root, 'logs'))).toBe(0o700);
    expect(mode(join(root, 'logs', 'up.log'))).toBe(0o600);
  });
});
