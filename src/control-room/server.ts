// The control room: the operator's console, served by the `up` process on 127.0.0.1 (not a pod). One page that
// runs the story (reset, rug-pull, each defence layer on/off, the whole demo) and shows the stack live over
// server-sent events. Who may use it is guard.ts; what the buttons do is actions.ts; what it shows, snapshot.ts.
//   GET  /                       the page (index.html, app.js, app.css); no token needed, none in them
//   GET  /api/events             text/event-stream: `snapshot`, `progress`, `action` events   (token)
//   POST /api/actions/reset | rugpull | demo                                                  (token)
//   POST /api/layers/<mesh|gateway|access-policy|admission>/<on|off>                          (token)
import { scriptPageHeaders } from '../core/html.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { requestTarget } from '../core/request-guard.ts';
import { BusyError, describeAction, type ActionRequest, type ActionRunner } from './actions.ts';
import { checkApiRequest, checkPageRequest, type GuardVerdict, type RequestFacts } from './guard.ts';
import { CONTROL_ROOM_CSS, controlRoomHtml } from './page/document.ts';
import { CONTROL_LAYER_NAMES, type ControlLayer, type Snapshot } from './snapshot.ts';

/** Only this origin's files, no inline script or style, no framing, and no string may reach an HTML sink. */
export const CONTROL_ROOM_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

// The token is in the fragment, which no Referer carries; no Referer at all is simpler still.
const SECURITY_HEADERS: Readonly<Record<string, string>> = { ...scriptPageHeaders(CONTROL_ROOM_CSP), 'cache-control': 'no-store' };

const POLL_MS = 1_000;
const KEEPALIVE_MS = 15_000;

export interface ControlRoomOptions {
  token: Buffer;
  /** The page's script bundle (assets.ts). */
  script: Uint8Array;
  /** The port it listens on (known once bound), for the Host check. */
  port(): number;
  actions: ActionRunner;
  snapshot(): Promise<Snapshot>;
  log: Logger;
  pollMs?: number;
}

export interface ControlRoom {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  close(): void;
}

type Event = { event: 'snapshot'; data: Snapshot & { busy?: string } } | { event: 'progress'; data: { line: string } } | { event: 'action'; data: { action: string; ok: boolean; message: string; done: boolean } };

export function createControlRoom(options: ControlRoomOptions): ControlRoom {
  const files: Record<string, { body: Uint8Array; type: string }> = {
    '/': { body: Buffer.from(controlRoomHtml()), type: 'text/html; charset=utf-8' },
    '/app.js': { body: options.script, type: 'text/javascript; charset=utf-8' },
    '/app.css': { body: Buffer.from(CONTROL_ROOM_CSS), type: 'text/css; charset=utf-8' },
  };
  const clients = new Set<ServerResponse>();
  let last = '';
  let timer: NodeJS.Timeout | undefined;
  let keepalive: NodeJS.Timeout | undefined;
  let refreshing: Promise<void> | undefined;

  const send = (res: ServerResponse, event: Event): void => {
    // JSON has no raw newline, so one data line carries the whole event.
    res.write(`event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`);
  };
  const broadcast = (event: Event): void => {
    for (const client of clients) send(client, event);
  };
  const refresh = (force = false): Promise<void> =>
    (refreshing ??= (async () => {
      try {
        const busy = options.actions.busy();
        const snapshot = { ...(await options.snapshot()), ...(busy ? { busy } : {}) };
        const text = JSON.stringify(snapshot);
        if (force || text !== last) {
          last = text;
          broadcast({ event: 'snapshot', data: snapshot });
        }
      } catch (error) {
        options.log.warn('control room: could not read the stack', { error: errorMessage(error) });
      } finally {
        refreshing = undefined;
      }
    })());
  const schedule = (): void => {
    if (timer || clients.size === 0) return;
    timer = setInterval(() => void refresh(), options.pollMs ?? POLL_MS);
    keepalive = setInterval(() => {
      for (const client of clients) client.write(': keep-alive\n\n');
    }, KEEPALIVE_MS);
  };
  const unschedule = (): void => {
    if (clients.size > 0) return;
    clearInterval(timer);
    clearInterval(keepalive);
    timer = keepalive = undefined;
  };

  const refuse = (res: ServerResponse, verdict: Extract<GuardVerdict, { ok: false }>): void => json(res, verdict.status, { error: verdict.error });

  const events = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    clients.add(res);
    req.once('close', () => {
      clients.delete(res);
      unschedule();
    });
    schedule();
    if (last) send(res, { event: 'snapshot', data: JSON.parse(last) as Snapshot });
    void refresh(true);
  };

  const act = async (res: ServerResponse, request: ActionRequest): Promise<void> => {
    const action = describeAction(request);
    try {
      const pending = options.actions.run(request, (line) => broadcast({ event: 'progress', data: { line } }));
      broadcast({ event: 'action', data: { action, ok: true, message: `${action}: started`, done: false } });
      void refresh(true);
      const result = await pending;
      options.log.info('control room action', { action, ok: result.ok });
      broadcast({ event: 'action', data: { ...result, done: true } });
      json(res, 200, result);
    } catch (error) {
      if (error instanceof BusyError) return json(res, 409, { error: error.message });
      const message = errorMessage(error);
      options.log.warn('control room action failed', { action, error: message });
      broadcast({ event: 'action', data: { action, ok: false, message: `${action} failed: ${message}`, done: true } });
      json(res, 500, { error: `${action} failed: ${message}` });
    } finally {
      void refresh(true);
    }
  };

  return {
    async handle(req, res) {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
      const path = requestTarget(req).pathname;
      const facts: RequestFacts = { method: req.method ?? '', headers: req.headers as RequestFacts['headers'] };
      if (!path.startsWith('/api/')) {
        const verdict = checkPageRequest(facts, options.port());
        if (!verdict.ok) return refuse(res, verdict);
        if (path === '/favicon.ico') {
          res.writeHead(204);
          res.end();
          return;
        }
        const file = files[path === '/index.html' ? '/' : path];
        if (!file) return json(res, 404, { error: `not found: ${path}` });
        if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method not allowed' });
        res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length });
        res.end(req.method === 'HEAD' ? undefined : file.body);
        return;
      }
      const request = path === '/api/events' ? 'events' : actionOf(path);
      if (request === undefined) return json(res, 404, { error: `no such control-room API: ${path}` });
      const verdict = checkApiRequest(facts, options.port(), options.token, request === 'events' ? 'read' : 'action');
      if (!verdict.ok) return refuse(res, verdict);
      // Actions take no body; one that is sent is not read.
      if (request === 'events') return events(req, res);
      return act(res, request);
    },
    close() {
      for (const client of clients) client.end();
      clients.clear();
      unschedule();
    },
  };
}

export function actionOf(path: string): ActionRequest | undefined {
  const fixed: Record<string, ActionRequest> = { '/api/actions/reset': { action: 'reset' }, '/api/actions/rugpull': { action: 'rugpull' }, '/api/actions/demo': { action: 'demo' } };
  if (fixed[path]) return fixed[path];
  const match = /^\/api\/layers\/([a-z-]+)\/(on|off)$/.exec(path);
  if (!match || !CONTROL_LAYER_NAMES.includes(match[1] as ControlLayer)) return undefined;
  return { action: 'layer', layer: match[1] as ControlLayer, on: match[2] === 'on' };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
