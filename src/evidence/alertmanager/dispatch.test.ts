// Grouping, timing, dedup, resolution, inhibition, silences and flood bounds, on a manual clock: the
// Alertmanager behaviours the SOC relies on, each with the case where it must notify and where it must not.
import { describe, expect, it } from 'vitest';
import { testAlertmanager } from './test-support.ts';

const CONFIG = `
global: { resolve_timeout: 5m, smtp_from: alerts@trustusbank.example, smtp_smarthost: '127.0.0.1:1025', smtp_require_tls: false }
route:
  receiver: soc
  group_by: [alertname, source_workload_namespace]
  group_wait: 10s
  group_interval: 30s
  repeat_interval: 2m
  routes:
    - matchers: ['team="agents"']
      receiver: agents
      group_by: ['...']
      continue: true
    - match: { severity: page }
      receiver: pager
    - match_re: { service: 'bank-.*' }
      receiver: bank
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [alertname, source_workload_namespace]
receivers:
  - name: soc
    email_configs: [{ to: soc@trustusbank.example, send_resolved: true, text: '{{ range .Alerts }}{{ .Labels.alertname }} {{ .Status }}; {{ end }}', headers: { Subject: '[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .GroupLabels.alertname }} — TrustUsBank SOC alert' } }]
  - name: agents
    email_configs: [{ to: agents@trustusbank.example, text: x }]
  - name: pager
    email_configs: [{ to: pager@trustusbank.example, text: x }]
  - name: bank
    email_configs: [{ to: bank@trustusbank.example, text: x, send_resolved: false }]
`;

const deny = (ns = 'trustusbank-vendors', extra: Record<string, string> = {}) => ({ labels: { alertname: 'IstioAuthZDeny', source_workload_namespace: ns, severity: 'critical', ...extra } });

describe('routing', () => {
  it.each([
    [{ alertname: 'A' }, ['soc']],
    [{ alertname: 'A', severity: 'page' }, ['pager']],
    [{ alertname: 'A', service: 'bank-mcp' }, ['bank']],
    [{ alertname: 'A', service: 'xbank-mcp' }, ['soc']], // match_re is anchored
    [{ alertname: 'A', team: 'agents', severity: 'page' }, ['agents', 'pager']], // continue goes on
    [{ alertname: 'A', severity: 'page', service: 'bank-mcp' }, ['pager']], // first match without continue stops
  ])('%j goes to %j', (labels, receivers) => {
    const { am, post } = testAlertmanager(CONFIG);
    post({ labels });
    expect(am.listAlerts({ matchers: [], active: true, silenced: true, inhibited: true })[0]?.receivers).toEqual(receivers);
  });
});

describe('grouping and flush timing', () => {
  it('waits group_wait, batches later alerts until group_interval, and separates groups by namespace', async () => {
    const { sent, advance, post } = testAlertmanager(CONFIG);
    post(deny('ns-a', { pod: '1' }));
    await advance(9);
    expect(sent).toHaveLength(0);
    await advance(1);
    expect(sent.map((s) => [s.at, s.subject])).toEqual([[10, '[FIRING:1] IstioAuthZDeny — TrustUsBank SOC alert']]);
    post(deny('ns-a', { pod: '2' }), deny('ns-b'));
    await advance(10); // t = 20: the new group waits its own group_wait, the old one its interval
    expect(sent.map((s) => s.at)).toEqual([10, 20]);
    await advance(20); // t = 40
    expect(sent.map((s) => [s.at, s.subject])).toEqual([
      [10, '[FIRING:1] IstioAuthZDeny — TrustUsBank SOC alert'],
      [20, '[FIRING:1] IstioAuthZDeny — TrustUsBank SOC alert'],
      [40, '[FIRING:2] IstioAuthZDeny — TrustUsBank SOC alert'],
    ]);
    expect(sent[1]?.notification.groupLabels).toEqual({ alertname: 'IstioAuthZDeny', source_workload_namespace: 'ns-b' });
  });

  it('flushes at once for an alert older than group_wait', async () => {
    const { sent, advance, post, clock } = testAlertmanager(CONFIG);
    post({ ...deny(), startsAt: clock.now() - 60_000 });
    await advance(1);
    expect(sent.map((s) => s.at)).toEqual([0]);
  });

  it("groups by every label with '...'", async () => {
    const { sent, errors, advance, post } = testAlertmanager(CONFIG);
    post({ labels: { alertname: 'A', team: 'agents', x: '1' } }, { labels: { alertname: 'A', team: 'agents', x: '2' } });
    await advance(10);
    const agentMails = sent.filter((s) => s.to === 'agents@trustusbank.example');
    expect(errors).toEqual([]);
    expect(agentMails.map((m) => m.subject).sort()).toEqual(['[FIRING:1] A agents 1 ', '[FIRING:1] A agents 2 ']); // Alertmanager's default subject
  });
});

describe('dedup, repeat and resolution', () => {
  it('does not repeat an unchanged group before repeat_interval, then repeats', async () => {
    const { sent, advance, post } = testAlertmanager(CONFIG);
    post(deny());
    await advance(60);
    post(deny()); // Prometheus re-sends every evaluation: same fingerprint, no new mail
    await advance(90);
    expect(sent.map((s) => s.at)).toEqual([10]);
    post(deny());
    await advance(20); // t = 170: the flush at 160 is the first with the last mail older than 2m
    expect(sent.map((s) => s.at)).toEqual([10, 160]);
  });

  it('sends a resolved mail with send_resolved, then forgets the group', async () => {
    const { am, sent, advance, post, clock } = testAlertmanager(CONFIG);
    post(deny());
    await advance(10);
    post({ ...deny(), endsAt: clock.now() });
    await advance(30);
    expect(sent.map((s) => [s.at, s.subject, s.text])).toEqual([
      [10, '[FIRING:1] IstioAuthZDeny — TrustUsBank SOC alert', 'IstioAuthZDeny firing; '],
      [40, '[RESOLVED] IstioAuthZDeny — TrustUsBank SOC alert', 'IstioAuthZDeny resolved; '],
    ]);
    expect(am.dispatcher.groupsView()).toHaveLength(0);
    expect(am.listAlerts({ matchers: [], active: true, silenced: true, inhibited: true })).toHaveLength(0);
  });

  it('without send_resolved sends no resolved mail, and a new firing is a first notification again', async () => {
    const { sent, advance, post, clock } = testAlertmanager(CONFIG);
    const bank = { labels: { alertname: 'B', service: 'bank-mcp' } };
    post(bank);
    await advance(10);
    post({ ...bank, endsAt: clock.now() });
    await advance(60);
    expect(sent.map((s) => s.at)).toEqual([10]);
    post(bank);
    await advance(10);
    expect(sent.map((s) => s.at)).toEqual([10, 80]);
  });

  it('resolves an alert nobody re-sends after resolve_timeout', async () => {
    const { sent, advance, post } = testAlertmanager(CONFIG);
    post(deny());
    await advance(5 * 60 + 30);
    // 10 s: first mail; 160 s: the repeat; after 300 s: resolved.
    expect(sent.map((s) => [s.at, s.subject.slice(0, 10)])).toEqual([
      [10, '[FIRING:1]'],
      [160, '[FIRING:1]'],
      [310, '[RESOLVED]'],
    ]);
  });
});

describe('a failed delivery', () => {
  it('is retried at the next group_interval, and sent once when it succeeds', async () => {
    let failures = 2;
    const { sent, errors, advance, post } = testAlertmanager(CONFIG, {}, () => failures-- > 0);
    post(deny());
    await advance(10 + 30 + 30);
    expect(errors).toHaveLength(2);
    expect(sent.map((s) => s.at)).toEqual([70]);
    await advance(60);
    expect(sent.map((s) => s.at)).toEqual([70]);
  });
});

describe('inhibition', () => {
  it('a critical alert mutes the warning with the same alertname and namespace', async () => {
    const { am, sent, advance, post } = testAlertmanager(CONFIG);
    post(deny('ns-a'), deny('ns-a', { severity: 'warning' }));
    await advance(10);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.notification.alerts.map((a) => a.labels.severity)).toEqual(['critical']);
    const views = am.listAlerts({ matchers: [], active: true, silenced: true, inhibited: true });
    const warning = views.find((v) => v.alert.labels.severity === 'warning');
    const critical = views.find((v) => v.alert.labels.severity === 'critical');
    expect(warning?.state).toBe('suppressed');
    expect(warning?.inhibitedBy).toEqual([critical?.alert.fingerprint]);
    expect(am.listAlerts({ matchers: [], active: true, silenced: true, inhibited: false })).toHaveLength(1);
  });

  it('does not mute a warning in another namespace, nor once the critical one resolves', async () => {
    const { sent, advance, post, clock } = testAlertmanager(CONFIG);
    post(deny('ns-a'), deny('ns-b', { severity: 'warning' }));
    await advance(10);
    expect(sent).toHaveLength(2);
    post(deny('ns-c', { severity: 'warning' }), { ...deny('ns-c'), endsAt: clock.now() });
    await advance(10);
    // The resolved critical alert is reported as resolved (send_resolved) and inhibits nothing.
    const nsC = sent.filter((s) => s.notification.groupLabels.source_workload_namespace === 'ns-c');
    expect(nsC.map((s) => s.text)).toEqual(['IstioAuthZDeny resolved; IstioAuthZDeny firing; ']);
    expect(nsC[0]?.subject).toBe('[FIRING:1] IstioAuthZDeny — TrustUsBank SOC alert');
  });
});

describe('silences', () => {
  it('a silence mutes matching alerts; expiring it lets the next flush notify', async () => {
    const { am, sent, advance, post, clock } = testAlertmanager(CONFIG);
    const silence = am.silences.upsert({ matchers: [{ name: 'source_workload_namespace', value: 'ns-a', isRegex: false, isEqual: true }], startsAt: clock.now(), endsAt: clock.now() + 3600_000, createdBy: 'soc', comment: 'known' }, clock.now());
    post(deny('ns-a'), deny('ns-b'));
    await advance(10);
    expect(sent.map((s) => s.notification.groupLabels.source_workload_namespace)).toEqual(['ns-b']);
    expect(am.listAlerts({ matchers: [], active: true, silenced: true, inhibited: true }).find((v) => v.alert.labels.source_workload_namespace === 'ns-a')?.silencedBy).toEqual([silence.id]);
    am.silences.expire(silence.id, clock.now());
    await advance(30);
    expect(sent.map((s) => s.notification.groupLabels.source_workload_namespace)).toEqual(['ns-b', 'ns-a']);
  });

  it('a regex silence that does not match leaves the alert alone', async () => {
    const { am, sent, advance, post, clock } = testAlertmanager(CONFIG);
    am.silences.upsert({ matchers: [{ name: 'source_workload_namespace', value: 'ns-(x|y)', isRegex: true, isEqual: true }], startsAt: clock.now(), endsAt: clock.now() + 60_000, createdBy: 'soc', comment: '' }, clock.now());
    post(deny('ns-a'));
    await advance(10);
    expect(sent).toHaveLength(1);
  });
});

describe('flood: grouping holds and mail stays bounded', () => {
  it('1,000 alerts of one kind over 10 namespaces make 10 mails, not 1,000', async () => {
    const { sent, advance, post } = testAlertmanager(CONFIG);
    const alerts = Array.from({ length: 1000 }, (_, i) => deny(`ns-${i % 10}`, { pod: `pod-${i}` }));
    expect(post(...alerts)).toEqual([]);
    await advance(10);
    expect(sent).toHaveLength(10);
    expect(sent.every((s) => s.subject === '[FIRING:100] IstioAuthZDeny — TrustUsBank SOC alert')).toBe(true);
    await advance(60);
    expect(sent).toHaveLength(10);
  });

  it('1,000 distinct alerts are throttled to maxNotifications per window, and delivered later', async () => {
    const { am, sent, advance, post } = testAlertmanager(CONFIG, { maxNotifications: 20, notificationWindow: 60_000, maxGroups: 500 });
    post(...Array.from({ length: 1000 }, (_, i) => ({ labels: { alertname: `Flood${i}` } })));
    expect(am.dispatcher.stats.groupsRefused).toBe(500);
    await advance(10);
    expect(sent).toHaveLength(20);
    await advance(50);
    expect(sent).toHaveLength(20);
    await advance(60);
    expect(sent.length).toBeGreaterThan(20);
    expect(sent.length).toBeLessThanOrEqual(40);
    expect(am.dispatcher.stats.notificationsThrottled).toBeGreaterThan(0);
  });

  it('refuses alerts past maxAlerts with a message, and still takes updates to known ones', () => {
    const { am, post } = testAlertmanager(CONFIG, { maxAlerts: 100 });
    const errors = post(...Array.from({ length: 150 }, (_, i) => ({ labels: { alertname: 'A', i: String(i) } })));
    expect(errors).toHaveLength(50);
    expect(errors[0]).toBe('too many alerts: the store holds at most 100');
    expect(am.alerts.size).toBe(100);
    expect(post({ labels: { alertname: 'A', i: '5' } })).toEqual([]);
  });
});
