import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../core/log.ts';
import { ResourceStore } from '../store.ts';
import { AdmissionController } from './admission.ts';

const ADMISSION = join(import.meta.dirname, '..', '..', '..', 'deploy', 'manifests', 'policies', 'admission');
const shipped = readdirSync(ADMISSION)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => ({ file: join(ADMISSION, f), text: readFileSync(join(ADMISSION, f), 'utf8') }));

describe('AdmissionController: ClusterPolicies → the set the admission check reads', () => {
  it('holds the shipped verifyImages policy once applied, and nothing once it is deleted; other kinds do not disturb it', () => {
    const store = new ResourceStore({ log: silentLogger });
    const admission = new AdmissionController(store);
    expect(admission.policies()).toEqual([]);
    store.apply(shipped);
    const applied = admission.policies();
    expect(applied.length).toBeGreaterThan(0);
    expect(applied.every((p) => p.kind === 'ClusterPolicy')).toBe(true);
    store.apply([{ file: 'ns.yaml', text: 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: other' }]);
    expect(admission.policies()).toBe(applied);
    store.delete(shipped);
    expect(admission.policies()).toEqual([]);
  });
});
