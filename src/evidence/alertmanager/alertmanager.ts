// The Alertmanager's state in one place — alerts, silences, groups — and the views the API shows of it.
// No HTTP here: api.ts maps requests to these calls.
import type { Alert, PostedAlert } from './alerts.ts';
import { AlertLimitError, AlertStore, acceptAlert, isResolvedAt } from './alerts.ts';
import type { Clock, Timer } from './clock.ts';
import type { AlertmanagerConfig } from './config.ts';
import type { Deliver, DispatchLimits } from './dispatch.ts';
import { Dispatcher } from './dispatch.ts';
import { inhibitedBy } from './inhibit.ts';
import type { Matcher } from './matchers.ts';
import { matchesAll } from './matchers.ts';
import { matchRoutes } from './route.ts';
import type { Silence } from './silences.ts';
import { SilenceStore, silenceState } from './silences.ts';

export interface Limits extends DispatchLimits {
  maxAlerts: number;
  maxSilences: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxAlerts: 2000,
  maxSilences: 1000,
  maxGroups: 1000,
  maxNotifications: 30,
  notificationWindow: 60_000,
};

export type AlertState = 'active' | 'suppressed' | 'unprocessed';

export interface AlertView {
  alert: Alert;
  receivers: string[];
  state: AlertState;
  silencedBy: string[];
  inhibitedBy: string[];
}

export interface AlertFilter {
  matchers: readonly Matcher[];
  active: boolean;
  silenced: boolean;
  inhibited: boolean;
  receiver?: RegExp;
}

const GC_INTERVAL = 30_000;

/** What Alertmanager's own /metrics counts (alertmanager_alerts_received_total and the notification counters). */
export interface AlertmanagerCounters {
  received: { firing: number; resolved: number };
  invalid: number;
  notifications: number;
  notificationsFailed: number;
}

export class Alertmanager {
  readonly counters: AlertmanagerCounters = { received: { firing: 0, resolved: 0 }, invalid: 0, notifications: 0, notificationsFailed: 0 };
  readonly alerts: AlertStore;
  readonly silences: SilenceStore;
  readonly dispatcher: Dispatcher;
  readonly startedAt: number;
  private gcTimer: Timer | undefined;

  constructor(
    readonly config: AlertmanagerConfig,
    readonly clock: Clock,
    deliver: Deliver,
    readonly limits: Limits = DEFAULT_LIMITS,
    onError: (message: string) => void = () => {},
  ) {
    this.alerts = new AlertStore(limits.maxAlerts);
    this.silences = new SilenceStore(limits.maxSilences);
    this.dispatcher = new Dispatcher(config, clock, () => this.alerts.list(), this.silences, deliver, limits, onError);
    this.startedAt = clock.now();
    this.scheduleGc();
  }

  /** Best effort, as Alertmanager: valid alerts are taken even when others in the batch are refused. */
  post(posted: readonly PostedAlert[]): string[] {
    const now = this.clock.now();
    const errors: string[] = [];
    for (const item of posted) {
      const accepted = acceptAlert(item, now, this.config.resolveTimeout);
      if (typeof accepted === 'string') {
        errors.push(accepted);
        this.counters.invalid++;
        continue;
      }
      this.counters.received[isResolvedAt(accepted, now) ? 'resolved' : 'firing']++;
      try {
        this.dispatcher.process(this.alerts.put(accepted, now));
      } catch (error) {
        if (!(error instanceof AlertLimitError)) throw error;
        errors.push(error.message);
      }
    }
    return errors;
  }

  view(alert: Alert, now: number): AlertView {
    const silencedBy = this.silences.mutedBy(alert.labels, now);
    const inhibitors = inhibitedBy(alert.labels, this.config.inhibitRules, this.alerts.list(), now);
    return {
      alert,
      receivers: [...new Set(matchRoutes(this.config.route, alert.labels).map((r) => r.receiver))],
      state: silencedBy.length > 0 || inhibitors.length > 0 ? 'suppressed' : 'active',
      silencedBy,
      inhibitedBy: inhibitors,
    };
  }

  /** GET /api/v2/alerts: the alerts that have not resolved, filtered as Alertmanager filters them. */
  listAlerts(filter: AlertFilter): AlertView[] {
    const now = this.clock.now();
    return this.alerts
      .list()
      .filter((a) => !isResolvedAt(a, now))
      .map((a) => this.view(a, now))
      .filter((v) => keep(v, filter))
      .sort((a, b) => (a.alert.fingerprint < b.alert.fingerprint ? -1 : 1));
  }

  listGroups(filter: AlertFilter): Array<{ labels: Record<string, string>; receiver: string; alerts: AlertView[] }> {
    const now = this.clock.now();
    return this.dispatcher
      .groupsView()
      .map((g) => ({
        labels: { ...g.labels },
        receiver: g.route.receiver,
        alerts: g.alerts
          .map((a) => this.alerts.get(a.fingerprint) ?? a)
          .filter((a) => !isResolvedAt(a, now))
          .map((a) => this.view(a, now))
          .filter((v) => keep(v, filter)),
      }))
      .filter((g) => g.alerts.length > 0 && (!filter.receiver || filter.receiver.test(g.receiver)));
  }

  listSilences(matchers: readonly Matcher[]): Silence[] {
    const now = this.clock.now();
    const rank = { active: 0, pending: 1, expired: 2 } as const;
    return this.silences
      .list()
      .filter((s) => {
        const equalLabels = Object.fromEntries(s.matchers.filter((m) => m.isEqual && !m.isRegex).map((m) => [m.name, m.value]));
        return matchesAll(matchers, equalLabels);
      })
      .sort((a, b) => {
        const sa = silenceState(a, now);
        const sb = silenceState(b, now);
        if (sa !== sb) return rank[sa] - rank[sb];
        if (sa === 'pending') return a.startsAt - b.startsAt;
        if (sa === 'expired') return b.endsAt - a.endsAt;
        return a.endsAt - b.endsAt;
      });
  }

  reset(): void {
    this.alerts.clear();
    this.silences.clear();
    this.dispatcher.reset();
  }

  stop(): void {
    this.gcTimer?.cancel();
    this.dispatcher.stop();
  }

  private scheduleGc(): void {
    this.gcTimer = this.clock.after(GC_INTERVAL, () => {
      this.alerts.gc(this.clock.now());
      this.scheduleGc();
    });
  }
}

function keep(view: AlertView, filter: AlertFilter): boolean {
  if (!matchesAll(filter.matchers, view.alert.labels)) return false;
  if (filter.receiver && !view.receivers.some((r) => filter.receiver?.test(r))) return false;
  if (!filter.active && view.state === 'active') return false;
  if (!filter.silenced && view.silencedBy.length > 0) return false;
  if (!filter.inhibited && view.inhibitedBy.length > 0) return false;
  return true;
}
