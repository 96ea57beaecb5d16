// The desired state on disk, as etcd keeps it for Kubernetes: every applied resource, written in one
// transaction with each apply or delete, so that a crash of `up` (or a `down`) does not forget a policy
// and silently turn a defence off. The next `up` restores it; `reset` replaces it with the initial state.
// Resources are stored as the JSON of their validated form and validated again when restored (a newer
// version of the code may refuse what an older one accepted; that must be said, not half-restored).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { UserError } from '../core/errors.ts';
import { resourceKey } from '../manifests/index.ts';
import type { DocumentOrigin, LoadedResource } from '../manifests/types.ts';

/** Under `<data dir>/state/`. */
export const DESIRED_STATE_FILE = 'desired-state.db';

/** A stored resource, ready to be validated again: its JSON (which is YAML) and where it was first applied. */
export interface StoredDocument {
  key: string;
  text: string;
  origin: DocumentOrigin;
}

export interface DesiredStateStore {
  /** Where it is kept (for messages). */
  readonly location: string;
  /** The stored resources, or undefined when nothing was ever stored (a fresh data directory). */
  load(): StoredDocument[] | undefined;
  /** Store these resources and forget those keys, all or nothing. */
  commit(put: readonly LoadedResource[], remove: readonly string[]): void;
  /** Replace everything stored with these resources, all or nothing. */
  replace(all: readonly LoadedResource[]): void;
  close(): void;
}

/** Nothing persisted: the state lives as long as the process (tests, `workload`). */
export function memoryDesiredState(): DesiredStateStore {
  return { location: 'memory', load: () => undefined, commit: () => undefined, replace: () => undefined, close: () => undefined };
}

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE resources (
     key TEXT PRIMARY KEY,
     resource TEXT NOT NULL,
     origin_file TEXT NOT NULL,
     origin_index INTEGER NOT NULL,
     updated_at INTEGER NOT NULL);
   -- one row once anything was stored: an empty desired state is not the same as none
   CREATE TABLE initialized (at INTEGER NOT NULL);`,
];

/** The desired state in a SQLite file; a file that is not a usable database is refused, naming it. */
export function sqliteDesiredState(path: string): DesiredStateStore {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let db: Database.Database;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    migrate(db);
  } catch (error) {
    throw new UserError(`the desired state in ${path} cannot be read (${(error as Error).message}); move it aside to start from the initial manifests`);
  }
  const put = db.prepare<[string, string, string, number, number]>('INSERT OR REPLACE INTO resources (key, resource, origin_file, origin_index, updated_at) VALUES (?, ?, ?, ?, ?)');
  const remove = db.prepare<[string]>('DELETE FROM resources WHERE key = ?');
  const mark = (): void => {
    if (db.prepare('SELECT 1 FROM initialized').get() === undefined) db.prepare('INSERT INTO initialized (at) VALUES (?)').run(Date.now());
  };
  const write = (resources: readonly LoadedResource[]): void => {
    const now = Date.now();
    for (const { resource, origin } of resources) put.run(resourceKey(resource), JSON.stringify(resource), origin.file, origin.index, now);
  };
  const commit = db.transaction((resources: readonly LoadedResource[], keys: readonly string[]) => {
    write(resources);
    for (const key of keys) remove.run(key);
    mark();
  });
  const replace = db.transaction((resources: readonly LoadedResource[]) => {
    db.prepare('DELETE FROM resources').run();
    write(resources);
    mark();
  });
  return {
    location: path,
    load: () => {
      if (db.prepare('SELECT 1 FROM initialized').get() === undefined) return undefined;
      const rows = db.prepare('SELECT key, resource, origin_file, origin_index FROM resources ORDER BY key').all() as { key: string; resource: string; origin_file: string; origin_index: number }[];
      return rows.map((row) => ({ key: row.key, text: row.resource, origin: { file: row.origin_file, index: row.origin_index } }));
    },
    commit: (resources, keys) => commit(resources, keys),
    replace: (resources) => replace(resources),
    close: () => db.close(),
  };
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) throw new Error(`schema version ${version} is newer than this code understands (${MIGRATIONS.length})`);
  for (let next = version; next < MIGRATIONS.length; next++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[next]!);
      db.pragma(`user_version = ${next + 1}`);
    })();
  }
}
