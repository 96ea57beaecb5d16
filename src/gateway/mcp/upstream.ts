// The gateway's side of an MCP connection to one upstream server ("target"). Three wire forms:
// - Streamable HTTP at 2026-07-28: stateless; every request carries its revision and the standard
//   Mcp-Method / Mcp-Name headers (recomputed here, since the gateway renames tools).
// - Streamable HTTP at 2025-11-25: an initialize handshake opens a session (Mcp-Session-Id); a session the
//   server has forgotten (it restarted, e.g. after a rollout) is re-opened once, transparently.
// - The older HTTP+SSE transport: a GET event stream announces where to POST; answers come back on the stream.
// Requests use the gateway's own ids, so answers from several targets can never be confused.
import { parseBoundedJson } from '../../core/json-depth.ts';
import { INTERNAL_ERROR, parseSseMessages, type JsonRpcMessage, type JsonRpcNotification, type JsonRpcRequest, type JsonRpcResponse } from './jsonrpc.ts';
import type { FetchLike, UpstreamResponse } from '../../core/fetch.ts';

export const LEGACY_REVISION = '2025-11-25';
export const MODERN_REVISION = '2026-07-28';
export type Revision = typeof LEGACY_REVISION | typeof MODERN_REVISION;

export const META_PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';

/** The methods whose Mcp-Name header mirrors a body field (SEP-2243, as the SDK's table). */
export const MCP_NAME_SOURCE: Readonly<Record<string, string>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
};

export interface UpstreamTarget {
  /** The target's name (the tool prefix in a federated backend). */
  name: string;
  /** Full URL of the MCP endpoint. */
  url: string;
  protocol: 'StreamableHTTP' | 'SSE';
  /** Stable key of the server for pinning and telemetry: `<host>:<port><path>`. */
  server: string;
}

export type { FetchLike, UpstreamResponse } from '../../core/fetch.ts';
export { webFetch } from '../../core/fetch.ts';

export interface UpstreamOptions {
  fetch: FetchLike;
  clientInfo: { name: string; version: string };
  /** Per-request timeout for an upstream answer. */
  timeoutMs?: number;
}

/** Headers the caller's request contributes upstream (authorization for token pass-through, trace context). */
export type ForwardHeaders = Record<string, string>;

export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  constructor(
    readonly target: string,
    message: string,
    readonly status?: number,
  ) {
    super(`${target}: ${message}`);
  }
}

export interface UpstreamSession {
  readonly target: UpstreamTarget;
  readonly revision: Revision;
  /** The upstream's initialize result (2025-11-25 and SSE), for capabilities and server info. */
  readonly initializeResult: Record<string, unknown> | undefined;
  request(method: string, params: Record<string, unknown> | undefined, forward: ForwardHeaders): Promise<JsonRpcResponse>;
  notify(method: string, params: Record<string, unknown> | undefined, forward: ForwardHeaders): Promise<void>;
  close(): Promise<void>;
}

let nextId = 1;
const gatewayId = (): number => nextId++;

/** Open a session with a target at a revision (SSE targets always speak the 2025-11-25 handshake). */
export async function openUpstream(target: UpstreamTarget, revision: Revision, options: UpstreamOptions, forward: ForwardHeaders): Promise<UpstreamSession> {
  if (target.protocol === 'SSE') return SseSession.open(target, options, forward);
  if (revision === MODERN_REVISION) return new StatelessSession(target, options);
  return LegacySession.open(target, options, forward);
}

function encodeHeaderValue(value: string): string {
  // Non-ASCII (or control characters) cannot travel in a header: SEP-2243's base64 sentinel.
  return /^[\x20-\x7e]*$/.test(value) ? value : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

async function readAnswer(target: UpstreamTarget, response: UpstreamResponse, id: number): Promise<JsonRpcResponse> {
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  let messages: JsonRpcMessage[];
  if (type.includes('text/event-stream')) messages = parseSseMessages(text);
  else {
    // A server may be the attacker: an answer nested past the limit would overflow whatever serialises it next.
    const parsed = parseBoundedJson(text);
    if (!parsed.ok) throw new UpstreamError(target.name, `HTTP ${response.status} with a body that is not JSON-RPC (${parsed.error.message})`, response.status);
    const value = parsed.value as JsonRpcMessage | JsonRpcMessage[];
    messages = Array.isArray(value) ? value : [value];
  }
  const answer = messages.find((m): m is JsonRpcResponse => 'id' in m && m.id === id && !('method' in m));
  if (answer) return answer;
  const stray = messages.find((m): m is JsonRpcResponse => 'error' in m && !('method' in m));
  if (stray) return { ...stray, id };
  throw new UpstreamError(target.name, `HTTP ${response.status} without an answer to the request`, response.status);
}

class StatelessSession implements UpstreamSession {
  readonly revision = MODERN_REVISION;
  readonly initializeResult = undefined;

  constructor(
    readonly target: UpstreamTarget,
    private readonly options: UpstreamOptions,
  ) {}

  private envelope(params: Record<string, unknown> | undefined): Record<string, unknown> {
    const meta = (params?._meta as Record<string, unknown> | undefined) ?? {};
    if (meta[META_PROTOCOL_VERSION] !== undefined) return params ?? {};
    // A request the gateway originates itself (a catalogue refresh) needs the per-request envelope.
    return {
      ...params,
      _meta: { ...meta, [META_PROTOCOL_VERSION]: MODERN_REVISION, 'io.modelcontextprotocol/clientInfo': this.options.clientInfo, 'io.modelcontextprotocol/clientCapabilities': {} },
    };
  }

  private headers(method: string, params: Record<string, unknown>, forward: ForwardHeaders): Record<string, string> {
    const headers: Record<string, string> = {
      ...forward,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN_REVISION,
      'mcp-method': method,
    };
    const field = MCP_NAME_SOURCE[method];
    const name = field ? params[field] : undefined;
    if (typeof name === 'string') headers['mcp-name'] = encodeHeaderValue(name);
    return headers;
  }

  async request(method: string, params: Record<string, unknown> | undefined, forward: ForwardHeaders): Promise<JsonRpcResponse> {
    const id = gatewayId();
    const body = this.envelope(params);
    const response = await post(this.target, this.options, this.headers(method, body, forward), { jsonrpc: '2.0', id, method, params: body });
    return readAnswer(this.target, response, id);
  }

  async notify(method: string, params: Record<string, unknown> | undefined, forward: ForwardHeaders): Promise<void> {
    const body = this.envelope(params);
    const response = await post(this.target, this.options, this.headers(method, body, forward), { jsonrpc: '2.0', method, params: body });
    await response.arrayBuffer();
  }

  async close(): Promise<void> {}
}

/**
 * MCP requests that read and change nothing: sending one twice is harmless, so a POST of one may be
 * replayed when a pooled connection fails under it. A tools/call never is (a tool may move money).
 */
export const REPLAYABLE_MCP_METHODS: ReadonlySet<string> = new Set(['ping', 'tools/list', 'prompts/list', 'prompts/get', 'resources/list', 'resources/templates/list', 'resources/read']);

async function post(target: UpstreamTarget, options: UpstreamOptions, headers: Record<string, string>, message: JsonRpcRequest | JsonRpcNotification, url = target.url): Promise<UpstreamResponse> {
  try {
    const replayable = 'id' in message && REPLAYABLE_MCP_METHODS.has(message.method);
    return await options.fetch(url, { method: 'POST', headers, body: JSON.stringify(message), timeoutMs: options.timeoutMs ?? 30_000, replayable });
  } catch (error) {
    throw new UpstreamError(target.name, `unreachable: ${(error as Error).message}`);
  }
}

class LegacySession implements UpstreamSession {
  readonly revision = LEGACY_REVISION;
  private sessionId: string | undefined;
  initializeResult: Record<string, unknown> | undefined;

  private constructor(
    readonly target: UpstreamTarget,
    private readonly options: UpstreamOptions,
  ) {}

  static async open(target: UpstreamTarget, options: UpstreamOptions, forward: ForwardHeaders): Promise<LegacySession> {
    const session = new LegacySession(target, options);
    await session.handshake(forward);
    return session;
  }

  private async handshake(forward: ForwardHeaders): Promise<void> {
    this.sessionId = undefined;
    const id = gatewayId();
    const response = await post(this.target, this.options, this.headers(forward), {
      jsonrpc: '2.0',
      id,
      method: 'initialize',
      params: { protocolVersion: LEGACY_REVISION, capabilities: {}, clientInfo: this.options.clientInfo },
    });
    const answer = await readAnswer(this.target, response, id);
    if (answer.error || !answer.result) throw new UpstreamError(this.target.name, `initialize failed: ${answer.error?.message ?? 'no result'}`, response.status);
    this.sessionId = response.headers.get('mcp-session-id') ?? undefined;
    this.initializeResult = answer.result;
    const done = await post(this.target, this.options, this.headers(forward), { jsonrpc: '2.0', method: 'notifications/initialized' });
    await done.arrayBuffer();
  }

  private headers(forward: ForwardHeaders): Record<string, string> {
    return {
      ...forward,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(this.sessionId ? { 'mcp-session-id': this.sessionId, 'mcp-protocol-version': LEGACY_REVISION } : {}),
    };
  }

  async request(method: string, params: Record<string, unknown> | undefined, forward: ForwardHeaders, retried = false): Promise<JsonRpcResponse> {
    const id = gatewayId();
    const response = await post(this.target, this.options, this.headers(forward), { jsonrpc: '2.0', id, method, ...(params ? { params } : {}) });
    if (response.status === 404 && this.sessionId && !retried) {
      // The server lost our session (a restart or rollout): open a new one and try once more.
      await response.arrayBuffer();
      await this.handshake(forward);
      return this.request(method, params, forward, true);
    }
    return readAnswer(this.target, response, id);
  }

  async notify(method: string, params: Record<string, unknown> | undefined, forward: ForwardHeaders): Promise<void> {
    const response = await post(this.target, this.options, this.headers(forward), { jsonrpc: '2.0', method, ...(params ? { params } : {}) });
    await response.arrayBuffer();
  }

  async close(): Promise<void> {
    if (!this.sessionId) return;
    try {
      const response = await this.options.fetch(this.target.url, { method: 'DELETE', headers: this.headers({}), timeoutMs: 5_000 });
      await response.arrayBuffer();
    } catch {
      // The server is gone or does not support DELETE; the session ends with it either way.
    }
  }
}

/** The HTTP+SSE transport: one event stream per session, POSTs to the endpoint it announces. */
class SseSession implements UpstreamSession {
  readonly revision = LEGACY_REVISION;
  initializeResult: Record<string, unknown> | undefined;
  private endpoint: string | undefined;
  private readonly pending = new Map<number, (answer: JsonRpcResponse) => void>();
  private readonly abort = new AbortController();
  private closed = false;

  private constructor(
    readonly target: UpstreamTarget,
    private readonly options: UpstreamOptions,
  ) {}

  static async open(target: UpstreamTarget, options: UpstreamOptions, forward: ForwardHeaders): Promise<SseSession> {
    const session = new SseSession(target, options);
    await session.connect(forward);
    const answer = await session.request('initialize', { protocolVersion: LEGACY_REVISION, capabilities: {}, clientInfo: options.clientInfo }, forward);
    if (answer.error || !answer.result) throw new UpstreamError(target.name, `initialize failed: ${answer.error?.message ?? 'no result'}`);
    session.initializeResult = answer.result;
    await session.notify('notifications/initialized', undefined, forward);
    return session;
  }

  private async connect(forward: ForwardHeaders): Promise<void> {
    let response: UpstreamResponse;
    try {
      response = await this.options.fetch(this.target.url, { method: 'GET', headers: { ...forward, accept: 'text/event-stream' }, signal: this.abort.signal });
    } catch (error) {
      throw new UpstreamError(this.target.name, `unreachable: ${(error as Error).message}`);
    }
    if (!response.ok || !response.body) throw new UpstreamError(this.target.name, `event stream refused: HTTP ${response.status}`, response.status);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let announced: (url: string) => void = () => undefined;
    const endpoint = new Promise<string>((resolve) => (announced = resolve));
    const pump = async (): Promise<void> => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, '');
          const event = /^event:\s*(.*)$/m.exec(block)?.[1]?.trim() ?? 'message';
          const data = block
            .split(/\r?\n/)
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).replace(/^ /, ''))
            .join('\n');
          if (event === 'endpoint') announced(new URL(data, this.target.url).toString());
          else if (event === 'message') this.deliver(data);
        }
      }
    };
    pump()
      .catch(() => undefined)
      .finally(() => this.fail('event stream closed'));
    this.endpoint = await Promise.race([endpoint, timeout(this.options.timeoutMs ?? 30_000, this.target.name, 'no endpoint event')]);
  }

  private deliver(data: string): void {
    const parsed = parseBoundedJson(data);
    if (!parsed.ok) return;
    const message = parsed.value as JsonRpcMessage;
    if (typeof message !== 'object' || message === null) return;
    if ('id' in message && !('method' in message) && typeof message.id === 'number') {
      const resolve = this.pending.get(message.id);
      this.pending.delete(message.id);
      resolve?.(message);
    }
  }

  private fail(reason: string): void {
    for (const [id, resolve] of this.pending) resolve({ jsonrpc: '2.0', id, error: { code: INTERNAL_ERROR, message: `${this.target.name}: ${reason}` } });
    this.pending.clear();
    this.closed = true;
  }

  async request(method: string, params: Record<string, unknown> | undefined, forward: ForwardHeaders): Promise<JsonRpcResponse> {
    if (this.closed || !this.endpoint) throw new UpstreamError(this.target.name, 'event stream closed');
    const id = gatewayId();
    const answered = new Promise<JsonRpcResponse>((resolve) => this.pending.set(id, resolve));
    const response = await post(this.target, this.options, { ...forward, 'content-type': 'application/json' }, { jsonrpc: '2.0', id, method, ...(params ? { params } : {}) }, this.endpoint);
    await response.arrayBuffer();
    if (response.status >= 400) {
      this.pending.delete(id);
      throw new UpstreamError(this.target.name, `HTTP ${response.status}`, response.status);
    }
    return Promise.race([answered, timeout(this.options.timeoutMs ?? 30_000, this.target.name, `no answer to ${method}`)]);
  }

  async notify(method: string, params: Record<string, unknown> | undefined, forward: ForwardHeaders): Promise<void> {
    if (this.closed || !this.endpoint) throw new UpstreamError(this.target.name, 'event stream closed');
    const response = await post(this.target, this.options, { ...forward, 'content-type': 'application/json' }, { jsonrpc: '2.0', method, ...(params ? { params } : {}) }, this.endpoint);
    await response.arrayBuffer();
  }

  async close(): Promise<void> {
    this.abort.abort();
    this.fail('session closed');
  }
}

function timeout(ms: number, target: string, what: string): Promise<never> {
  return new Promise((_, reject) => {
    const timer = setTimeout(() => reject(new UpstreamError(target, `timed out after ${ms} ms: ${what}`)), ms);
    timer.unref();
  });
}
