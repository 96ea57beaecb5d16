// Prometheus' HTTP API over the embedded store, rules and scrapes, with Prometheus' response and error shapes
// (https://prometheus.io/docs/prometheus/latest/querying/api/), so that promtool, Grafana's Prometheus
// datasource and a federating Prometheus work against it: /api/v1/query, /query_range, /series, /labels,
// /label/<name>/values, /targets, /rules, /alerts, /status/buildinfo, /federate, /-/ready, /-/healthy.
// Queries come as GET parameters or a POST form, as Prometheus accepts them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Engine, PromQLError, parseDurationMs, parseExpr, type Value } from '../promql/index.ts';
import type { Alert, RuleGroupRunner } from '../rules/index.ts';
import { METRIC_NAME, formatLabels, newMatcher, type Labels, type Matcher, type MemoryStore } from '../tsdb/index.ts';
import type { Scraper } from '../scrape/scrape.ts';

export interface QueryApiOptions {
  store: MemoryStore;
  scraper?: Scraper;
  rules?: () => readonly { runner: RuleGroupRunner; intervalMs: number; lastEvaluation?: number; evaluationSeconds?: number }[];
  now?: () => number;
  lookbackDeltaMs?: number;
  /** Largest POST form accepted. */
  maxBodyBytes?: number;
  /** The external URL (for alerts' generatorURL and the page's links). */
  externalUrl?: string;
}

type Json = Record<string, unknown>;

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

const badData = (message: string) => new ApiError(400, 'bad_data', message);

const VERSION = { version: '2.42.0-trustusbank', revision: 'embedded', branch: 'main', buildUser: 'trustusbank', buildDate: '20261202-00:00:00', goVersion: 'none (TypeScript)' };

/** Every path the query API serves (GET and POST each), for mounting on a listener's route table. */
export const QUERY_API_PATHS = ['/api/v1/query', '/api/v1/query_range', '/api/v1/series', '/api/v1/labels', '/api/v1/label/*', '/api/v1/targets', '/api/v1/rules', '/api/v1/alerts', '/api/v1/status/buildinfo', '/federate', '/-/ready', '/-/healthy'] as const;

export function createQueryApi(options: QueryApiOptions): { handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> } {
  const now = options.now ?? Date.now;
  const lookback = options.lookbackDeltaMs ?? 5 * 60 * 1000;
  const engine = new Engine(options.store, { lookbackDeltaMs: lookback });
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;

  const routes: Record<string, (params: URLSearchParams) => Json | string> = {
    '/api/v1/query': (p) => {
      const query = required(p, 'query');
      const t = p.has('time') ? parseTime(p.get('time')!, 'time') : now();
      const value = engine.instantQuery(query, t);
      return { resultType: value.type, result: formatValue(value, t) };
    },
    '/api/v1/query_range': (p) => {
      const query = required(p, 'query');
      const start = parseTime(required(p, 'start'), 'start');
      const end = parseTime(required(p, 'end'), 'end');
      const step = parseStep(required(p, 'step'));
      if (end < start) throw badData('invalid parameter "end": end timestamp must not be before start time');
      if ((end - start) / step > 11_000) throw badData('exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
      const result = engine.rangeQuery(query, start, end, step);
      if (!Array.isArray(result)) return { resultType: 'matrix', result: [{ metric: {}, values: result.points.map((pt) => [pt.t / 1000, formatNumber(pt.value)]) }] };
      return { resultType: 'matrix', result: result.map((s) => ({ metric: s.labels, values: s.points.map((pt) => [pt.t / 1000, formatNumber(pt.value)]) })) };
    },
    '/api/v1/series': (p) => {
      const matchers = matchersOf(p, true);
      const [start, end] = window(p);
      return dedupe(matchers.flatMap((m) => options.store.select(m, start, end).map((s) => s.labels))) as unknown as Json;
    },
    '/api/v1/labels': (p) => {
      const [start, end] = window(p);
      const names = new Set<string>();
      for (const labels of seriesFor(p, start, end)) for (const name of Object.keys(labels)) names.add(name);
      return [...names].sort() as unknown as Json;
    },
    '/api/v1/targets': () => ({
      activeTargets: (options.scraper?.targets() ?? []).map((t) => ({
        discoveredLabels: t.target.labels,
        labels: t.target.labels,
        scrapePool: t.target.labels.job ?? '',
        scrapeUrl: t.target.url,
        globalUrl: t.target.url,
        lastError: t.lastError,
        lastScrape: t.lastScrape !== undefined ? new Date(t.lastScrape).toISOString() : '0001-01-01T00:00:00Z',
        lastScrapeDuration: t.lastScrapeDurationSeconds,
        health: t.health,
        scrapeInterval: `${(options.scraper?.intervalMs ?? 0) / 1000}s`,
        scrapeTimeout: `${(options.scraper?.timeoutMs ?? 0) / 1000}s`,
      })),
      droppedTargets: [],
    }),
    '/api/v1/rules': (p) => {
      const type = p.get('type');
      if (type !== null && type !== 'alert' && type !== 'record') throw badData(`invalid parameter "type": not supported value "${type}"`);
      return {
        groups: (options.rules?.() ?? []).map(({ runner, intervalMs, lastEvaluation, evaluationSeconds }) => {
          const health = new Map(runner.rulesHealth().map((h) => [h.rule, h]));
          return {
            name: runner.group.name,
            file: runner.group.file,
            interval: intervalMs / 1000,
            limit: 0,
            evaluationTime: evaluationSeconds ?? 0,
            lastEvaluation: lastEvaluation !== undefined ? new Date(lastEvaluation).toISOString() : '0001-01-01T00:00:00Z',
            rules: runner.group.rules
              .filter((rule) => type === null || (type === 'alert') === (rule.kind === 'alert'))
              .map((rule) => {
                const h = health.get(rule.name);
                const common = { name: rule.name, query: rule.exprText, labels: rule.labels, health: h?.lastError ? 'err' : h?.lastEvaluation !== undefined ? 'ok' : 'unknown', ...(h?.lastError ? { lastError: h.lastError } : {}), evaluationTime: 0, lastEvaluation: h?.lastEvaluation !== undefined ? new Date(h.lastEvaluation).toISOString() : '0001-01-01T00:00:00Z' };
                if (rule.kind === 'record') return { ...common, type: 'recording' };
                const alerts = runner.alertsOf(rule.name).filter((a) => a.state !== 'inactive');
                const state = alerts.some((a) => a.state === 'firing') ? 'firing' : alerts.length > 0 ? 'pending' : 'inactive';
                return { ...common, type: 'alerting', state, duration: rule.forMs / 1000, keepFiringFor: rule.keepFiringForMs / 1000, annotations: rule.annotations, alerts: alerts.map(formatAlert) };
              }),
          };
        }),
      };
    },
    '/api/v1/alerts': () => ({ alerts: (options.rules?.() ?? []).flatMap(({ runner }) => runner.alerts().filter((a) => a.state !== 'inactive').map(formatAlert)) }),
    '/api/v1/status/buildinfo': () => VERSION,
    '/federate': (p) => {
      const matchers = matchersOf(p, true);
      const t = now();
      const lines: string[] = [];
      let lastName = '';
      const latest = dedupeSeries(matchers.flatMap((m) => options.store.select(m, t - lookback, t)));
      latest.sort((a, b) => (a.labels[METRIC_NAME] ?? '').localeCompare(b.labels[METRIC_NAME] ?? ''));
      for (const series of latest) {
        const i = series.t.length - 1;
        if (i < 0 || series.stale[i] === 1) continue;
        const name = series.labels[METRIC_NAME] ?? '';
        if (name !== lastName) lines.push(`# TYPE ${name} untyped`);
        lastName = name;
        lines.push(`${expositionSeries(series.labels)} ${formatNumber(series.v[i]!)} ${series.t[i]}`);
      }
      return lines.length > 0 ? `${lines.join('\n')}\n` : '';
    },
  };

  const labelValues = (name: string, p: URLSearchParams): Json => {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) throw badData(`invalid label name: "${name}"`);
    const [start, end] = window(p);
    const values = new Set<string>();
    for (const labels of seriesFor(p, start, end)) if (labels[name] !== undefined) values.add(labels[name]!);
    return [...values].sort() as unknown as Json;
  };

  function seriesFor(p: URLSearchParams, start: number, end: number): Labels[] {
    const matchers = matchersOf(p, false);
    const sets = matchers.length > 0 ? matchers : [[newMatcher('=~', METRIC_NAME, '.+')]];
    return dedupe(sets.flatMap((m) => options.store.select(m, start, end).map((s) => s.labels)));
  }

  function window(p: URLSearchParams): [number, number] {
    const end = p.has('end') ? parseTime(p.get('end')!, 'end') : now();
    const start = p.has('start') ? parseTime(p.get('start')!, 'start') : 0;
    return [start, end];
  }

  function matchersOf(p: URLSearchParams, requiredMatch: boolean): (readonly Matcher[])[] {
    const selectors = p.getAll('match[]');
    if (requiredMatch && selectors.length === 0) throw badData('no match[] parameter provided');
    return selectors.map((selector) => {
      let expr;
      try {
        expr = parseExpr(selector);
      } catch (error) {
        throw badData(error instanceof Error ? error.message : String(error));
      }
      if (expr.kind !== 'vector') throw badData(`invalid parameter "match[]": ${selector} is not a series selector`);
      if (expr.matchers.every((m) => m.matches(''))) throw badData('invalid parameter "match[]": match[] must contain at least one non-empty matcher');
      return expr.matchers;
    });
  }

  return {
    async handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://prometheus.invalid');
      if (url.pathname === '/-/ready' || url.pathname === '/-/healthy') {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(url.pathname === '/-/ready' ? 'Prometheus Server is Ready.\n' : 'Prometheus Server is Healthy.\n');
        return true;
      }
      const labelValuesMatch = /^\/api\/v1\/label\/([^/]+)\/values$/.exec(url.pathname);
      const route = routes[url.pathname];
      if (!route && !labelValuesMatch) return false;
      try {
        if (req.method !== 'GET' && req.method !== 'POST') throw new ApiError(405, 'bad_data', `method ${req.method} not allowed`);
        const params = new URLSearchParams(url.search);
        if (req.method === 'POST') for (const [k, v] of new URLSearchParams(await readForm(req, maxBody))) params.append(k, v);
        const data = labelValuesMatch ? labelValues(decodeURIComponent(labelValuesMatch[1]!), params) : route!(params);
        if (typeof data === 'string') {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(data);
        } else {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data }));
        }
      } catch (error) {
        const e = error instanceof ApiError ? error : error instanceof PromQLError ? new ApiError(error.errorType === 'bad_data' ? 400 : 422, error.errorType, error.message) : new ApiError(500, 'internal', (error as Error).message);
        res.writeHead(e.status, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'error', errorType: e.errorType, error: e.message }));
      }
      return true;
    },
  };
}

function required(p: URLSearchParams, name: string): string {
  const value = p.get(name);
  if (value === null || value === '') throw badData(`invalid parameter "${name}": missing`);
  return value;
}

/** A Unix timestamp in seconds (fractions allowed) or RFC 3339, as Prometheus takes them; ms out. */
export function parseTime(text: string, name: string): number {
  if (/^[+-]?\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (/^\d{4}-\d{2}-\d{2}T/.test(text)) {
    const t = Date.parse(text);
    if (!Number.isNaN(t)) return t;
  }
  throw badData(`invalid parameter "${name}": cannot parse "${text}" to a valid timestamp`);
}

function parseStep(text: string): number {
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Number(text) * 1000;
  else {
    try {
      const parsed = parseDurationMs(text);
      if (parsed === undefined) throw new Error("bad duration");
      ms = parsed;
    } catch {
      throw badData(`invalid parameter "step": cannot parse "${text}" to a valid duration`);
    }
  }
  if (!(ms > 0)) throw badData('invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer');
  return ms;
}

/** Go's strconv.FormatFloat(v, 'f', -1, 64), which Prometheus uses for sample values. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const s = String(v);
  if (!/e/i.test(s)) return s;
  // Shortest digits without an exponent, as Go's 'f' with precision -1.
  const [mantissa, exp] = s.split(/e/i) as [string, string];
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const point = (mantissa.replace('-', '').indexOf('.') === -1 ? mantissa.replace('-', '').length : mantissa.replace('-', '').indexOf('.')) + Number(exp);
  const out = point <= 0 ? `0.${'0'.repeat(-point)}${digits}` : point >= digits.length ? `${digits}${'0'.repeat(point - digits.length)}` : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return `${negative ? '-' : ''}${out}`;
}

/** A series as the text exposition format writes it: `name{a="x",b="y"}`, values escaped. */
function expositionSeries(labels: Labels): string {
  const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  const pairs = Object.keys(labels)
    .filter((name) => name !== METRIC_NAME)
    .sort()
    .map((name) => `${name}="${escape(labels[name]!)}"`);
  return `${labels[METRIC_NAME] ?? ''}${pairs.length > 0 ? `{${pairs.join(',')}}` : ''}`;
}

function formatValue(value: Value, t: number): unknown {
  const ts = t / 1000;
  switch (value.type) {
    case 'scalar':
      return [ts, formatNumber(value.value)];
    case 'string':
      return [ts, value.value];
    case 'vector':
      return value.samples.map((s) => ({ metric: s.labels, value: [ts, formatNumber(s.value)] }));
    case 'matrix':
      return value.series.map((s) => ({ metric: s.labels, values: Array.from({ length: s.t.length }, (_, i) => [s.t[i]! / 1000, formatNumber(s.v[i]!)]) }));
  }
}

function formatAlert(alert: Alert): Json {
  return { labels: alert.labels, annotations: alert.annotations, state: alert.state, activeAt: new Date(alert.activeAt).toISOString(), value: formatNumber(alert.value), ...(alert.keepFiringSince !== undefined ? { keepFiringSince: new Date(alert.keepFiringSince).toISOString() } : {}) };
}

function dedupe(sets: Labels[]): Labels[] {
  const seen = new Map<string, Labels>();
  for (const labels of sets) seen.set(formatLabels(labels), labels);
  return [...seen.values()];
}

function dedupeSeries<T extends { labels: Labels }>(series: T[]): T[] {
  const seen = new Map<string, T>();
  for (const s of series) seen.set(formatLabels(s.labels), s);
  return [...seen.values()];
}

function readForm(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        reject(new ApiError(413, 'bad_data', `request body larger than ${max} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
