// Alertmanager's HTTP API v2 (the subset Prometheus and amtool use) with its JSON shapes and error shapes:
// a body that is not JSON of the right type → 400 {"code":400,"message":"parsing … failed, because …"}; a
// missing or mistyped field → 422 {"code":602,"message":"… in body is required"}; an alert or silence that
// Alertmanager itself refuses → 400 with the reason as a JSON string.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, readBody, sendJson, sendText } from '../../core/http.ts';
import { requestTarget } from '../../core/request-guard.ts';
import type { Alert, PostedAlert } from './alerts.ts';
import type { AlertFilter, AlertView, Alertmanager } from './alertmanager.ts';
import { MatcherError } from './errors.ts';
import { alertmanagerMetricsText } from './metrics.ts';
import type { Matcher } from './matchers.ts';
import { parseMatcher } from './matchers.ts';
import type { Silence, SilenceMatcher } from './silences.ts';
import { SilenceExpiredError, SilenceLimitError, SilenceNotFoundError, silenceState, validateSilence } from './silences.ts';

export const MAX_BODY_BYTES = 4 * 1024 * 1024;
export const VERSION = '0.25.0-trustusbank';
const ZERO_TIME = Date.parse('0001-01-01T00:00:00Z');

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
  }
}

const parsing = (what: string, why: string): ApiError => new ApiError(400, { code: 400, message: `parsing ${what} body from "" failed, because ${why}` });
const required = (field: string): ApiError => new ApiError(422, { code: 602, message: `${field} in body is required` });
const wrongType = (field: string, type: string, value: unknown): ApiError => new ApiError(422, { code: 602, message: `${field} in body must be of type ${type}: ${JSON.stringify(value)}` });

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function time(value: unknown, field: string): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'string' || !RFC3339.test(value) || Number.isNaN(Date.parse(value))) throw wrongType(field, 'date-time', value);
  const ms = Date.parse(value);
  return ms <= ZERO_TIME ? 0 : ms;
}

function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw parsing('alerts', `json: cannot unmarshal ${jsonType(value)} into Go struct field ${field} of type models.LabelSet`);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw parsing('alerts', `json: cannot unmarshal ${jsonType(v)} into Go struct field ${field}.${key} of type string`);
  }
  return value as Record<string, string>;
}

function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'object' : typeof value;
}

function parseJson(body: Buffer, what: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw parsing(what, (error as Error).message);
  }
}

export function parsePostedAlerts(body: Buffer): PostedAlert[] {
  const doc = parseJson(body, 'alerts');
  if (!Array.isArray(doc)) throw parsing('alerts', `json: cannot unmarshal ${jsonType(doc)} into Go value of type models.PostableAlerts`);
  return doc.map((item: unknown, i): PostedAlert => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw parsing('alerts', `json: cannot unmarshal ${jsonType(item)} into Go value of type models.PostableAlert`);
    const raw = item as Record<string, unknown>;
    if (raw.labels === undefined || raw.labels === null) throw required(`${i}.labels`);
    if (raw.generatorURL !== undefined && typeof raw.generatorURL !== 'string') throw wrongType(`${i}.generatorURL`, 'uri', raw.generatorURL);
    return {
      labels: stringMap(raw.labels, 'PostableAlert.labels'),
      annotations: stringMap(raw.annotations, 'PostableAlert.annotations'),
      startsAt: time(raw.startsAt, `${i}.startsAt`),
      endsAt: time(raw.endsAt, `${i}.endsAt`),
      generatorURL: (raw.generatorURL as string | undefined) ?? '',
    };
  });
}

function parsePostedSilence(body: Buffer): Omit<Silence, 'id' | 'updatedAt'> & { id?: string } {
  const doc = parseJson(body, 'silence');
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw parsing('silence', `json: cannot unmarshal ${jsonType(doc)} into Go value of type models.PostableSilence`);
  const raw = doc as Record<string, unknown>;
  for (const field of ['comment', 'createdBy', 'startsAt', 'endsAt', 'matchers']) if (raw[field] === undefined || raw[field] === null) throw required(field);
  if (typeof raw.comment !== 'string') throw wrongType('comment', 'string', raw.comment);
  if (typeof raw.createdBy !== 'string') throw wrongType('createdBy', 'string', raw.createdBy);
  if (raw.id !== undefined && typeof raw.id !== 'string') throw wrongType('id', 'string', raw.id);
  if (!Array.isArray(raw.matchers)) throw wrongType('matchers', 'array', raw.matchers);
  const matchers = raw.matchers.map((m: unknown, i): SilenceMatcher => {
    if (typeof m !== 'object' || m === null) throw wrongType(`matchers.${i}`, 'object', m);
    const r = m as Record<string, unknown>;
    for (const field of ['name', 'value', 'isRegex']) if (r[field] === undefined || r[field] === null) throw required(`matchers.${i}.${field}`);
    if (typeof r.name !== 'string') throw wrongType(`matchers.${i}.name`, 'string', r.name);
    if (typeof r.value !== 'string') throw wrongType(`matchers.${i}.value`, 'string', r.value);
    if (typeof r.isRegex !== 'boolean') throw wrongType(`matchers.${i}.isRegex`, 'boolean', r.isRegex);
    if (r.isEqual !== undefined && typeof r.isEqual !== 'boolean') throw wrongType(`matchers.${i}.isEqual`, 'boolean', r.isEqual);
    return { name: r.name, value: r.value, isRegex: r.isRegex, isEqual: (r.isEqual as boolean | undefined) ?? true };
  });
  return {
    id: raw.id === '' ? undefined : (raw.id as string | undefined),
    matchers,
    startsAt: time(raw.startsAt, 'startsAt'),
    endsAt: time(raw.endsAt, 'endsAt'),
    createdBy: raw.createdBy,
    comment: raw.comment,
  };
}

const iso = (ms: number): string => new Date(ms).toISOString();

function alertJson(view: AlertView): Record<string, unknown> {
  const a: Alert = view.alert;
  return {
    annotations: a.annotations,
    endsAt: iso(a.endsAt),
    fingerprint: a.fingerprint,
    receivers: view.receivers.map((name) => ({ name })),
    startsAt: iso(a.startsAt),
    status: { inhibitedBy: view.inhibitedBy, silencedBy: view.silencedBy, state: view.state },
    updatedAt: iso(a.updatedAt),
    generatorURL: a.generatorURL,
    labels: a.labels,
  };
}

function silenceJson(s: Silence, now: number): Record<string, unknown> {
  return {
    id: s.id,
    status: { state: silenceState(s, now) },
    updatedAt: iso(s.updatedAt),
    comment: s.comment,
    createdBy: s.createdBy,
    endsAt: iso(s.endsAt),
    matchers: s.matchers.map((m) => ({ isEqual: m.isEqual, isRegex: m.isRegex, name: m.name, value: m.value })),
    startsAt: iso(s.startsAt),
  };
}

function bool(params: URLSearchParams, name: string): boolean {
  const value = params.get(name);
  if (value === null || value === '') return true;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new ApiError(400, { code: 400, message: `${name} in query must be of type boolean: ${JSON.stringify(value)}` });
}

function filterMatchers(params: URLSearchParams): Matcher[] {
  return params.getAll('filter').map((text) => {
    try {
      return parseMatcher(text);
    } catch (error) {
      if (error instanceof MatcherError) throw new ApiError(400, `bad matcher format: ${text}`);
      throw error;
    }
  });
}

function alertFilter(params: URLSearchParams): AlertFilter {
  const receiver = params.get('receiver');
  let receiverRe: RegExp | undefined;
  if (receiver) {
    try {
      receiverRe = new RegExp(`^(?:${receiver})$`, 'u');
    } catch {
      throw new ApiError(400, `failed to parse receiver param: ${receiver}`);
    }
  }
  return { matchers: filterMatchers(params), active: bool(params, 'active'), silenced: bool(params, 'silenced'), inhibited: bool(params, 'inhibited'), receiver: receiverRe };
}

function status(am: Alertmanager): Record<string, unknown> {
  return {
    cluster: { name: '', peers: [], status: 'disabled' },
    config: { original: am.config.original },
    uptime: iso(am.startedAt),
    versionInfo: { branch: 'trustusbank', buildDate: '', buildUser: 'trustusbank', goVersion: `node ${process.version}`, revision: '', version: VERSION },
  };
}

export function handler(am: Alertmanager): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void serve(am, req, res).catch((error: unknown) => {
      if (res.headersSent) return res.destroy();
      if (error instanceof ApiError) {
        sendJson(res, error.status, error.body);
      } else if (error instanceof BodyTooLargeError) {
        sendJson(res, 413, { code: 413, message: error.message });
      } else {
        sendJson(res, 500, (error as Error).message ?? 'internal error');
      }
    });
  };
}

async function serve(am: Alertmanager, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = requestTarget(req);
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const method = req.method ?? 'GET';
  const params = url.searchParams;
  const now = am.clock.now();
  const allow = (...methods: string[]): boolean => {
    if (methods.includes(method) || (method === 'HEAD' && methods.includes('GET'))) return true;
    res.setHeader('allow', methods.join(', '));
    sendText(res, 405, `method ${method} not allowed\n`);
    return false;
  };

  if (path === '/-/healthy' || path === '/-/ready') {
    if (allow('GET')) sendText(res, 200, 'OK');
    return;
  }
  if (path === '/metrics') {
    if (allow('GET')) sendText(res, 200, alertmanagerMetricsText(am, now), 'text/plain; version=0.0.4; charset=utf-8');
    return;
  }
  if (path === '/api/v2/status') {
    if (allow('GET')) sendJson(res, 200, status(am));
    return;
  }
  if (path === '/api/v2/receivers') {
    if (allow('GET')) sendJson(res, 200, [...am.config.receivers.keys()].map((name) => ({ name })));
    return;
  }
  if (path === '/api/v2/alerts') {
    if (!allow('GET', 'POST')) return;
    if (method === 'POST') {
      const errors = am.post(parsePostedAlerts(await readBody(req, MAX_BODY_BYTES)));
      if (errors.length > 0) throw new ApiError(400, errors.join('\n'));
      res.writeHead(200, { 'content-length': 0 });
      res.end();
      return;
    }
    sendJson(res, 200, am.listAlerts(alertFilter(params)).map(alertJson));
    return;
  }
  if (path === '/api/v2/alerts/groups') {
    if (!allow('GET')) return;
    const groups = am.listGroups(alertFilter(params)).map((g) => ({ labels: g.labels, receiver: { name: g.receiver }, alerts: g.alerts.map(alertJson) }));
    sendJson(res, 200, groups);
    return;
  }
  if (path === '/api/v2/silences') {
    if (!allow('GET', 'POST')) return;
    if (method === 'GET') {
      sendJson(res, 200, am.listSilences(filterMatchers(params)).map((s) => silenceJson(s, now)));
      return;
    }
    const posted = parsePostedSilence(await readBody(req, MAX_BODY_BYTES));
    const invalid = validateSilence(posted, now);
    if (invalid) throw new ApiError(400, invalid);
    try {
      sendJson(res, 200, { silenceID: am.silences.upsert(posted, now).id });
    } catch (error) {
      if (error instanceof SilenceNotFoundError) throw new ApiError(404, `silence not found`);
      if (error instanceof SilenceLimitError) throw new ApiError(400, error.message);
      throw error;
    }
    return;
  }
  const silenceMatch = /^\/api\/v2\/silence\/([^/]+)$/.exec(path);
  if (silenceMatch) {
    if (!allow('GET', 'DELETE')) return;
    const id = decodeURIComponent(silenceMatch[1] as string);
    if (method === 'GET') {
      const silence = am.silences.get(id);
      if (!silence) {
        res.writeHead(404, { 'content-length': 0 });
        res.end();
        return;
      }
      sendJson(res, 200, silenceJson(silence, now));
      return;
    }
    try {
      am.silences.expire(id, now);
    } catch (error) {
      if (error instanceof SilenceNotFoundError) {
        res.writeHead(404, { 'content-length': 0 });
        res.end();
        return;
      }
      if (error instanceof SilenceExpiredError) throw new ApiError(500, error.message);
      throw error;
    }
    res.writeHead(200, { 'content-length': 0 });
    res.end();
    return;
  }
  sendText(res, 404, '404 page not found\n');
}
