// The embedded DORA evidence dashboard (host port 18001, loopback only): the page that renders
// deploy/dashboards/trustusbank-dora-evidence.json, the same file a real Grafana imports. The server serves the
// page (no inline script: the browser bundle is a file of its own, under a CSP that forbids everything else),
// the dashboard JSON in Grafana's API shape, a read-only proxy to the Prometheus API on 18002 in Grafana's
// datasource-proxy shape (so the page's CSP stays connect-src 'self'), and the deny log lines.
//   GET /                                            → /d/<uid>
//   GET /d/<uid>                                     the page (index.html shell, /app.js, /app.css)
//   GET /api/dashboards/uid/<uid>                    {dashboard, meta}, as Grafana answers it
//   GET /api/datasources/proxy/uid/prometheus/api/v1/{query,query_range,series}   proxied to the evidence API
//   GET /api/deny-logs?from=<ms>&limit=<n>           {lines: DenyLine[]}, newest first
//   GET /incidents, /incidents/<id>                  the incident records' pages (server-rendered, no script)
//   GET /api/incidents[/<id>], /api/ledger/<seq>     the same as JSON, and a ledger record as signed
import { escapeHtml, scriptPageHeaders, sendHtml } from '../../core/html.ts';
import type { Incident } from '../incidents/derive.ts';
import { incidentListPage, incidentPage } from '../incidents/page.ts';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { listen, sendJson } from '../../core/http.ts';
import { createGuardedServer, requestTarget, sendError } from '../../core/request-guard.ts';
import { PROJECT_ROOT } from '../../runtime/images.ts';
import { bundleDashboardScript } from './assets.ts';
import { readDenyLines } from './deny-log.ts';
import { DENY_LOG_PATH, parseDashboard, type Dashboard } from './model.ts';
import { APP_CSS, indexHtml } from './page/document.ts';

export const DASHBOARD_PORT = 18001;
export const DASHBOARD_FILE = join(PROJECT_ROOT, 'deploy', 'dashboards', 'trustusbank-dora-evidence.json');
/** The datasource uid the page's queries go through (Grafana's proxy path). */
export const PROXY_PREFIX = '/api/datasources/proxy/uid/prometheus';
const PROXIED = new Set(['/api/v1/query', '/api/v1/query_range', '/api/v1/series']);

export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

const SECURITY_HEADERS: Readonly<Record<string, string>> = { ...scriptPageHeaders(DASHBOARD_CSP), 'cache-control': 'no-store' };

export interface DashboardServerOptions {
  /** The page's bundled script (assets.ts). */
  script: Uint8Array;
  /** The evidence API (18002) the proxy forwards to. */
  prometheusUrl: () => string;
  /** <data-dir>/logs: where the deny log lines come from. */
  logsDir: string;
  dashboardFile?: string;
  /** The trace collector's base URL (its pages link each deny to its trace). */
  tracesUrl?: () => string | undefined;
  /** The incident records (newest first) and the ledger records they cite: the incident pages. */
  incidents?: () => Incident[];
  ledgerRecord?: (seq: number) => unknown;
  /** The SOC inbox's page, linked from an incident. */
  inboxUrl?: () => string | undefined;
}

export function createDashboardHandler(options: DashboardServerOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const raw = JSON.parse(readFileSync(options.dashboardFile ?? DASHBOARD_FILE, 'utf8')) as unknown;
  const dashboard: Dashboard = parseDashboard(raw);
  const pagePath = `/d/${dashboard.uid}`;
  const html = Buffer.from(indexHtml(dashboard.title));
  const files: Record<string, { body: Uint8Array; type: string }> = {
    [pagePath]: { body: html, type: 'text/html; charset=utf-8' },
    '/app.js': { body: options.script, type: 'text/javascript; charset=utf-8' },
    '/app.css': { body: Buffer.from(APP_CSS), type: 'text/css; charset=utf-8' },
  };
  return async (req, res) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const url = requestTarget(req);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendError(res, 'json', 405, `${req.method} is not served here: this dashboard is read-only`);
    }
    if (url.pathname === '/') {
      res.writeHead(302, { location: pagePath }).end();
      return;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204, { 'cache-control': 'max-age=86400' }).end();
      return;
    }
    const file = files[url.pathname];
    if (file) {
      res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length });
      res.end(req.method === 'HEAD' ? undefined : file.body);
      return;
    }
    if (url.pathname === `/api/dashboards/uid/${dashboard.uid}`) {
      const tracesUrl = options.tracesUrl?.();
      return sendJson(res, 200, { dashboard: raw, meta: { slug: 'trustusbank-dora-evidence', url: pagePath, canSave: false, ...(tracesUrl ? { tracesUrl } : {}) } });
    }
    if (options.incidents && (url.pathname === '/incidents' || url.pathname.startsWith('/incidents/') || url.pathname.startsWith('/api/incidents'))) {
      return serveIncidents(res, url.pathname, options);
    }
    const ledger = /^\/api\/ledger\/(\d{1,12})$/.exec(url.pathname);
    if (ledger && options.ledgerRecord) {
      const record = options.ledgerRecord(Number(ledger[1]));
      return record === undefined ? sendError(res, 'json', 404, `no ledger record #${ledger[1]}`) : sendJson(res, 200, record);
    }
    if (url.pathname === DENY_LOG_PATH) {
      const since = Number(url.searchParams.get('from') ?? '0');
      const limit = Number(url.searchParams.get('limit') ?? '200');
      if (!Number.isFinite(since) || !Number.isInteger(limit) || limit < 1 || limit > 1000) return sendError(res, 'json', 400, 'from must be a time in milliseconds and limit an integer from 1 to 1000');
      return sendJson(res, 200, { lines: readDenyLines(options.logsDir, { sinceMs: since, limit }) });
    }
    if (url.pathname.startsWith(`${PROXY_PREFIX}/`)) {
      const path = url.pathname.slice(PROXY_PREFIX.length);
      if (!PROXIED.has(path)) return sendError(res, 'json', 404, `only ${[...PROXIED].join(', ')} are proxied to the evidence API`);
      return proxy(res, new URL(`${path}${url.search}`, options.prometheusUrl()));
    }
    sendError(res, 'json', 404, `nothing is served at ${url.pathname}; the dashboard is at ${pagePath}`);
  };
}

/** The incident pages (server-rendered, no script: `sendHtml` sets the stricter page headers) and their JSON. */
function serveIncidents(res: ServerResponse, path: string, options: DashboardServerOptions): void {
  const incidents = options.incidents!();
  const now = Date.now();
  if (path === '/incidents') return sendHtml(res, 200, incidentListPage(incidents, now));
  if (path === '/api/incidents') return sendJson(res, 200, { incidents });
  const id = decodeURIComponent(path.replace(/^\/(api\/)?incidents\//, ''));
  const incident = incidents.find((i) => i.id === id);
  if (path.startsWith('/api/')) return incident ? sendJson(res, 200, incident) : sendError(res, 'json', 404, `no incident ${id}`);
  if (!incident) return sendHtml(res, 404, incidentListPage(incidents, now).replace('<h1>', `<p role="alert">No incident ${escapeHtml(id)}.</p>\n<h1>`));
  const prometheus = options.prometheusUrl();
  const traces = options.tracesUrl?.();
  const inbox = options.inboxUrl?.();
  sendHtml(res, 200, incidentPage(incident, { prometheus, ...(traces ? { traces } : {}), ...(inbox ? { inbox } : {}) }, now));
}

/** Forward a GET to the evidence API and pass its status and JSON through (Prometheus' error shapes included). */
async function proxy(res: ServerResponse, target: URL): Promise<void> {
  let upstream: Response;
  try {
    upstream = await fetch(target, { signal: AbortSignal.timeout(15_000) });
  } catch (error) {
    return sendJson(res, 502, { status: 'error', errorType: 'unavailable', error: `the evidence API at ${target.origin} did not answer: ${(error as Error).message}` });
  }
  const body = Buffer.from(await upstream.arrayBuffer());
  res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json', 'content-length': body.length });
  res.end(body);
}

export interface RunningDashboard {
  server: Server;
  port: number;
  url: string;
  /** The dashboard itself (`/d/<uid>`), as Grafana's URL for it. */
  pageUrl: string;
  close(): Promise<void>;
}

/** Serve the dashboard on 127.0.0.1; the page's script is bundled now unless given. */
export async function startDashboard(options: Omit<DashboardServerOptions, 'script'> & { script?: Uint8Array; port: number; portHint: string }): Promise<RunningDashboard> {
  const script = options.script ?? (await bundleDashboardScript());
  const uid = parseDashboard(JSON.parse(readFileSync(options.dashboardFile ?? DASHBOARD_FILE, 'utf8'))).uid;
  const server = createGuardedServer({ shape: 'json' }, createDashboardHandler({ ...options, script }));
  const bound = await listen(server, { host: '127.0.0.1', port: options.port, portHint: options.portHint });
  return {
    server,
    port: bound.port,
    url: `${bound.url}/`,
    pageUrl: `${bound.url}/d/${uid}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
