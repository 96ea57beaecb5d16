// Evaluating rule groups as Prometheus' rules manager does: every interval, each rule in order at the same
// timestamp, its output written to the store (recorded series; ALERTS and ALERTS_FOR_STATE for alerts), series a
// rule no longer produces marked stale. Alerts go pending → firing after `for`, stay firing for `keep_firing_for`
// after their condition clears, then resolve (kept 15 min as inactive, as Prometheus keeps them for re-sending).
import { Engine, type EngineOptions, type Value } from '../promql/index.ts';
import { labelsKey, withoutName, type Labels, type MemoryStore } from '../tsdb/index.ts';
import type { AlertingRule, RecordingRule, Rule, RuleGroup } from './load.ts';
import { renderTemplate, type TemplateData } from './template.ts';

export const RESOLVED_RETENTION_MS = 15 * 60 * 1000;

export type AlertState = 'pending' | 'firing' | 'inactive';

export interface Alert {
  readonly rule: string;
  labels: Labels;
  annotations: Record<string, string>;
  state: AlertState;
  /** When the condition first held (ms). */
  activeAt: number;
  firedAt?: number;
  resolvedAt?: number;
  keepFiringSince?: number;
  value: number;
}

export interface RuleHealth {
  rule: string;
  lastError?: string;
  lastEvaluation?: number;
}

export interface GroupOptions extends EngineOptions {
  externalLabels?: Labels;
  externalURL?: string;
}

export class RuleGroupRunner {
  private readonly engine: Engine;
  private readonly active = new Map<Rule, Map<string, Alert>>();
  private readonly previousSeries = new Map<Rule, Map<string, Labels>>();
  private readonly health = new Map<Rule, RuleHealth>();

  constructor(
    readonly group: RuleGroup,
    private readonly store: MemoryStore,
    private readonly options: GroupOptions = {},
  ) {
    this.engine = new Engine(store, options);
    for (const rule of group.rules) this.health.set(rule, { rule: rule.name });
  }

  /** Evaluate every rule at `t` (ms). A failing rule records its error and the others still run, as in Prometheus. */
  evaluate(t: number): void {
    for (const rule of this.group.rules) {
      const health = this.health.get(rule)!;
      health.lastEvaluation = t;
      let output: { labels: Labels; value: number }[];
      try {
        output = rule.kind === 'record' ? this.record(rule, t) : this.alert(rule, t);
        delete health.lastError;
      } catch (error) {
        health.lastError = error instanceof Error ? error.message : String(error);
        output = [];
      }
      this.write(rule, output, t);
    }
  }

  private query(rule: Rule, t: number): { labels: Labels; value: number }[] {
    const value: Value = this.engine.instantQuery(rule.expr, t);
    if (value.type === 'scalar') return [{ labels: {}, value: value.value }];
    if (value.type === 'vector') return [...value.samples];
    throw new Error('rule result is not a vector or scalar');
  }

  private record(rule: RecordingRule, t: number): { labels: Labels; value: number }[] {
    const out = this.query(rule, t).map((sample) => ({ labels: { ...sample.labels, __name__: rule.name, ...rule.labels }, value: sample.value }));
    const seen = new Set<string>();
    for (const sample of out) {
      const key = labelsKey(sample.labels);
      if (seen.has(key)) throw new Error('vector contains metrics with the same labelset after applying rule labels');
      seen.add(key);
    }
    return out;
  }

  private alert(rule: AlertingRule, t: number): { labels: Labels; value: number }[] {
    const results = new Map<string, Alert>();
    for (const sample of this.query(rule, t)) {
      const data: TemplateData = { labels: sample.labels, externalLabels: this.options.externalLabels ?? {}, externalURL: this.options.externalURL ?? '', value: sample.value };
      const labels: Record<string, string> = { ...withoutName(sample.labels) };
      for (const [name, parts] of Object.entries(rule.labelTemplates)) {
        const value = renderTemplate(parts, data);
        if (value === '') delete labels[name];
        else labels[name] = value;
      }
      labels.alertname = rule.name;
      const annotations: Record<string, string> = {};
      for (const [name, parts] of Object.entries(rule.annotationTemplates)) annotations[name] = renderTemplate(parts, data);
      const key = labelsKey(labels);
      if (results.has(key)) throw new Error('vector contains metrics with the same labelset after applying alert labels');
      results.set(key, { rule: rule.name, labels, annotations, state: 'pending', activeAt: t, value: sample.value });
    }
    let active = this.active.get(rule);
    if (!active) this.active.set(rule, (active = new Map()));
    for (const [key, alert] of results) {
      const existing = active.get(key);
      if (existing && existing.state !== 'inactive') {
        existing.value = alert.value;
        existing.annotations = alert.annotations;
        continue;
      }
      active.set(key, alert);
    }
    const out: { labels: Labels; value: number }[] = [];
    for (const [key, alert] of active) {
      if (!results.has(key)) {
        let keepFiring = false;
        if (alert.state === 'firing' && rule.keepFiringForMs > 0) {
          alert.keepFiringSince ??= t;
          if (t - alert.keepFiringSince < rule.keepFiringForMs) keepFiring = true;
        }
        if (alert.state === 'pending' || (alert.resolvedAt !== undefined && t - alert.resolvedAt > RESOLVED_RETENTION_MS)) active.delete(key);
        if (alert.state !== 'inactive' && !keepFiring) {
          alert.state = 'inactive';
          alert.resolvedAt = t;
        }
        if (!keepFiring) continue;
      } else {
        delete alert.keepFiringSince;
      }
      if (alert.state === 'pending' && t - alert.activeAt >= rule.forMs) {
        alert.state = 'firing';
        alert.firedAt = t;
      }
      out.push({ labels: { ...alert.labels, __name__: 'ALERTS', alertstate: alert.state }, value: 1 });
      out.push({ labels: { ...alert.labels, __name__: 'ALERTS_FOR_STATE' }, value: alert.activeAt / 1000 });
    }
    return out;
  }

  private write(rule: Rule, output: { labels: Labels; value: number }[], t: number): void {
    const now = new Map<string, Labels>();
    for (const sample of output) {
      const key = labelsKey(sample.labels);
      now.set(key, sample.labels);
      try {
        this.store.append(sample.labels, t, sample.value);
      } catch (error) {
        const health = this.health.get(rule)!;
        health.lastError ??= error instanceof Error ? error.message : String(error);
      }
    }
    for (const [key, labels] of this.previousSeries.get(rule) ?? []) if (!now.has(key)) this.store.appendStale(labels, t);
    this.previousSeries.set(rule, now);
  }

  /** Pending and firing alerts (and recently resolved ones, state inactive) of every alerting rule. */
  alerts(): Alert[] {
    return [...this.active.values()].flatMap((alerts) => [...alerts.values()]);
  }

  alertsOf(ruleName: string): Alert[] {
    return this.alerts().filter((alert) => alert.rule === ruleName);
  }

  rulesHealth(): RuleHealth[] {
    return this.group.rules.map((rule) => ({ ...this.health.get(rule)! }));
  }
}
