// What the HTTP model providers share: a JSON POST under a deadline, the ModelError for each failure, and the small
// checks of their options. Provider-neutral: each provider passes its label, and reads its own API's error body.
import { errorMessage } from '../../core/errors.ts';
import { ModelError } from './types.ts';

/** Server-supplied text in an error message is cut here: an error page is not a message. */
const MAX_DETAIL_CHARS = 500;

interface HttpReply {
  status: number;
  headers: Headers;
  body: string;
}

interface PostOptions {
  url: string;
  headers: Record<string, string>;
  body: unknown;
  signal: AbortSignal | undefined;
  timeoutMs: number;
  doFetch: typeof fetch;
  redact: (text: string) => string;
  /** Names the API in a timeout's message. */
  label: string;
  /** Starts a network failure's message, which goes on with ": " and the cause; it says what we tried to reach. */
  unreachable: string;
}

/**
 * One POST, answer body read in full under the same deadline (a server can stall after its headers too). The
 * caller's own abort is rethrown as is: it is a cancellation the caller asked for, not a model failure.
 */
async function post(options: PostOptions): Promise<HttpReply> {
  const { signal, timeoutMs, label } = options;
  const deadline = AbortSignal.timeout(timeoutMs);
  try {
    const response = await options.doFetch(options.url, {
      method: 'POST',
      headers: options.headers,
      body: JSON.stringify(options.body),
      signal: signal === undefined ? deadline : AbortSignal.any([signal, deadline]),
    });
    return { status: response.status, headers: response.headers, body: await response.text() };
  } catch (error) {
    if (signal?.aborted === true) throw signal.reason;
    if (deadline.aborted) throw new ModelError('timeout', `${label} did not answer within ${formatMs(timeoutMs)}`);
    throw new ModelError('unavailable', `${options.unreachable}: ${options.redact(networkCause(error))}`);
  }
}

export interface JsonApiOptions {
  /** Names the API in every message. */
  label: string;
  /** Starts a network failure's message, which goes on with ": " and the cause; it says what we tried to reach. */
  unreachable: string;
  /** The variable a 401's message tells the user to check. */
  keyVariable: string;
  /** Redacted from any server text shown; none to redact when undefined. */
  apiKey: string | undefined;
  timeoutMs: number;
  fetch: typeof fetch | undefined;
  /** The message in the API's error body, parsed as JSON into an object; undefined if it has none. */
  errorMessage: (json: Record<string, unknown>) => string | undefined;
  /** How the wait asked for by a 429 is shown; defaults to `retryAfter`. */
  retryAfter?: (headers: Headers) => string | undefined;
}

/** A POST of JSON whose 2xx answer is parsed JSON, and whose every failure is a ModelError (see `post`, `errorFor`). */
export type JsonPoster = (url: string, headers: Record<string, string>, body: unknown, signal: AbortSignal | undefined) => Promise<unknown>;

export function jsonPoster(options: JsonApiOptions): JsonPoster {
  const { label, unreachable, timeoutMs } = options;
  const doFetch = options.fetch ?? fetch;
  const redact = options.apiKey === undefined ? (text: string) => text : redactor(options.apiKey);
  const errorOptions: ErrorForOptions = { label, keyVariable: options.keyVariable, redact, errorMessage: options.errorMessage, retryAfter: options.retryAfter };
  return async (url, headers, body, signal) => {
    const reply = await post({ url, headers, body, signal, timeoutMs, doFetch, redact, label, unreachable });
    if (reply.status < 200 || reply.status > 299) throw errorFor(reply, errorOptions);
    return parseJson(reply.body, label);
  };
}

/** fetch reports every network failure as "fetch failed"; the cause (ECONNREFUSED, a TLS error…) is the useful part. */
function networkCause(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  return cause === undefined ? errorMessage(error) : errorMessage(cause);
}

interface ErrorForOptions {
  label: string;
  /** The variable a 401's message tells the user to check. */
  keyVariable: string;
  redact: (text: string) => string;
  /** The message in the API's error body, parsed as JSON into an object; undefined if it has none. */
  errorMessage: (json: Record<string, unknown>) => string | undefined;
  /** How the wait asked for by a 429 is shown; defaults to `retryAfter`. */
  retryAfter?: (headers: Headers) => string | undefined;
}

/**
 * The error for a non-2xx answer. A 401 shows none of the server's text: a server that refuses a key may well echo
 * it (OpenAI's own echoes part of it). Any other server text passes through `redact` all the same.
 */
function errorFor(reply: HttpReply, options: ErrorForOptions): ModelError {
  const { status } = reply;
  const { label } = options;
  const detail = apiErrorMessage(reply.body, options.errorMessage);
  const suffix = detail === undefined ? '' : `: ${clip(options.redact(detail))}`;
  if (status === 401) return new ModelError('auth', `${label} refused the API key (HTTP 401); check ${options.keyVariable}`, status);
  if (status === 403) return new ModelError('auth', `${label} refused the request (HTTP 403)${suffix}`, status);
  if (status === 429) {
    const after = (options.retryAfter ?? retryAfter)(reply.headers);
    return new ModelError('rate_limit', `${label} is rate limiting (HTTP 429)${after === undefined ? '' : `, ${after}`}${suffix}`, status);
  }
  // Any 5xx (Anthropic's 529 "overloaded" among them) says nothing about the request.
  if (status >= 500) return new ModelError('unavailable', `${label} is unavailable (HTTP ${status})${suffix}`, status);
  if (status >= 400) return new ModelError('bad_request', `${label} rejected the request (HTTP ${status})${suffix}`, status);
  return new ModelError('bad_response', `${label} answered HTTP ${status}`, status);
}

function apiErrorMessage(body: string, extract: (json: Record<string, unknown>) => string | undefined): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  return isRecord(json) ? extract(json) : undefined;
}

/** Retry-After as seconds or an HTTP date; anything else is not shown. */
export function retryAfter(headers: Headers): string | undefined {
  const value = headers.get('retry-after')?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return `retry after ${value} s`;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : `retry after ${new Date(date).toISOString()}`;
}

export function badShape(label: string, what: string): ModelError {
  return new ModelError('bad_response', `${label} answered with an unexpected shape: ${what}`);
}

function parseJson(body: string, label: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new ModelError('bad_response', `${label} answered with malformed JSON`);
  }
}

// --- small helpers ------------------------------------------------------------------------------------------------

/** Replaces the key wherever a server or a network error put it. */
function redactor(secret: string): (text: string) => string {
  return (text) => text.split(secret).join('[redacted]');
}

function clip(text: string): string {
  return text.length <= MAX_DETAIL_CHARS ? text : `${text.slice(0, MAX_DETAIL_CHARS)}…`;
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${ms / 1000} s`;
}

export function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

export function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new ModelError('config', `${name} must be a positive integer`);
  return value;
}

/** The base URL without trailing slashes; `source` names where it came from, the value itself is not echoed. */
export function normaliseBaseUrl(raw: string, source: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ModelError('config', `${source} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ModelError('config', `${source} must be an http or https URL`);
  return url.href.replace(/\/+$/, '');
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
