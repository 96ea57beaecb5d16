// The chatbot's A2A proxy: `/api/a2a/<namespace>/<agent>/…` to the agent's Service, as the seed's nginx does.
// The pod's outbound connections are captured by the mesh, so the agent (and its waypoint's AccessPolicy) sees
// the chatbot's own SPIFFE identity. routeA2a decides where a request may go; this module does the I/O: the
// same-origin and content-type checks that keep other web pages from driving it, a bounded body, a chosen
// set of headers each way, a traceparent on every exchange, and the stream passed through as it comes.
import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { BodyTooLargeError, readBody, sendJson } from '../../src/core/http.ts';
import type { Logger } from '../../src/core/log.ts';
import { isTraceparent, newTraceparent, routeA2a, traceIdOf, type RouteOptions } from './a2a-route.ts';
import { activeTraceparent } from '../../src/core/tracing.ts';

/** A prompt and its JSON-RPC envelope fit many times over; an A2A message with files does not belong here. */
export const MAX_A2A_BODY_BYTES = 64 * 1024;
/** A scripted reply takes a second; a real model's tool chain can take minutes. */
const UPSTREAM_TIMEOUT_MS = 180_000;
/** Headers the agent may see from the browser; cookies, authorization and mesh headers stay behind. */
const FORWARDED_REQUEST_HEADERS = ['accept', 'a2a-version', 'a2a-extensions'];
/** Headers the browser may see from the agent. */
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'a2a-version', 'vary'];

export interface ProxyOptions extends RouteOptions {
  log: Logger;
  maxBodyBytes?: number;
  timeoutMs?: number;
}

/** Answer one request under /api/a2a/: refused with `{error, message}` as the waypoints refuse, or forwarded. */
export async function proxyA2a(req: IncomingMessage, res: ServerResponse, options: ProxyOptions): Promise<void> {
  const refuse = (status: number, message: string, headers: Record<string, string> = {}): void => {
    options.log.warn('a2a request refused', { method: req.method, path: req.url?.slice(0, 200), status, reason: message });
    sendJson(res, status, { error: STATUS_TEXT[status] ?? 'refused', message }, headers);
  };
  const route = routeA2a(req.method, req.url ?? '', options);
  if (!route.ok) return refuse(route.status, route.message, route.allow ? { allow: route.allow } : {});
  if (!sameOrigin(req)) return refuse(403, 'cross-origin requests are not served: the chatbot only answers its own page');

  let body: Buffer | undefined;
  if (route.method === 'POST') {
    // A cross-site form can post text/plain without asking first; JSON needs a CORS preflight we never grant.
    if (!/^application\/json\s*(?:;|$)/i.test(header(req, 'content-type') ?? '')) return refuse(415, 'A2A JSON-RPC takes content-type: application/json');
    try {
      body = await readBody(req, options.maxBodyBytes ?? MAX_A2A_BODY_BYTES);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      res.setHeader('connection', 'close');
      return refuse(413, `the request body is over ${options.maxBodyBytes ?? MAX_A2A_BODY_BYTES} bytes`);
    }
  }

  // The chatbot's own span (the workload runtime's, continuing the page's trace) is the agent's parent; outside
  // a traced request, the page's trace context, or a fresh one.
  const offered = header(req, 'traceparent');
  const traceparent = activeTraceparent() ?? (isTraceparent(offered) ? offered : newTraceparent((n) => randomBytes(n)));
  const headers: Record<string, string> = { traceparent };
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = header(req, name);
    if (value !== undefined) headers[name] = value;
  }
  if (body) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(body.length);
  }

  const started = performance.now();
  await new Promise<void>((resolve) => {
    const upstream = httpRequest(route.url, { method: route.method, headers, timeout: options.timeoutMs ?? UPSTREAM_TIMEOUT_MS }, (answer) => {
      const out: Record<string, string> = { 'cache-control': 'no-store', traceparent };
      for (const name of FORWARDED_RESPONSE_HEADERS) {
        const value = answer.headers[name];
        if (typeof value === 'string') out[name] = value;
      }
      res.writeHead(answer.statusCode ?? 502, out);
      // Server-sent events must reach the page as they are written, not when a buffer fills.
      res.flushHeaders();
      answer.pipe(res);
      answer.once('end', () => {
        options.log.info('a2a exchange', { agent: `${route.namespace}/${route.agent}`, path: route.path, status: answer.statusCode, trace_id: traceIdOf(traceparent), duration_ms: Math.round(performance.now() - started) });
        resolve();
      });
      answer.once('error', () => {
        res.destroy();
        resolve();
      });
    });
    upstream.once('timeout', () => upstream.destroy(new Error(`no answer within ${(options.timeoutMs ?? UPSTREAM_TIMEOUT_MS) / 1000} s`)));
    upstream.once('error', (error: NodeJS.ErrnoException) => {
      options.log.warn('a2a upstream failed', { agent: `${route.namespace}/${route.agent}`, error: error.code ?? error.message, trace_id: traceIdOf(traceparent) });
      if (!res.headersSent) sendJson(res, 502, { error: 'bad gateway', message: `${route.agent}.${route.namespace} is unreachable: ${error.code ?? error.message}` }, { traceparent });
      else res.destroy();
      resolve();
    });
    // The page went away (a closed tab): stop the upstream exchange with it.
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
      resolve();
    });
    upstream.end(body);
  });
}

/** No Origin (same-origin GET, curl) or an Origin naming the Host the request came to. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = header(req, 'origin');
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === header(req, 'host');
  } catch {
    return false;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'bad request',
  403: 'forbidden',
  404: 'not found',
  405: 'method not allowed',
  413: 'payload too large',
  415: 'unsupported media type',
};
