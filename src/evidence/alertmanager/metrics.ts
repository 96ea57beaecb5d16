// The Alertmanager's own /metrics, with Alertmanager's metric names, so that the stack's Prometheus (and a real
// one) can watch the notifier as kube-prometheus watches its Alertmanager: alerts by state, alerts received,
// notifications sent and failed, silences by state.
import type { Alertmanager } from './alertmanager.ts';
import { silenceState } from './silences.ts';

export function alertmanagerMetricsText(am: Alertmanager, now: number): string {
  const views = am.listAlerts({ matchers: [], active: true, silenced: true, inhibited: true });
  const silences = am.listSilences([]).map((s) => silenceState(s, now));
  const count = <T>(items: readonly T[], value: T): number => items.filter((item) => item === value).length;
  const family = (name: string, type: 'counter' | 'gauge', help: string, samples: [string, number][]): string[] => [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples.map(([labels, value]) => `${name}${labels} ${value}`)];
  return [
    ...family('alertmanager_alerts', 'gauge', 'How many alerts by state.', [
      ['{state="active"}', count(views.map((v) => v.state), 'active')],
      ['{state="suppressed"}', count(views.map((v) => v.state), 'suppressed')],
    ]),
    ...family('alertmanager_alerts_received_total', 'counter', 'The total number of received alerts.', [
      ['{status="firing"}', am.counters.received.firing],
      ['{status="resolved"}', am.counters.received.resolved],
    ]),
    ...family('alertmanager_alerts_invalid_total', 'counter', 'The total number of received alerts that were invalid.', [['', am.counters.invalid]]),
    ...family('alertmanager_notifications_total', 'counter', 'The total number of attempted notifications.', [['{integration="email"}', am.counters.notifications]]),
    ...family('alertmanager_notifications_failed_total', 'counter', 'The total number of failed notifications.', [['{integration="email"}', am.counters.notificationsFailed]]),
    ...family('alertmanager_silences', 'gauge', 'How many silences by state.', [
      ['{state="active"}', count(silences, 'active')],
      ['{state="pending"}', count(silences, 'pending')],
      ['{state="expired"}', count(silences, 'expired')],
    ]),
    '',
  ].join('\n');
}
