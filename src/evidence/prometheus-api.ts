// The cluster's Prometheus-compatible listener (host port 18002, loopback only). Today it serves `GET /metrics`:
// the cluster's own exposition (ztunnel, waypoints, agent gateways, admission, the `up` process), in the text
// format a Prometheus server scrapes. It is a route table so that the query API (`/api/v1/*`) and `/federate`
// join the same listener as routes of their own modules, not as branches in this one.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendText } from '../core/http.ts';
import { requestTarget, sendError } from '../core/request-guard.ts';

export const PROMETHEUS_PORT = 18002;

export type RouteMethod = 'GET' | 'POST';
/** Answers one request; `url` is the parsed request-target. HEAD is served by the GET handler. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => unknown;

/** What the listener exposes of a metrics source: a prom-client Registry is one. */
export interface MetricsSource {
  metrics(): Promise<string>;
  contentType: string;
}

export class DuplicateRouteError extends Error {
  override readonly name = 'DuplicateRouteError';
  constructor(readonly key: string) {
    super(`route ${key} is already served by the Prometheus API listener`);
  }
}

export interface PrometheusApi {
  /**
   * Serve `method path` here. A path ending in `/*` takes every path under it (`/api/v1/label/*`); an exact
   * path wins over a prefix. A second handler for the same key is refused, never silently replaced.
   */
  route(method: RouteMethod, path: string, handler: RouteHandler): void;
  /** The served keys (`GET /metrics`, ...), sorted. */
  routes(): string[];
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** What `GET /` shows (default: the list of routes); the evidence stack sets its page here. */
  setIndex(handler: RouteHandler): void;
  close(): void;
}

export function createPrometheusApi(options: { metrics: MetricsSource }): PrometheusApi {
  const exact = new Map<string, RouteHandler>();
  const prefixes = new Map<string, RouteHandler>();

  const find = (method: string, path: string): RouteHandler | undefined => {
    const key = `${method} ${path}`;
    const direct = exact.get(key);
    if (direct) return direct;
    let best: { length: number; handler: RouteHandler } | undefined;
    for (const [prefix, handler] of prefixes) {
      if (key.startsWith(prefix) && (!best || prefix.length > best.length)) best = { length: prefix.length, handler };
    }
    return best?.handler;
  };

  let index: RouteHandler | undefined;
  const api: PrometheusApi = {
    route(method, path, handler) {
      if (!path.startsWith('/')) throw new Error(`route path must start with "/", got ${JSON.stringify(path)}`);
      const key = `${method} ${path}`;
      const table = path.endsWith('/*') ? prefixes : exact;
      const tableKey = path.endsWith('/*') ? key.slice(0, -1) : key;
      if (table.has(tableKey)) throw new DuplicateRouteError(key);
      table.set(tableKey, handler);
    },
    routes: () => [...exact.keys(), ...[...prefixes.keys()].map((prefix) => `${prefix}*`)].sort(),
    async handle(req, res) {
      const url = requestTarget(req);
      const method = req.method === 'HEAD' ? 'GET' : (req.method ?? '');
      const handler = find(method, url.pathname);
      if (handler) {
        await handler(req, res, url);
        return;
      }
      const allowed = (['GET', 'POST'] as const).filter((m) => find(m, url.pathname) !== undefined);
      if (allowed.length > 0) {
        res.setHeader('allow', allowed.includes('GET') ? [...allowed, 'HEAD'].join(', ') : allowed.join(', '));
        sendError(res, 'json', 405, `${req.method} is not served on ${url.pathname} (allowed: ${allowed.join(', ')})`);
        return;
      }
      sendError(res, 'json', 404, `nothing is served at ${url.pathname}; this listener serves ${api.routes().join(', ')}`);
    },
    setIndex: (handler) => {
      index = handler;
    },
    close: () => undefined,
  };

  api.route('GET', '/metrics', async (_req, res) => {
    const body = await options.metrics.metrics();
    res.writeHead(200, { 'content-type': options.metrics.contentType, 'cache-control': 'no-store' });
    res.end(body);
  });
  // A person following the URL table lands here: say what the listener serves rather than a bare 404.
  api.route('GET', '/', (req, res, url) => {
    if (index) return index(req, res, url);
    sendText(res, 200, `TrustUsBank Prometheus-compatible API. Served here:\n${api.routes().map((key) => `  ${key}\n`).join('')}`);
  });
  return api;
}
