// The runtime every workload shares: an HTTP server with /healthz and /metrics, structured logs, a clean
// shutdown on SIGTERM/SIGINT, and the "listening" log line a supervisor reads to learn the URL.
// A workload is ordinary code: it knows its port and its environment, nothing of any mesh or gateway.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, type Registry } from 'prom-client';
import { resolveDataDir, restrictUmask } from '../../src/core/data-dir.ts';
import { UserError, errorMessage } from '../../src/core/errors.ts';
import { closeServer, listen, sendJson } from '../../src/core/http.ts';
import { createLogger, type Logger } from '../../src/core/log.ts';
import { createMetricsRegistry } from '../../src/core/metrics.ts';
import { createGuardedServer, requestTarget, sendError, type ErrorShape } from '../../src/core/request-guard.ts';
import { exportWorkloadSpans } from '../../src/core/trace-export.ts';
import { context, extractContext, SpanKind, SpanStatusCode, trace, tracer } from '../../src/core/tracing.ts';

export interface WorkloadContext {
  dataDir: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** The registry /metrics serves; workloads add their own counters to it. */
  metrics: Registry;
}

export interface Workload {
  /** Answer a request; return false to let the runtime answer 404. */
  handle(req: IncomingMessage, res: ServerResponse): boolean | Promise<boolean>;
  /** Extra fields for GET /healthz. */
  health?(): Record<string, unknown>;
  close?(): void | Promise<void>;
  /** How the workload's errors look: `jsonrpc` for an MCP or A2A endpoint, `json` by default. */
  errorShape?: ErrorShape;
}

export type WorkloadFactory = (context: WorkloadContext) => Workload | Promise<Workload>;

export interface StartOptions {
  host?: string;
  port?: number;
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  /** How the user moves the port, for the "port in use" error. */
  portHint?: string;
}

export interface RunningWorkload {
  name: string;
  url: string;
  port: number;
  metrics: Registry;
  close(): Promise<void>;
}

export async function startWorkload(name: string, factory: WorkloadFactory, options: StartOptions = {}): Promise<RunningWorkload> {
  const env = options.env ?? process.env;
  const log = options.log ?? createLogger(name);
  const metrics = createMetricsRegistry({ processMetrics: true });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered by this workload, by method, route and status.',
    labelNames: ['method', 'route', 'status'],
    registers: [metrics],
  });
  const workload = await factory({ dataDir: options.dataDir ?? resolveDataDir(undefined, env), env, log, metrics });

  const shape = workload.errorShape ?? 'json';
  const server = createGuardedServer({ shape, onError: (error, req) => log.error('request failed', { method: req.method, path: req.url, error }) }, async (req, res) => {
    const path = requestTarget(req).pathname;
    res.once('finish', () => {
      // Unmatched paths share one label so that a scanner cannot blow up the metric's cardinality.
      const route = res.statusCode === 404 ? 'unmatched' : path;
      requests.inc({ method: req.method ?? 'UNKNOWN', route, status: String(res.statusCode) });
    });
    // Probes and scrapes are not requests anyone traces.
    if (path !== '/healthz' && path !== '/metrics') {
      const parent = extractContext(req.headers);
      const span = tracer(name).startSpan(`${req.method ?? 'GET'} ${path}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? 'GET', 'url.path': path, 'client.address': req.socket.remoteAddress ?? 'unknown' } }, parent);
      res.once('close', () => {
        span.setAttribute('http.response.status_code', res.statusCode);
        if (res.statusCode === 404) span.updateName(`${req.method ?? 'GET'} unmatched`);
        if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      });
      return context.with(trace.setSpan(parent, span), () => serve(req, res, path));
    }
    return serve(req, res, path);
  });

  async function serve(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    try {
      if (req.method === 'GET' && path === '/healthz') {
        sendJson(res, 200, { status: 'ok', workload: name, ...workload.health?.() });
        return;
      }
      if (req.method === 'GET' && path === '/metrics') {
        const body = await metrics.metrics();
        res.writeHead(200, { 'content-type': metrics.contentType });
        res.end(body);
        return;
      }
      if (!(await workload.handle(req, res))) sendJson(res, 404, { error: 'not found', path });
    } catch (error) {
      log.error('request failed', { method: req.method, path, error });
      if (!res.headersSent) sendError(res, shape, 500, 'internal error');
      else res.destroy();
    }
  }

  let bound;
  try {
    bound = await listen(server, {
      host: options.host ?? env.HOST ?? '127.0.0.1',
      port: options.port ?? parsePort(env.PORT),
      portHint: options.portHint ?? '--port N (or PORT in the environment)',
    });
  } catch (error) {
    await workload.close?.();
    throw error;
  }
  log.info('listening', { url: bound.url, port: bound.port, host: bound.host });

  let closing: Promise<void> | undefined;
  return {
    name,
    url: bound.url,
    port: bound.port,
    metrics,
    close: () =>
      (closing ??= (async () => {
        await closeServer(server);
        await workload.close?.();
      })()),
  };
}

export function parsePort(value: string | undefined, fallback = 8080): number {
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`PORT must be a whole number from 0 to 65535, got "${value}"`);
  return port;
}

/** The entry point of a workload process: start, log, and stop cleanly on SIGTERM or SIGINT. */
export async function runWorkloadMain(name: string, factory: WorkloadFactory, options: { serviceName?: (env: NodeJS.ProcessEnv) => string | undefined } = {}): Promise<void> {
  // A workload's files (a bank database, an agent's conversations) are its owner's alone.
  restrictUmask();
  const log = createLogger(name);
  // One process, one service: the name its spans carry (an agent pod's is its agent's, from its config).
  exportWorkloadSpans(options.serviceName?.(process.env) ?? name, process.env);
  let running: RunningWorkload;
  try {
    running = await startWorkload(name, factory, { log });
  } catch (error) {
    if (error instanceof UserError) {
      process.stderr.write(`${name}: ${error.message}\n`);
      process.exit(error.exitCode);
    }
    throw error;
  }
  const stop = (signal: string): void => {
    log.info('shutting down', { signal });
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('shutdown failed', { error: errorMessage(error) });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
