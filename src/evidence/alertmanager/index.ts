// The only door into the Alertmanager: start it on a port with a config, get its URL back.
import { readFile } from 'node:fs/promises';
import { closeServer, listen } from '../../core/http.ts';
import { createGuardedServer } from '../../core/request-guard.ts';
import { Alertmanager, DEFAULT_LIMITS } from './alertmanager.ts';
import type { Limits } from './alertmanager.ts';
import { handler } from './api.ts';
import type { Clock } from './clock.ts';
import { systemClock } from './clock.ts';
import { parseAlertmanagerConfig } from './config.ts';
import type { Deliver, Notification } from './dispatch.ts';
import { smtpDeliver } from './email.ts';

export { AlertmanagerConfigError, MatcherError, TemplateError } from './errors.ts';
export { parseAlertmanagerConfig } from './config.ts';
export type { AlertmanagerConfig } from './config.ts';
export { ManualClock, systemClock } from './clock.ts';
export type { Clock } from './clock.ts';
export { renderEmail } from './email.ts';
export type { Notification, Deliver } from './dispatch.ts';
export { DEFAULT_LIMITS } from './alertmanager.ts';
export type { Limits } from './alertmanager.ts';

export const DEFAULT_ALERTMANAGER_PORT = 18013;

export interface AlertmanagerOptions {
  /** alertmanager.yaml text; or `configFile` to read it from disk. */
  config?: string;
  configFile?: string;
  host?: string;
  /** 0 picks a free port (tests). */
  port?: number;
  clock?: Clock;
  /** Replaces SMTP delivery (unit tests record notifications instead). */
  deliver?: Deliver;
  /** Alertmanager's --web.external-url: `.ExternalURL` in templates. */
  externalURL?: string;
  limits?: Partial<Limits>;
  /** How the user moves the port (for the "port in use" error). */
  portHint?: string;
  log?: (message: string) => void;
  /** A notification was sent, or failed (for the ledger). */
  onNotification?: (notification: Notification, receiver: string, error?: Error) => void;
}

export interface RunningAlertmanager {
  url: string;
  port: number;
  alertmanager: Alertmanager;
  /** Clears alerts, silences, groups and the notification log (the stack's `reset`). */
  reset(): void;
  /** Waits for the notifications already started. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export async function startAlertmanager(options: AlertmanagerOptions = {}): Promise<RunningAlertmanager> {
  const text = options.config ?? (options.configFile ? await readFile(options.configFile, 'utf8') : undefined);
  if (text === undefined) throw new Error('startAlertmanager needs config or configFile');
  const config = parseAlertmanagerConfig(text);
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? DEFAULT_ALERTMANAGER_PORT;
  const log = options.log ?? ((message: string) => console.error(`alertmanager: ${message}`));
  // The handler is attached once the Alertmanager exists: it needs the bound URL as its external URL.
  let serve: ReturnType<typeof handler> = (_req, res) => void res.writeHead(503).end();
  const server = createGuardedServer({ shape: 'json', onError: (error) => log(`request failed: ${(error as Error).message}`) }, (req, res) => serve(req, res));
  const bound = await listen(server, { host, port, portHint: options.portHint ?? 'the alertmanager port option' });
  const externalURL = options.externalURL ?? bound.url;
  const smtp = options.deliver ? undefined : smtpDeliver(externalURL);
  const send = options.deliver ?? (smtp as { deliver: Deliver }).deliver;
  // Counted as Alertmanager counts: every attempt, and the attempts that failed.
  const deliver: Deliver = async (integration, notification) => {
    am.counters.notifications++;
    try {
      await send(integration, notification);
      options.onNotification?.(notification, integration.to);
    } catch (error) {
      am.counters.notificationsFailed++;
      options.onNotification?.(notification, integration.to, error as Error);
      throw error;
    }
  };
  const am: Alertmanager = new Alertmanager(config, options.clock ?? systemClock, deliver, { ...DEFAULT_LIMITS, ...options.limits }, log);
  serve = handler(am);
  return {
    url: bound.url,
    port: bound.port,
    alertmanager: am,
    reset: () => am.reset(),
    settled: () => am.dispatcher.settled(),
    async close() {
      am.stop();
      await closeServer(server);
      smtp?.close();
    },
  };
}
