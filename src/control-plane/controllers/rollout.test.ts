import { describe, expect, it } from 'vitest';
import { parseManifests } from '../../manifests/index.ts';
import type { Deployment } from '../../manifests/types.ts';
import { planRollout, templateHashOf } from './rollout.ts';

const pod = (name: string, templateHash: string, ready: boolean, phase = ready ? 'Running' : 'Pending') => ({ name, templateHash, ready, phase });
const names = (plan: { remove: { name: string }[] }) => plan.remove.map((p) => p.name);

describe('planRollout: the Deployment controller decides without processes', () => {
  it('creates the missing replicas of a new Deployment', () => {
    expect(planRollout([], 'new', 2)).toEqual({ create: 2, remove: [] });
  });

  it('keeps the old pod until every new replica is ready (a refused or crashing new pod takes nothing down)', () => {
    const old = pod('old', 'A', true);
    expect(planRollout([old], 'B', 1)).toEqual({ create: 1, remove: [] });
    expect(planRollout([old, pod('new', 'B', false)], 'B', 1)).toEqual({ create: 0, remove: [] });
    expect(names(planRollout([old, pod('new', 'B', true)], 'B', 1))).toEqual(['old']);
    expect(names(planRollout([old, pod('new1', 'B', true), pod('new2', 'B', false)], 'B', 2))).toEqual([]);
  });

  it('removes surplus pods of the wanted template, and everything when scaled to zero', () => {
    expect(names(planRollout([pod('a', 'A', true), pod('b', 'A', true), pod('c', 'A', false)], 'A', 1))).toEqual(['b', 'c']);
    expect(planRollout([pod('a', 'A', true), pod('old', 'Z', true)], 'A', 0)).toEqual({ create: 0, remove: [pod('a', 'A', true), pod('old', 'Z', true)] });
  });

  it('ignores pods already on their way out', () => {
    expect(planRollout([pod('gone', 'A', false, 'Terminating'), pod('dead', 'A', false, 'Terminated')], 'A', 1)).toEqual({ create: 1, remove: [] });
  });

  it('a new digest behind the same tag is a new template (the rug-pull rolls), the same inputs the same one', () => {
    const [loaded] = parseManifests(
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: fx\n  namespace: tools\nspec:\n  selector:\n    matchLabels:\n      app: fx\n  template:\n    metadata:\n      labels:\n        app: fx\n    spec:\n      containers:\n      - name: fx\n        image: acme-fx/currency-converter:1.0.0',
      'fx.yaml',
    );
    const deployment = loaded!.resource as Deployment;
    expect(templateHashOf(deployment, 'sha256:aa')).toBe(templateHashOf(deployment, 'sha256:aa'));
    expect(templateHashOf(deployment, 'sha256:aa')).not.toBe(templateHashOf(deployment, 'sha256:bb'));
    expect(templateHashOf(deployment, 'sha256:aa')).toMatch(/^[0-9a-f]{10}$/);
  });
});
