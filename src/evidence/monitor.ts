// The embedded Prometheus: a store, the scraper that fills it, the rule groups evaluated over it every
// evaluation interval, and the alerts sent on to an Alertmanager as Prometheus sends them (every firing alert
// again each resend delay, with endsAt four intervals ahead so that a lost Prometheus lets them expire; a
// resolved one once, with its endsAt). What to scrape and which rules to run are asked at every round, so the
// cluster's changes (a new pod, an applied PrometheusRule) are followed without a restart.
import { RuleGroupRunner, type Alert, type RuleGroup } from './rules/index.ts';
import { Scraper, type ScrapeTarget } from './scrape/scrape.ts';
import { DEFAULT_MAX_SERIES, DEFAULT_RETENTION_MS, MemoryStore } from './tsdb/index.ts';

/** An alert as Alertmanager's API v2 takes it (POST /api/v2/alerts). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
}

export interface MonitorOptions {
  discover(): ScrapeTarget[];
  ruleGroups(): readonly RuleGroup[];
  scrapeIntervalMs?: number;
  evaluationIntervalMs?: number;
  retentionMs?: number;
  maxSeries?: number;
  /** Deliver alerts to the Alertmanager(s); a failure is logged by the caller and retried at the next round. */
  notify?(alerts: PostableAlert[]): Promise<void>;
  /** Prometheus' resend delay (default 1 min; less for a lab that must show a mail within seconds). */
  resendDelayMs?: number;
  externalUrl?: string;
  now?: () => number;
  onError?(what: string, error: Error): void;
  /** An alert began firing (once, at its first notification) or resolved: for the ledger. */
  onAlert?(alert: Alert, state: 'firing' | 'resolved'): void;
}

export const DEFAULT_EVALUATION_INTERVAL_MS = 2_000;

interface GroupState {
  runner: RuleGroupRunner;
  definition: string;
  lastEvaluation?: number;
  evaluationSeconds?: number;
}

export class Monitor {
  readonly store: MemoryStore;
  readonly scraper: Scraper;
  readonly evaluationIntervalMs: number;
  private readonly groups = new Map<string, GroupState>();
  private readonly sent = new Map<string, number>();
  /** Alerts told to onAlert as firing (and not yet resolved): a failed notification sent again is not a new alert. */
  private readonly announced = new Set<string>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private evaluating: Promise<void> | undefined;
  private through: number | undefined;
  private readonly notifications = { sent: 0, errors: 0 };

  constructor(private readonly options: MonitorOptions) {
    this.now = options.now ?? Date.now;
    this.store = new MemoryStore({ retentionMs: options.retentionMs ?? DEFAULT_RETENTION_MS, maxSeries: options.maxSeries ?? DEFAULT_MAX_SERIES });
    this.scraper = new Scraper({
      store: this.store,
      discover: options.discover,
      ...(options.scrapeIntervalMs !== undefined ? { intervalMs: options.scrapeIntervalMs } : {}),
      now: this.now,
      ...(options.onError ? { onError: (target, error) => options.onError!(`scrape ${target.url}`, error) } : {}),
    });
    this.evaluationIntervalMs = options.evaluationIntervalMs ?? DEFAULT_EVALUATION_INTERVAL_MS;
  }

  /** The rule groups as they run now, for the API. */
  ruleGroups(): { runner: RuleGroupRunner; intervalMs: number; lastEvaluation?: number; evaluationSeconds?: number }[] {
    this.syncGroups();
    return [...this.groups.values()].map((g) => ({ runner: g.runner, intervalMs: g.runner.group.intervalMs ?? this.evaluationIntervalMs, ...(g.lastEvaluation !== undefined ? { lastEvaluation: g.lastEvaluation } : {}), ...(g.evaluationSeconds !== undefined ? { evaluationSeconds: g.evaluationSeconds } : {}) }));
  }

  /**
   * The time up to which the last evaluation saw every healthy target's counters: a change made before it is in
   * the alerts now. What the demo waits for before it says which alerts an act raised.
   */
  evaluatedThrough(): number | undefined {
    return this.through;
  }

  /** The embedded Prometheus' own /metrics, with Prometheus' names where it has them: the store, the rule groups, notifications. */
  metricsText(): string {
    const groups = this.ruleGroups();
    const label = (g: (typeof groups)[number]): string => `{rule_group=${JSON.stringify(`${g.runner.group.file};${g.runner.group.name}`)}}`;
    return [
      this.store.metricsText().trimEnd(),
      '# HELP prometheus_notifications_sent_total Total number of alerts sent.',
      '# TYPE prometheus_notifications_sent_total counter',
      `prometheus_notifications_sent_total ${this.notifications.sent}`,
      '# HELP prometheus_notifications_errors_total Total number of sent alerts affected by errors.',
      '# TYPE prometheus_notifications_errors_total counter',
      `prometheus_notifications_errors_total ${this.notifications.errors}`,
      '# HELP prometheus_rule_group_rules The number of rules.',
      '# TYPE prometheus_rule_group_rules gauge',
      ...groups.map((g) => `prometheus_rule_group_rules${label(g)} ${g.runner.group.rules.length}`),
      '# HELP prometheus_rule_group_last_duration_seconds The duration of the last rule group evaluation.',
      '# TYPE prometheus_rule_group_last_duration_seconds gauge',
      ...groups.filter((g) => g.evaluationSeconds !== undefined).map((g) => `prometheus_rule_group_last_duration_seconds${label(g)} ${g.evaluationSeconds}`),
      '# HELP prometheus_rule_group_last_evaluation_timestamp_seconds The timestamp of the last rule group evaluation in seconds.',
      '# TYPE prometheus_rule_group_last_evaluation_timestamp_seconds gauge',
      ...groups.filter((g) => g.lastEvaluation !== undefined).map((g) => `prometheus_rule_group_last_evaluation_timestamp_seconds${label(g)} ${g.lastEvaluation! / 1000}`),
      '',
    ].join('\n');
  }

  /** Pending and firing alerts of every group. */
  alerts(): Alert[] {
    return [...this.groups.values()].flatMap((g) => g.runner.alerts().filter((a) => a.state !== 'inactive'));
  }

  /**
   * A new epoch (the lab's `reset`): no alert state, no samples, no target health, as a Prometheus started
   * afresh against a cluster whose counters were reset. Keeping the old samples would fire every rule whose
   * window still covers the previous run's attempts in the next run's clean act. A scrape still running stores
   * nothing; resolves once a notification still in flight has landed, so that the Alertmanager reset after this
   * cannot receive the old epoch's alerts.
   */
  async reset(): Promise<void> {
    this.groups.clear();
    this.sent.clear();
    this.announced.clear();
    this.scraper.reset();
    this.store.clear();
    this.through = undefined;
    await this.evaluating;
  }

  /** Evaluate every group once at the current time, and notify. */
  async evaluateOnce(): Promise<void> {
    this.syncGroups();
    const t = this.now();
    // A target's health is updated once its scrape is stored, so every up target's last scrape is in what the
    // rules see now: changes before the oldest of them are evaluated.
    const scraped = this.scraper.targets().filter((target) => target.health === 'up').map((target) => target.lastScrape ?? -Infinity);
    this.through = scraped.length > 0 ? Math.min(...scraped) : undefined;
    for (const group of this.groups.values()) {
      const started = performance.now();
      group.runner.evaluate(t);
      group.lastEvaluation = t;
      group.evaluationSeconds = (performance.now() - started) / 1000;
    }
    this.store.truncate(t);
    await this.notify(t);
  }

  private syncGroups(): void {
    const wanted = new Map(this.options.ruleGroups().map((g) => [`${g.file}\u0000${g.name}`, g]));
    for (const key of [...this.groups.keys()]) if (!wanted.has(key)) this.groups.delete(key);
    for (const [key, group] of wanted) {
      const definition = JSON.stringify(group.rules.map((r) => ({ ...r, expr: undefined })));
      const existing = this.groups.get(key);
      if (existing && existing.definition === definition && existing.runner.group.intervalMs === group.intervalMs) continue;
      this.groups.set(key, { runner: new RuleGroupRunner(group, this.store, this.options.externalUrl ? { externalURL: this.options.externalUrl } : {}), definition });
    }
  }

  private async notify(t: number): Promise<void> {
    if (!this.options.notify) return;
    const resend = this.options.resendDelayMs ?? 60_000;
    const out: PostableAlert[] = [];
    const firing: string[] = [];
    for (const group of this.groups.values()) {
      for (const alert of group.runner.alerts()) {
        const key = `${alert.rule}\u0000${JSON.stringify(alert.labels)}`;
        if (alert.state === 'pending') continue;
        if (alert.state === 'inactive') {
          if (this.sent.get(key) === -1 || !this.sent.has(key)) continue;
          this.sent.set(key, -1);
          if (this.announced.delete(key)) this.options.onAlert?.(alert, 'resolved');
          out.push(this.postable(alert, new Date(alert.resolvedAt ?? t)));
          continue;
        }
        const last = this.sent.get(key);
        if (last !== undefined && last !== -1 && t - last < resend) continue;
        if (!this.announced.has(key)) {
          this.announced.add(key);
          this.options.onAlert?.(alert, 'firing');
        }
        this.sent.set(key, t);
        firing.push(key);
        out.push(this.postable(alert, new Date(t + 4 * Math.max(resend, this.evaluationIntervalMs))));
      }
    }
    if (out.length === 0) return;
    try {
      await this.options.notify(out);
      this.notifications.sent += out.length;
    } catch (error) {
      this.notifications.errors += out.length;
      // Not sent: forget that the firing ones were, so the next round tries them again.
      for (const key of firing) this.sent.delete(key);
      this.options.onError?.('notify alertmanager', error as Error);
    }
  }

  private postable(alert: Alert, endsAt: Date): PostableAlert {
    return {
      labels: { ...alert.labels },
      annotations: { ...alert.annotations },
      startsAt: new Date(alert.firedAt ?? alert.activeAt).toISOString(),
      endsAt: endsAt.toISOString(),
      generatorURL: `${this.options.externalUrl ?? 'http://127.0.0.1:18002'}/graph?g0.expr=${encodeURIComponent(this.groupOf(alert)?.exprText ?? '')}`,
    };
  }

  private groupOf(alert: Alert): { exprText: string } | undefined {
    for (const group of this.groups.values()) {
      const rule = group.runner.group.rules.find((r) => r.name === alert.rule && r.kind === 'alert');
      if (rule) return rule;
    }
    return undefined;
  }

  start(): void {
    if (this.timer) return;
    this.scraper.start();
    const tick = (): void => {
      if (this.evaluating) return;
      this.evaluating = this.evaluateOnce()
        .catch((error: unknown) => this.options.onError?.('rule evaluation', error as Error))
        .finally(() => (this.evaluating = undefined));
    };
    this.timer = setInterval(tick, this.evaluationIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.scraper.stop();
    await this.evaluating;
  }
}
