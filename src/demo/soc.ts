// What the SOC was told, step by step of the demo. Alerts are read once the rules have evaluated the metrics of
// everything the step did (so a step's alert is never counted in the next one); mail is collected at the end,
// because Alertmanager holds a new group's first mail for its group_wait (10 s) and the demo does not wait that
// long after every step. A mail belongs to the steps whose new alerts it reports: its text carries each alert's
// summary (the shipped alertmanager.yaml's template prints it).
import type { AlertsNow, Mail, NewAlert, StepEvidence } from './demo.ts';

export interface SocApi {
  alerts(): Promise<AlertsNow>;
  mails(): Promise<Mail[]>;
}

export interface SocWatchOptions {
  /** How long to wait for the rules to see a step's metrics (a scrape and an evaluation: 4 s at the defaults). */
  settleTimeoutMs?: number;
  /** How long to wait, after the last new alert, for every step's mail (group_wait plus a notification round). */
  mailTimeoutMs?: number;
  pollMs?: number;
}

interface Step {
  startedAt: number;
  evidence: StepEvidence;
}

const alertKey = (name: string, labels: Record<string, string>): string => `${name}\u0000${JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))}`;
/** The mail is about this alert: its subject names the alert, its text carries the alert's summary. */
const reports = (mail: Mail, alert: NewAlert): boolean => mail.subject.includes(` ${alert.name} `) && (alert.summary === '' || mail.text.includes(alert.summary));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class SocWatch {
  private readonly known = new Set<string>();
  private readonly steps: Step[] = [];
  private lastNewAlertAt = 0;
  readonly problems: string[] = [];
  private readonly settleTimeoutMs: number;
  private readonly mailTimeoutMs: number;
  private readonly pollMs: number;

  constructor(
    private readonly api: SocApi,
    options: SocWatchOptions = {},
  ) {
    this.settleTimeoutMs = options.settleTimeoutMs ?? 30_000;
    this.mailTimeoutMs = options.mailTimeoutMs ?? 45_000;
    this.pollMs = options.pollMs ?? 250;
  }

  /** The step ends now: wait until the rules have seen it, then take the alerts it raised. */
  async endStep(name: string, startedAt: number): Promise<StepEvidence> {
    const endedAt = Date.now();
    const deadline = endedAt + this.settleTimeoutMs;
    let now = await this.api.alerts();
    while ((now.evaluatedThrough ?? -Infinity) <= endedAt) {
      if (Date.now() > deadline) {
        this.problems.push(`${name}: the rules had not evaluated the step's metrics ${this.settleTimeoutMs / 1000} s after it ended`);
        break;
      }
      await sleep(this.pollMs);
      now = await this.api.alerts();
    }
    const firing = now.alerts.filter((a) => a.state === 'firing');
    const newAlerts: NewAlert[] = [];
    for (const alert of firing) {
      const key = alertKey(alert.name, alert.labels);
      if (this.known.has(key)) continue;
      this.known.add(key);
      newAlerts.push({ name: alert.name, labels: alert.labels, summary: alert.annotations.summary ?? '' });
    }
    if (newAlerts.length > 0) this.lastNewAlertAt = Date.now();
    const evidence: StepEvidence = { alertsFiring: [...new Set(firing.map((a) => a.name))].sort(), newAlerts, mails: [] };
    this.steps.push({ startedAt, evidence });
    return evidence;
  }

  /**
   * Wait (bounded) until every step that raised an alert has its mail, then give each step its mails. The
   * `mails` arrays of the evidence returned by endStep are filled in place.
   */
  async collectMails(): Promise<void> {
    const deadline = Math.max(Date.now(), this.lastNewAlertAt + this.mailTimeoutMs);
    for (;;) {
      const mails = await this.api.mails();
      // In place: the receipts hold these arrays (spread into them), not the evidence objects.
      for (const step of this.steps) step.evidence.mails.length = 0;
      for (const mail of [...mails].sort((a, b) => a.created - b.created)) {
        // A mail may report the alerts of several steps (a group that grew); it counts for each of them.
        for (const step of this.steps.filter((s) => s.startedAt <= mail.created && s.evidence.newAlerts.some((a) => reports(mail, a)))) {
          step.evidence.mails.push({ subject: mail.subject, receivedAt: new Date(mail.created).toISOString() });
        }
      }
      const waiting = this.steps.filter((s) => s.evidence.newAlerts.some((a) => !s.evidence.mails.some((m) => m.subject.includes(` ${a.name} `))));
      if (waiting.length === 0) return;
      if (Date.now() > deadline) {
        for (const step of waiting) {
          const missing = step.evidence.newAlerts.filter((a) => !step.evidence.mails.some((m) => m.subject.includes(` ${a.name} `))).map((a) => a.name);
          this.problems.push(`no SOC mail about ${[...new Set(missing)].join(', ')} within ${this.mailTimeoutMs / 1000} s of the alert`);
        }
        return;
      }
      await sleep(this.pollMs);
    }
  }
}
