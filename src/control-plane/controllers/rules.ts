// The PrometheusRule controller: watches the store's PrometheusRules and keeps their rule groups loaded for the
// embedded Prometheus, as the Prometheus Operator renders PrometheusRules into rule files. A rule that no longer
// loads (checked at apply, so only after an upgrade) is logged and skipped, never half-loaded. The evidence stack
// asks it for the groups on each evaluation; it never reads the store itself.
import { stringify } from 'yaml';
import type { Logger } from '../../core/log.ts';
import { loadRuleFile, type RuleGroup } from '../../evidence/rules/index.ts';
import type { PrometheusRule } from '../../manifests/types.ts';
import type { ResourceStore } from '../store.ts';

export class RuleController {
  private loaded: RuleGroup[] = [];

  constructor(
    private readonly store: Pick<ResourceStore, 'list' | 'watchKind'>,
    private readonly log: Logger,
  ) {
    store.watchKind('PrometheusRule', () => this.load());
    this.load();
  }

  /** Every PrometheusRule's groups, in the resources' order. */
  groups(): RuleGroup[] {
    return this.loaded;
  }

  private load(): void {
    this.loaded = this.store.list('PrometheusRule').flatMap(({ resource }) => {
      const rule = resource as PrometheusRule;
      const name = `${rule.metadata.namespace}/${rule.metadata.name}`;
      try {
        return loadRuleFile(stringify(rule), name);
      } catch (error) {
        this.log.warn('rule groups not loaded', { rule: name, error: (error as Error).message });
        return [];
      }
    });
  }
}
