import { describe, expect, it } from 'vitest';
import { createLogger } from '../core/log.ts';
import { ManifestError } from '../manifests/errors.ts';
import { resourceKey } from '../manifests/index.ts';
import type { KnownResource, LoadedResource } from '../manifests/types.ts';
import type { DesiredStateStore, StoredDocument } from './desired-state.ts';
import { ResourceStore, issueOf, type Controller, type StoreEvent } from './store.ts';

const ns = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}`;
const sa = (name: string, namespace: string) => `apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: ${name}\n  namespace: ${namespace}`;
const svc = (name: string, namespace: string, port = 80) =>
  `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\nspec:\n  selector:\n    app: ${name}\n  ports:\n  - port: ${port}`;
const doc = (file: string, ...texts: string[]) => ({ file, text: texts.join('\n---\n') });

/** A persistent store in memory that records what it was asked to do, so a test sees what would survive a restart. */
function recordingPersist(initial?: StoredDocument[]): DesiredStateStore & { saved: Map<string, string>; writes: number } {
  const saved = new Map<string, string>((initial ?? []).map((d) => [d.key, d.text]));
  let loaded = initial;
  const persist = {
    saved,
    writes: 0,
    location: 'test',
    load: () => loaded,
    commit(put: readonly LoadedResource[], remove: readonly string[]) {
      persist.writes++;
      for (const l of put) saved.set(resourceKey(l.resource), JSON.stringify(l.resource));
      for (const key of remove) saved.delete(key);
      loaded = [];
    },
    replace(all: readonly LoadedResource[]) {
      persist.writes++;
      saved.clear();
      for (const l of all) saved.set(resourceKey(l.resource), JSON.stringify(l.resource));
    },
    close: () => undefined,
  };
  return persist;
}

function newStore(options: { controllers?: Controller[]; persist?: DesiredStateStore; checks?: ConstructorParameters<typeof ResourceStore>[0]['checks'] } = {}) {
  const logged: { msg: string }[] = [];
  const log = createLogger('test', { level: 'debug', write: (line: string) => void logged.push(JSON.parse(line) as { msg: string }) });
  const events: StoreEvent[] = [];
  const store = new ResourceStore({ log, ...options });
  store.watch((event) => events.push(event));
  return { store, events, logged };
}

/** A generating controller: a Service `<sa>-svc` for every ServiceAccount, as the agents controller makes Deployments from Agents. */
const serviceForEachAccount: Controller = {
  derive(resources: readonly KnownResource[]) {
    const generated = resources
      .filter((r) => r.kind === 'ServiceAccount')
      .map((r) => ({ resource: { apiVersion: 'v1', kind: 'Service', metadata: { name: `${r.metadata.name}-svc`, namespace: r.metadata.namespace }, spec: { ports: [{ port: 8080 }] } } as KnownResource, origin: { file: '(generated)', index: 0 } }));
    return { resources: generated, warnings: generated.length > 1 ? ['more than one account'] : [] };
  },
};

describe('ResourceStore: apply, list, derive, watch', () => {
  it('applies a batch, reports what changed, lists it by kind and namespace, and tells the watchers after', () => {
    const { store, events } = newStore();
    const changes = store.apply([doc('a.yaml', ns('bank'), svc('web', 'bank'))]);
    expect(changes.map((c) => [c.key, c.action])).toEqual([
      ['Namespace/bank', 'created'],
      ['Service/bank/web', 'created'],
    ]);
    expect(store.list('Service', 'bank').map((l) => l.resource.metadata.name)).toEqual(['web']);
    expect(store.list('Service', 'other')).toEqual([]);
    expect(events).toHaveLength(1);
    expect(events[0]!.changes.map((c) => c.key)).toEqual(['Namespace/bank', 'Service/bank/web']);

    expect(store.apply([doc('a.yaml', svc('web', 'bank'))]).map((c) => c.action)).toEqual(['unchanged']);
    expect(store.apply([doc('a.yaml', svc('web', 'bank', 81))]).map((c) => c.action)).toEqual(['configured']);
    expect(store.delete([doc('a.yaml', svc('web', 'bank', 81), svc('gone', 'bank'))]).map((c) => c.action)).toEqual(['deleted', 'not found']);
    expect(store.list('Service')).toEqual([]);
    expect(events).toHaveLength(4);
  });

  it('refuses a whole batch when one document is wrong: nothing stored, nothing changed, no watcher called', () => {
    const persist = recordingPersist();
    const { store, events } = newStore({ persist });
    const error = (() => {
      try {
        store.apply([doc('a.yaml', ns('bank'), svc('web', 'nowhere'))]);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).issues).toEqual([expect.objectContaining({ file: 'a.yaml', index: 1, kind: 'Service', name: 'nowhere/web', path: 'metadata.namespace' })]);
    expect(store.list()).toEqual([]);
    expect(events).toEqual([]);
    expect(persist.writes).toBe(0);
  });

  it('refuses the same resource twice in one batch, naming both places', () => {
    const { store } = newStore();
    expect(() => store.apply([doc('a.yaml', ns('bank')), doc('b.yaml', ns('bank'))])).toThrow(/Namespace bank is also defined in a\.yaml document 0/);
  });

  it('runs the checks it was given, in the batch order with the namespace check, before anything is stored', () => {
    const persist = recordingPersist();
    const { store } = newStore({ persist, checks: [(batch) => batch.filter((l) => l.resource.kind === 'ServiceAccount').map((l) => issueOf(l, 'metadata.name', 'no accounts here'))] });
    const error = (() => {
      try {
        store.apply([doc('a.yaml', sa('bot', 'bank'), ns('bank'), svc('x', 'elsewhere'))]);
      } catch (e) {
        return e as ManifestError;
      }
    })();
    expect(error?.issues.map((i) => [i.index, i.path])).toEqual([
      [0, 'metadata.name'],
      [2, 'metadata.namespace'],
    ]);
    expect(persist.writes).toBe(0);
  });

  it('derives resources with its controllers; a user resource of the same key wins; the watchers hear which derived keys moved', () => {
    const { store, events } = newStore({ controllers: [serviceForEachAccount] });
    store.apply([doc('a.yaml', ns('bank'), sa('bot', 'bank'))]);
    expect(store.get('Service/bank/bot-svc')?.origin.file).toBe('(generated)');
    expect(events.at(-1)!.derived).toEqual(['Service/bank/bot-svc']);
    expect(store.warnings).toEqual([]);

    store.apply([doc('user.yaml', svc('bot-svc', 'bank', 9000))]);
    expect(store.list('Service').map((l) => [l.origin.file, (l.resource as { spec: { ports: { port: number }[] } }).spec.ports[0]!.port])).toEqual([['user.yaml', 9000]]);

    store.apply([doc('a.yaml', sa('ops', 'bank'))]);
    expect(events.at(-1)!.derived).toEqual(['Service/bank/ops-svc']);
    expect(store.warnings).toEqual(['more than one account']);

    store.delete([doc('a.yaml', sa('ops', 'bank'))]);
    expect(events.at(-1)!.derived).toEqual(['Service/bank/ops-svc']);
    expect(store.get('Service/bank/ops-svc')).toBeUndefined();
  });

  it('writes a change to the persistent store before it takes effect, and restores it, validated, on the next start', () => {
    const persist = recordingPersist();
    const { store } = newStore({ persist });
    store.apply([doc('a.yaml', ns('bank'), svc('web', 'bank'))]);
    store.delete([doc('a.yaml', svc('web', 'bank'))]);
    expect([...persist.saved.keys()]).toEqual(['Namespace/bank']);

    const again = recordingPersist([...persist.saved].map(([key, text]) => ({ key, text, origin: { file: 'a.yaml', index: 1 } })));
    const { store: restarted, events } = newStore({ persist: again });
    expect(restarted.restore()?.map((c) => [c.key, c.action])).toEqual([['Namespace/bank', 'created']]);
    expect(restarted.list().map((l) => l.origin)).toEqual([{ file: 'a.yaml', index: 1 }]);
    expect(events).toHaveLength(1);
  });

  it('has nothing to restore on a fresh start, and refuses a stored state this version does not accept, naming the store', () => {
    expect(newStore({ persist: recordingPersist() }).store.restore()).toBeUndefined();
    const bad = recordingPersist([{ key: 'Service/gone/web', text: svc('web', 'gone'), origin: { file: 'a.yaml', index: 1 } }]);
    expect(() => newStore({ persist: bad }).store.restore()).toThrow(/desired state stored in test is not valid for this version[\s\S]*namespace "gone" does not exist/);
  });

  it('replaceAll makes a batch the whole state: the rest is deleted, and the batch is validated on its own', () => {
    const { store } = newStore();
    store.apply([doc('a.yaml', ns('bank'), ns('extra'))]);
    const changes = store.replaceAll([doc('init.yaml', ns('bank'), svc('web', 'bank'))]);
    expect(changes.map((c) => [c.key, c.action])).toEqual([
      ['Namespace/bank', 'unchanged'],
      ['Service/bank/web', 'created'],
      ['Namespace/extra', 'deleted'],
    ]);
    // On its own: a Service in a namespace that exists now but not in the batch is refused.
    expect(() => store.replaceAll([doc('init.yaml', svc('web', 'bank'))])).toThrow(ManifestError);
    expect(store.list().map((l) => resourceKey(l.resource))).toEqual(['Namespace/bank', 'Service/bank/web']);
  });

  it('logs each created, configured or deleted resource (the audit trail), not the unchanged ones', () => {
    const { store, logged } = newStore();
    store.apply([doc('a.yaml', ns('bank'))]);
    store.apply([doc('a.yaml', ns('bank'))]);
    expect(logged.filter((l) => l.msg === 'resource changed')).toHaveLength(1);
  });
});
