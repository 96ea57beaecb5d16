// The embedded trace collector of trustusbank-observability: spans in (from the node's own components, from
// each pod over its channel to the node, and as OTLP/HTTP JSON on POST /v1/traces), kept in a bounded store,
// served with Tempo's HTTP API on host port 18003 (loopback only), and forwarded, when
// OTEL_EXPORTER_OTLP_ENDPOINT (or _TRACES_ENDPOINT) names one, to a real backend (Jaeger, Tempo, an OTel
// Collector) as OTLP/HTTP JSON.
//   POST /v1/traces                      OTLP/HTTP, JSON (protobuf is answered 415)
//   GET  /api/echo                       "echo" (Grafana's Tempo datasource health check)
//   GET  /api/traces/<id>                {batches: ResourceSpans[]} (Tempo v1)
//   GET  /api/v2/traces/<id>             {trace: {resourceSpans}} (Tempo v2)
//   GET  /api/search?tags=&start=&end=&minDuration=&maxDuration=&limit=   {traces: [...], metrics}
//   GET  /api/search/tags, /api/v2/search/tags, /api/search/tag/<tag>/values
//   GET  /, /trace/<id>                  the pages (search, one trace as a waterfall)
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Counter, Gauge, type Registry } from 'prom-client';
import { sendHtml } from '../../core/html.ts';
import { BodyTooLargeError, listen, readBody, sendJson, sendText } from '../../core/http.ts';
import { createGuardedServer, requestTarget } from '../../core/request-guard.ts';
import type { OtlpTraceRequest } from '../../core/tracing.ts';
import { otlpTracesUrl } from '../../core/trace-export.ts';
import { flattenRequest, OtlpError, toResourceSpans, type SpanExporter } from './otlp.ts';
import { searchPage, tracePage } from './page.ts';
import { parseTags, TraceStore, type SearchQuery } from './store.ts';

export const TRACES_PORT = 18003;
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Per exporter: a steady rate and a burst, so one pod cannot drown the store or the node. */
const RATE_SPANS_PER_SECOND = 2_000;
const BURST_SPANS = 20_000;
const FORWARD_QUEUE = 64;

export interface CollectorOptions {
  port: number;
  portHint?: string;
  /** Where to forward (the process's OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT). */
  env?: NodeJS.ProcessEnv;
  metrics?: Registry;
  maxSpans?: number;
  log: (message: string, fields?: Record<string, unknown>) => void;
  fetch?: typeof fetch;
}

export interface TraceCollector {
  url: string;
  store: TraceStore;
  /** Take one export request from an exporter the node knows; returns how many spans were kept. */
  ingest(request: unknown, exporter: SpanExporter): number;
  /** Resolves once every forward queued so far has been sent or failed. */
  forwarded(): Promise<void>;
  close(): Promise<void>;
}

export async function startTraceCollector(options: CollectorOptions): Promise<TraceCollector> {
  const store = new TraceStore(options.maxSpans);
  const existing = <T>(name: string): T | undefined => options.metrics?.getSingleMetric(name) as T | undefined;
  const registers = options.metrics ? [options.metrics] : [];
  const received =
    existing<Counter<'exporter'>>('trustusbank_trace_spans_received_total') ??
    new Counter({ name: 'trustusbank_trace_spans_received_total', help: 'Spans the trace collector accepted, by who exported them.', labelNames: ['exporter'], registers });
  const dropped =
    existing<Counter<'reason'>>('trustusbank_trace_spans_dropped_total') ??
    new Counter({ name: 'trustusbank_trace_spans_dropped_total', help: 'Spans the trace collector refused or could not forward, by reason.', labelNames: ['reason'], registers });
  const stored =
    existing<Gauge>('trustusbank_trace_store_spans') ?? new Gauge({ name: 'trustusbank_trace_store_spans', help: 'Spans held in the trace store.', registers });
  const buckets = new Map<string, { tokens: number; at: number }>();
  const target = otlpTracesUrl(options.env ?? process.env);
  const send = options.fetch ?? fetch;
  const queue: Promise<void>[] = [];
  let lastForwardWarning = 0;

  const forward = (request: OtlpTraceRequest): void => {
    if (!target) return;
    if (queue.length >= FORWARD_QUEUE) {
      dropped.inc({ reason: 'forward_queue_full' }, request.resourceSpans.reduce((n, rs) => n + rs.scopeSpans.reduce((m, ss) => m + ss.spans.length, 0), 0));
      return;
    }
    const job = send(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request), signal: AbortSignal.timeout(10_000) })
      .then(async (response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`);
      })
      .catch((error: unknown) => {
        dropped.inc({ reason: 'forward_failed' });
        // One line a minute, not one per batch: a backend that is down must not flood the log.
        if (Date.now() - lastForwardWarning > 60_000) {
          lastForwardWarning = Date.now();
          options.log('trace forward failed', { endpoint: target, error: (error as Error).message });
        }
      })
      .finally(() => queue.splice(queue.indexOf(job), 1));
    queue.push(job);
  };

  const allowed = (key: string, count: number): boolean => {
    const now = Date.now();
    const bucket = buckets.get(key) ?? { tokens: BURST_SPANS, at: now };
    bucket.tokens = Math.min(BURST_SPANS, bucket.tokens + ((now - bucket.at) / 1000) * RATE_SPANS_PER_SECOND);
    bucket.at = now;
    buckets.set(key, bucket);
    if (bucket.tokens < count) return false;
    bucket.tokens -= count;
    return true;
  };

  const ingest = (request: unknown, exporter: SpanExporter): number => {
    const { spans, rejected } = flattenRequest(request, exporter);
    if (rejected > 0) dropped.inc({ reason: 'invalid' }, rejected);
    if (spans.length === 0) return 0;
    const key = exporter.kind === 'pod' ? `pod/${exporter.namespace}/${exporter.pod}` : exporter.kind;
    // The node's own spans are not rate limited: they are the mesh's record, and the node makes them itself.
    if (exporter.kind !== 'node' && !allowed(key, spans.length)) {
      dropped.inc({ reason: 'rate_limited' }, spans.length);
      return 0;
    }
    const before = store.droppedSpans;
    const kept = store.add(spans);
    if (store.droppedSpans > before) dropped.inc({ reason: 'trace_too_large' }, store.droppedSpans - before);
    received.inc({ exporter: exporter.kind }, kept);
    stored.set(store.size.spans);
    forward({ resourceSpans: toResourceSpans(spans) });
    return kept;
  };

  const server: Server = createGuardedServer({ shape: 'json', onError: (error) => options.log('trace collector request failed', { error: (error as Error).message }) }, (req, res) => handle(req, res));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = requestTarget(req);
    const path = url.pathname;
    if (path === '/v1/traces') {
      if (req.method !== 'POST') return sendJson(res, 405, { code: 12, message: 'POST OTLP/HTTP export requests here' }, { allow: 'POST' });
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json') return sendJson(res, 415, { code: 3, message: `this collector takes OTLP/HTTP JSON (content-type application/json), not ${type || 'no content type'}; set OTEL_EXPORTER_OTLP_PROTOCOL=http/json` });
      let body: Buffer;
      try {
        body = await readBody(req, MAX_BODY_BYTES);
      } catch (error) {
        if (error instanceof BodyTooLargeError) return sendJson(res, 413, { code: 8, message: `export request larger than ${MAX_BODY_BYTES} bytes` }, { connection: 'close' });
        throw error;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        return sendJson(res, 400, { code: 3, message: 'the body is not JSON' });
      }
      try {
        const kept = ingest(parsed, { kind: 'otlp-http' });
        return sendJson(res, 200, kept > 0 ? {} : { partialSuccess: { rejectedSpans: String(countSpans(parsed)), errorMessage: 'no span was accepted (invalid ids or times, or rate limited)' } });
      } catch (error) {
        if (error instanceof OtlpError) return sendJson(res, 400, { code: 3, message: error.message });
        throw error;
      }
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'the trace API is read-only' }, { allow: 'GET' });
    if (path === '/api/echo') return sendText(res, 200, 'echo');
    const v1 = /^\/api\/traces\/([0-9a-fA-F]{1,32})$/.exec(path);
    const v2 = /^\/api\/v2\/traces\/([0-9a-fA-F]{1,32})$/.exec(path);
    if (v1 || v2) {
      const traceId = (v1 ?? v2)![1]!.toLowerCase().padStart(32, '0');
      const spans = store.trace(traceId);
      if (!spans) return sendJson(res, 404, { error: `trace ${traceId} not found` });
      const resourceSpans = toResourceSpans(spans);
      return sendJson(res, 200, v1 ? { batches: resourceSpans } : { trace: { resourceSpans }, status: 'COMPLETE' });
    }
    if (path === '/api/search') {
      const query = searchQuery(url.searchParams);
      if (typeof query === 'string') return sendJson(res, 400, { error: query });
      const traces = store.search(query);
      return sendJson(res, 200, { traces, metrics: { inspectedTraces: store.size.traces } });
    }
    if (path === '/api/search/tags') return sendJson(res, 200, { tagNames: store.tagNames() });
    if (path === '/api/v2/search/tags') return sendJson(res, 200, { scopes: [{ name: 'span', tags: store.tagNames() }] });
    const values = /^\/api(?:\/v2)?\/search\/tag\/([^/]+)\/values$/.exec(path);
    if (values) {
      const tag = decodeURIComponent(values[1]!).replace(/^(span|resource)\./, '');
      return sendJson(res, 200, path.startsWith('/api/v2') ? { tagValues: store.tagValues(tag).map((value) => ({ type: 'string', value })) } : { tagValues: store.tagValues(tag) });
    }
    if (path === '/') {
      const tags = url.searchParams.get('tags') ?? '';
      const query = searchQuery(new URLSearchParams({ tags, limit: '50' }));
      return sendHtml(res, 200, searchPage(tags, typeof query === 'string' ? query : store.search(query), `${store.size.traces} traces, ${store.size.spans} spans held (at most ${options.maxSpans ?? 50_000} spans; the oldest traces go first). Tempo's API: /api/search, /api/traces/<id>.`));
    }
    const page = /^\/trace\/([0-9a-f]{32})$/.exec(path);
    if (page) {
      const spans = store.trace(page[1]!);
      if (!spans) return sendHtml(res, 404, searchPage('', `trace ${page[1]} not found (it may have been evicted, or its spans not yet flushed)`, ''));
      return sendHtml(res, 200, tracePage(page[1]!, spans));
    }
    return sendJson(res, 404, { error: 'not found', path });
  }

  const bound = await listen(server, { host: '127.0.0.1', port: options.port, portHint: options.portHint ?? '--traces-port N' });
  return {
    url: bound.url,
    store,
    ingest,
    forwarded: async () => {
      await Promise.all([...queue]);
    },
    close: async () => {
      server.close();
      server.closeAllConnections();
      await Promise.all([...queue]);
    },
  };
}

function countSpans(raw: unknown): number {
  const request = raw as OtlpTraceRequest | null;
  if (!Array.isArray(request?.resourceSpans)) return 0;
  return request.resourceSpans.reduce((n, rs) => n + (Array.isArray(rs?.scopeSpans) ? rs.scopeSpans.reduce((m, ss) => m + (Array.isArray(ss?.spans) ? ss.spans.length : 0), 0) : 0), 0);
}

/** Tempo's search parameters, checked: a message naming the bad one, or the query. */
export function searchQuery(params: URLSearchParams): SearchQuery | string {
  if (params.has('q')) return 'TraceQL (q=) is not supported here; search with tags= (logfmt, e.g. tags=trustusbank.decision%3Ddeny)';
  const tags = parseTags(params.get('tags') ?? '');
  if (typeof tags === 'string') return tags;
  const number = (name: string): number | undefined | string => {
    const raw = params.get(name);
    if (raw === null || raw === '') return undefined;
    const value = Number(raw);
    return Number.isFinite(value) && value >= 0 ? value : `${name} must be a non-negative number, got "${raw}"`;
  };
  const duration = (name: string): number | undefined | string => {
    const raw = params.get(name);
    if (raw === null || raw === '') return undefined;
    const match = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)$/.exec(raw);
    if (!match) return `${name} must be a duration such as 100ms or 2s, got "${raw}"`;
    const scale: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
    return Number(match[1]) * scale[match[2]!]!;
  };
  const start = number('start');
  const end = number('end');
  const limit = number('limit');
  const min = duration('minDuration');
  const max = duration('maxDuration');
  for (const v of [start, end, limit, min, max]) if (typeof v === 'string') return v;
  return {
    tags,
    ...(start !== undefined ? { start: start as number } : {}),
    ...(end !== undefined ? { end: end as number } : {}),
    ...(min !== undefined ? { minDurationMs: min as number } : {}),
    ...(max !== undefined ? { maxDurationMs: max as number } : {}),
    limit: Math.min(Math.max(Math.floor((limit as number | undefined) ?? 20), 1), 1000),
  };
}
