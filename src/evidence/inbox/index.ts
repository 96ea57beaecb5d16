// The only door into the SOC inbox: SMTP on one port, the MailHog API and page on another.
import { closeServer, listen } from '../../core/http.ts';
import { createGuardedServer } from '../../core/request-guard.ts';
import { inboxHandler } from './api.ts';
import type { StoredMessage } from './message.ts';
import { startSmtp } from './smtp.ts';
import { MessageStore } from './store.ts';
import { formatInbox, inboxLine } from './terminal.ts';

export { formatInbox, inboxLine, inboxLineFromMailHog, printable } from './terminal.ts';
export type { InboxLine } from './terminal.ts';
export type { StoredMessage } from './message.ts';
export { toMailHog } from './message.ts';

export const DEFAULT_SMTP_PORT = 1025;
export const DEFAULT_INBOX_HTTP_PORT = 18012;

export interface InboxOptions {
  host?: string;
  /** SMTP port; 0 picks a free one (tests). */
  smtpPort?: number;
  /** HTTP port for the MailHog API and the page; 0 picks a free one. */
  httpPort?: number;
  maxMessageBytes?: number;
  /** How the user moves each port (for the "port in use" error). */
  httpPortHint?: string;
  smtpPortHint?: string;
  maxMessages?: number;
  maxRecipients?: number;
  now?: () => number;
  log?: (message: string) => void;
  /** A mail was accepted (for the ledger). */
  onMessage?: (message: StoredMessage) => void;
}

export interface RunningInbox {
  /** The HTTP side: MailHog API and page. */
  url: string;
  httpPort: number;
  smtpPort: number;
  /** host:port for an SMTP client (Alertmanager's smarthost). */
  smarthost: string;
  messages(): StoredMessage[];
  /** Resolves with the messages once `predicate` holds for them (checked on every arrival). */
  waitFor(predicate: (messages: StoredMessage[]) => boolean, timeoutMs?: number): Promise<StoredMessage[]>;
  list(width?: number): string;
  reset(): void;
  close(): Promise<void>;
}

export async function startInbox(options: InboxOptions = {}): Promise<RunningInbox> {
  const host = options.host ?? '127.0.0.1';
  const store = new MessageStore(options.maxMessages ?? 1000);
  const waiters = new Set<() => void>();
  const counts = { accepted: 0, refused: new Map<number, number>() };
  const smtp = await startSmtp({
    host,
    port: options.smtpPort ?? DEFAULT_SMTP_PORT,
    ...(options.smtpPortHint ? { portHint: options.smtpPortHint } : {}),
    // Large enough for one mail about every alert the Alertmanager holds (2,000 alerts ≈ 3 MB), so a flood
    // into one group still reaches the SOC as one mail.
    maxMessageBytes: options.maxMessageBytes ?? 10 * 1024 * 1024,
    maxRecipients: options.maxRecipients ?? 50,
    now: options.now ?? Date.now,
    log: options.log ?? ((message) => console.error(`inbox: ${message}`)),
    refused: (code) => void counts.refused.set(code, (counts.refused.get(code) ?? 0) + 1),
    accept: (message) => {
      counts.accepted++;
      store.add(message);
      options.onMessage?.(message);
      for (const wake of [...waiters]) wake();
    },
  });
  const server = createGuardedServer({ shape: 'json' }, inboxHandler(store, () => inboxMetricsText(store.size, counts)));
  let bound;
  try {
    bound = await listen(server, { host, port: options.httpPort ?? DEFAULT_INBOX_HTTP_PORT, portHint: options.httpPortHint ?? 'the inbox HTTP port option' });
  } catch (error) {
    await smtp.close();
    throw error;
  }
  return {
    url: bound.url,
    httpPort: bound.port,
    smtpPort: smtp.port,
    smarthost: `${host}:${smtp.port}`,
    messages: () => store.list(),
    waitFor(predicate, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const all = store.list();
          if (!predicate(all)) return;
          cleanup();
          resolve(all);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`inbox: condition not met within ${timeoutMs} ms (${store.size} messages)`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    list: (width) => formatInbox(store.list().map(inboxLine), { width }),
    reset: () => store.clear(),
    async close() {
      await Promise.all([smtp.close(), closeServer(server)]);
    },
  };
}

/** The inbox's own /metrics: what it holds, what SMTP took and refused (by reply code). */
function inboxMetricsText(held: number, counts: { accepted: number; refused: ReadonlyMap<number, number> }): string {
  return [
    '# HELP trustusbank_inbox_messages Messages held in the SOC inbox.',
    '# TYPE trustusbank_inbox_messages gauge',
    `trustusbank_inbox_messages ${held}`,
    '# HELP trustusbank_inbox_smtp_messages_total Messages received over SMTP, by result and SMTP reply code.',
    '# TYPE trustusbank_inbox_smtp_messages_total counter',
    `trustusbank_inbox_smtp_messages_total{result="accepted",code="250"} ${counts.accepted}`,
    ...[...counts.refused].map(([code, n]) => `trustusbank_inbox_smtp_messages_total{result="refused",code="${code}"} ${n}`),
    '',
  ].join('\n');
}
