import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.ts';
import { parseManifests, resourceKey } from '../manifests/index.ts';
import { tempDir } from '../../testing/workloads.ts';
import { sqliteDesiredState } from './desired-state.ts';

const dirs: { remove(): void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));
const dir = () => {
  const d = tempDir('tub-state-');
  dirs.push(d);
  return d.path;
};

const resources = parseManifests(
  ['apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: b', 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: bot\n  namespace: a'].join('\n---\n'),
  'deploy/x.yaml',
);

describe('the desired state on disk', () => {
  it('has nothing on a fresh data directory, and an empty state once everything was deleted', () => {
    const file = join(dir(), 'state', 'desired-state.db');
    const store = sqliteDesiredState(file);
    expect(store.load()).toBeUndefined();
    store.commit(resources, []);
    store.commit([], resources.map((l) => resourceKey(l.resource)));
    expect(store.load()).toEqual([]);
    store.replace([]);
    expect(store.load()).toEqual([]);
    store.close();
  });

  it('keeps what was committed across a reopen, with each resource as valid JSON and where it came from', () => {
    const file = join(dir(), 'desired-state.db');
    const store = sqliteDesiredState(file);
    store.commit(resources, []);
    store.commit([], [resourceKeyOf(1)]);
    store.close();
    const reopened = sqliteDesiredState(file);
    const loaded = reopened.load()!;
    expect(loaded.map((d) => d.key).sort()).toEqual([resourceKeyOf(0), resourceKeyOf(2)].sort());
    const again = loaded.flatMap((d) => parseManifests(d.text, d.origin.file).map((l) => l.resource));
    expect(again).toEqual(expect.arrayContaining([resources[0]!.resource, resources[2]!.resource]));
    expect(loaded.find((d) => d.key === resourceKeyOf(2))!.origin).toEqual({ file: 'deploy/x.yaml', index: 2 });
    reopened.close();
  });

  it('replaces everything in one step', () => {
    const store = sqliteDesiredState(join(dir(), 'desired-state.db'));
    store.commit(resources, []);
    store.replace([resources[1]!]);
    expect(store.load()!.map((d) => d.key)).toEqual([resourceKeyOf(1)]);
    store.close();
  });

  it('refuses a file that is not a database, naming it', () => {
    const file = join(dir(), 'desired-state.db');
    writeFileSync(file, 'this is not SQLite, it is a file a user put here by mistake'.repeat(100));
    expect(() => sqliteDesiredState(file)).toThrow(UserError);
    expect(() => sqliteDesiredState(file)).toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.*move it aside`));
  });
});

function resourceKeyOf(i: number): string {
  return resourceKey(resources[i]!.resource);
}
