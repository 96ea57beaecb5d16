// Aggregation groups and the notification pipeline, after dispatch/dispatch.go and notify/notify.go:
// an alert joins one group per matching route (keyed by route and group labels); a new group flushes after
// group_wait (at once when its alert is older than that), then every group_interval. A flush drops muted
// alerts (inhibited or silenced), asks the notification log whether anything changed (new firing alerts,
// newly resolved ones with send_resolved, everything resolved, or repeat_interval passed), sends, and on
// success records what it sent and forgets the resolved alerts. A failed or throttled send leaves the log
// untouched, so the next flush tries again.
import type { Alert } from './alerts.ts';
import { isResolvedAt } from './alerts.ts';
import type { Clock, Timer } from './clock.ts';
import type { AlertmanagerConfig, EmailConfig, Receiver, Route } from './config.ts';
import { inhibitedBy } from './inhibit.ts';
import type { Labels } from './labels.ts';
import { formatLabels } from './labels.ts';
import { groupLabels, matchRoutes } from './route.ts';
import type { SilenceStore } from './silences.ts';

export interface Notification {
  readonly receiver: string;
  readonly groupKey: string;
  readonly groupLabels: Labels;
  /** Sorted by labels; firing alerts carry endsAt 0, as Alertmanager hands them to templates. */
  readonly alerts: readonly Alert[];
  readonly now: number;
}

/** Sends one notification through one integration; throws when it could not. */
export type Deliver = (integration: EmailConfig, notification: Notification) => Promise<void>;

export interface DispatchLimits {
  /** Aggregation groups at most (Alertmanager's MaxNumberOfAggregationGroups); alerts for more are not grouped. */
  maxGroups: number;
  /** Notifications at most per `notificationWindow` across all groups, so a flood cannot flood the inbox. */
  maxNotifications: number;
  notificationWindow: number;
}

export interface DispatchStats {
  notificationsSent: number;
  notificationsFailed: number;
  notificationsThrottled: number;
  groupsRefused: number;
}

export interface GroupView {
  readonly route: Route;
  readonly labels: Labels;
  readonly alerts: readonly Alert[];
}

interface LogEntry {
  firing: Set<string>;
  resolved: Set<string>;
  timestamp: number;
}

class AggregationGroup {
  readonly alerts = new Map<string, Alert>();
  timer: Timer | undefined;

  constructor(
    readonly key: string,
    readonly route: Route,
    readonly labels: Labels,
  ) {}
}

const MAX_LOG_ENTRIES = 10_000;

export class Dispatcher {
  private readonly groups = new Map<string, AggregationGroup>();
  private readonly log = new Map<string, LogEntry>();
  private readonly inflight = new Set<Promise<void>>();
  private sendTimes: number[] = [];
  readonly stats: DispatchStats = { notificationsSent: 0, notificationsFailed: 0, notificationsThrottled: 0, groupsRefused: 0 };
  private stopped = false;

  constructor(
    private readonly config: AlertmanagerConfig,
    private readonly clock: Clock,
    private readonly activeAlerts: () => readonly Alert[],
    private readonly silences: SilenceStore,
    private readonly deliver: Deliver,
    private readonly limits: DispatchLimits,
    private readonly onError: (message: string) => void = () => {},
  ) {}

  /** Route an alert (new, updated or resolved) into its groups. */
  process(alert: Alert): void {
    if (this.stopped) return;
    const now = this.clock.now();
    for (const route of matchRoutes(this.config.route, alert.labels)) {
      const labels = groupLabels(route, alert.labels);
      const key = `${route.id}:${formatLabels(labels)}`;
      let group = this.groups.get(key);
      if (group) {
        group.alerts.set(alert.fingerprint, alert);
        continue;
      }
      if (this.groups.size >= this.limits.maxGroups) {
        this.stats.groupsRefused++;
        this.onError(`too many aggregation groups (limit ${this.limits.maxGroups}); not grouping ${formatLabels(alert.labels)}`);
        continue;
      }
      group = new AggregationGroup(key, route, labels);
      group.alerts.set(alert.fingerprint, alert);
      this.groups.set(key, group);
      const wait = alert.startsAt + route.groupWait < now ? 0 : route.groupWait;
      this.schedule(group, wait);
    }
  }

  groupsView(): GroupView[] {
    return [...this.groups.values()].map((g) => ({ route: g.route, labels: g.labels, alerts: [...g.alerts.values()] }));
  }

  /** Resolves once every notification started so far has finished. */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  reset(): void {
    for (const group of this.groups.values()) group.timer?.cancel();
    this.groups.clear();
    this.log.clear();
    this.sendTimes = [];
  }

  stop(): void {
    this.stopped = true;
    this.reset();
  }

  private schedule(group: AggregationGroup, ms: number): void {
    group.timer?.cancel();
    group.timer = this.clock.after(ms, () => {
      if (this.stopped || this.groups.get(group.key) !== group) return;
      this.schedule(group, group.route.groupInterval);
      const flush = this.flush(group).finally(() => this.inflight.delete(flush));
      this.inflight.add(flush);
    });
  }

  private async flush(group: AggregationGroup): Promise<void> {
    const now = this.clock.now();
    if (group.alerts.size === 0) return;
    const snapshot = [...group.alerts.values()];
    const alerts = snapshot
      .map((a) => (isResolvedAt(a, now) ? a : { ...a, endsAt: 0 }))
      .sort((a, b) => compareLabels(a.labels, b.labels));
    let ok: boolean;
    try {
      ok = await this.notify(group, alerts, now);
    } catch (error) {
      this.onError(`notification for ${group.key} failed: ${(error as Error).message}`);
      ok = false;
    }
    if (!ok) return;
    // Forget the resolved alerts we just told about, unless they changed (fired again) meanwhile.
    for (const alert of snapshot) {
      if (isResolvedAt(alert, now) && group.alerts.get(alert.fingerprint) === alert) group.alerts.delete(alert.fingerprint);
    }
    if (group.alerts.size === 0 && this.groups.get(group.key) === group) {
      group.timer?.cancel();
      this.groups.delete(group.key);
    }
  }

  private async notify(group: AggregationGroup, alerts: Alert[], now: number): Promise<boolean> {
    const active = this.activeAlerts();
    const unmuted = alerts.filter((a) => inhibitedBy(a.labels, this.config.inhibitRules, active, now).length === 0 && this.silences.mutedBy(a.labels, now).length === 0);
    if (unmuted.length === 0) return true;
    const receiver = this.config.receivers.get(group.route.receiver) as Receiver;
    const results = await Promise.all(receiver.emailConfigs.map((integration, index) => this.notifyIntegration(group, receiver, integration, index, unmuted, now)));
    return results.every(Boolean);
  }

  private async notifyIntegration(group: AggregationGroup, receiver: Receiver, integration: EmailConfig, index: number, alerts: Alert[], now: number): Promise<boolean> {
    const logKey = `${group.key}\u0000${receiver.name}\u0000${index}`;
    const firing = new Set(alerts.filter((a) => !isResolvedAt(a, now)).map((a) => a.fingerprint));
    const resolved = new Set(alerts.filter((a) => isResolvedAt(a, now)).map((a) => a.fingerprint));
    if (!needsUpdate(this.log.get(logKey), firing, resolved, integration.sendResolved, group.route.repeatInterval, now)) return true;
    const toSend = integration.sendResolved ? alerts : alerts.filter((a) => !isResolvedAt(a, now));
    if (toSend.length > 0) {
      if (!this.takeSendSlot(now)) {
        this.stats.notificationsThrottled++;
        return false;
      }
      try {
        await this.deliver(integration, { receiver: receiver.name, groupKey: group.key, groupLabels: group.labels, alerts: toSend, now });
        this.stats.notificationsSent++;
      } catch (error) {
        this.stats.notificationsFailed++;
        this.onError(`${receiver.name}/email[${index}]: ${(error as Error).message}`);
        return false;
      }
    }
    this.log.delete(logKey);
    this.log.set(logKey, { firing, resolved, timestamp: now });
    if (this.log.size > MAX_LOG_ENTRIES) this.log.delete(this.log.keys().next().value as string);
    return true;
  }

  private takeSendSlot(now: number): boolean {
    this.sendTimes = this.sendTimes.filter((t) => t > now - this.limits.notificationWindow);
    if (this.sendTimes.length >= this.limits.maxNotifications) return false;
    this.sendTimes.push(now);
    return true;
  }
}

/** notify.DedupStage.needsUpdate. */
export function needsUpdate(entry: LogEntry | undefined, firing: Set<string>, resolved: Set<string>, sendResolved: boolean, repeatInterval: number, now: number): boolean {
  if (!entry) return firing.size > 0;
  if (![...firing].every((fp) => entry.firing.has(fp))) return true;
  if (firing.size === 0) return entry.firing.size > 0;
  if (sendResolved && ![...resolved].every((fp) => entry.resolved.has(fp))) return true;
  return entry.timestamp < now - repeatInterval;
}

function compareLabels(a: Labels, b: Labels): number {
  const x = formatLabels(a);
  const y = formatLabels(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
