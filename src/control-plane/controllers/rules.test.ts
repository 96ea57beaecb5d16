import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { ResourceStore } from '../store.ts';
import { RuleController } from './rules.ts';

const ns = `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: obs`;
const rule = (name: string, expr: string) => `apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: ${name}
  namespace: obs
spec:
  groups:
  - name: ${name}-group
    rules:
    - alert: ${name}Alert
      expr: ${expr}
      labels:
        severity: critical`;

describe('RuleController: PrometheusRules → loaded rule groups for the embedded Prometheus', () => {
  it('loads the groups of every PrometheusRule on change, keeps them across unrelated changes, drops a deleted one', () => {
    const store = new ResourceStore({ log: silentLogger });
    store.apply([{ file: 'ns.yaml', text: ns }]);
    const rules = new RuleController(store, silentLogger);
    expect(rules.groups()).toEqual([]);

    store.apply([{ file: 'r.yaml', text: [rule('a', 'up == 0'), rule('b', 'vector(1) > 0')].join('\n---\n') }]);
    expect(rules.groups().map((g) => [g.name, g.rules.map((r) => r.name)])).toEqual([
      ['a-group', ['aAlert']],
      ['b-group', ['bAlert']],
    ]);
    const loaded = rules.groups();
    store.apply([{ file: 'ns.yaml', text: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: other` }]);
    expect(rules.groups()).toBe(loaded);

    store.delete([{ file: 'r.yaml', text: rule('a', 'up == 0') }]);
    expect(rules.groups().map((g) => g.name)).toEqual(['b-group']);
  });
});
