// Inhibition (inhibit/inhibit.go): a firing source alert mutes target alerts that agree on the `equal` labels.
import type { Alert } from './alerts.ts';
import { isResolvedAt } from './alerts.ts';
import type { InhibitRule } from './config.ts';
import type { Labels } from './labels.ts';
import { matchesAll } from './matchers.ts';

/** Fingerprints of the alerts that inhibit `labels` (the first found, per Alertmanager), or []. */
export function inhibitedBy(labels: Labels, rules: readonly InhibitRule[], alerts: readonly Alert[], now: number): string[] {
  for (const rule of rules) {
    if (!matchesAll(rule.targetMatchers, labels)) continue;
    // An alert on both sides of a rule may not be inhibited by another that is also on both sides, or two
    // such alerts would silence each other.
    const excludeTwoSided = matchesAll(rule.sourceMatchers, labels);
    for (const source of alerts) {
      if (isResolvedAt(source, now) || !matchesAll(rule.sourceMatchers, source.labels)) continue;
      if (!rule.equal.every((name) => (source.labels[name] ?? '') === (labels[name] ?? ''))) continue;
      if (excludeTwoSided && matchesAll(rule.targetMatchers, source.labels)) continue;
      return [source.fingerprint];
    }
  }
  return [];
}
