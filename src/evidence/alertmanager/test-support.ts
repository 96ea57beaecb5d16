// Shared by the Alertmanager's unit tests: an Alertmanager on a manual clock that records what it would send.
import { Alertmanager, DEFAULT_LIMITS } from './alertmanager.ts';
import type { Limits } from './alertmanager.ts';
import type { PostedAlert } from './alerts.ts';
import { ManualClock } from './clock.ts';
import { parseAlertmanagerConfig } from './config.ts';
import type { Notification } from './dispatch.ts';
import { renderEmail } from './email.ts';

export interface Sent {
  at: number;
  to: string;
  subject: string;
  text: string;
  notification: Notification;
}

/** `failing()` says whether the next delivery fails (as an SMTP server that is down would). */
export function testAlertmanager(yaml: string, limits: Partial<Limits> = {}, failing: () => boolean = () => false) {
  const clock = new ManualClock();
  const start = clock.now();
  const sent: Sent[] = [];
  const errors: string[] = [];
  const config = parseAlertmanagerConfig(yaml);
  const am = new Alertmanager(
    config,
    clock,
    async (integration, notification) => {
      if (failing()) throw new Error('connection refused');
      const mail = renderEmail(integration, notification, 'http://alertmanager.test');
      sent.push({ at: (clock.now() - start) / 1000, to: mail.to, subject: mail.subject, text: mail.text ?? '', notification });
    },
    { ...DEFAULT_LIMITS, ...limits },
    (message) => errors.push(message),
  );
  /** Advance in one-second steps, letting each flush finish, as real time would. */
  const advance = async (seconds: number): Promise<void> => {
    for (let i = 0; i < seconds; i++) {
      clock.advance(1000);
      await am.dispatcher.settled();
    }
  };
  const post = (...alerts: Array<Partial<PostedAlert> & { labels: Record<string, string> }>): string[] =>
    am.post(alerts.map((a) => ({ annotations: {}, startsAt: 0, endsAt: 0, generatorURL: '', ...a })));
  const elapsed = (): number => (clock.now() - start) / 1000;
  return { am, clock, sent, errors, advance, post, elapsed };
}
