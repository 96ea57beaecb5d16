// The MCP leg of a route: the gateway terminates the client's MCP session (either revision), refuses what the
// revision does not allow (inbound.ts: batches, envelope and header rows), judges the JSON-RPC message before
// anything is forwarded, and speaks to the upstream targets itself. Order for one message: an anonymous caller
// is refused (403, reason Unauthenticated); the name is resolved to (target, upstream name) by exact match; then
// the item goes through the one decision pipeline that lists use too (decide.ts: traffic authorization, tool
// pinning, backend authorization, DLP on arguments, undeclared arguments), over a snapshot of the pins taken
// for this request. Nothing in a request is forwarded unless every element passed the 403 checks. After the
// call, DLP on the result when the policy's results side selects it.
// Arguments that cannot be inspected (nested or encoded past the limits) are refused, never passed unread.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SERVER_INFO_META_KEY, SUBSCRIPTION_ID_META_KEY } from '@modelcontextprotocol/server';
import type { Logger } from '../../core/log.ts';
import type { AuthorizationDecision } from '../../cel/cel.ts';
import { UNAUTHENTICATED, anonymousRefusal } from '../policy/anonymous.ts';

/** Something that decides on an attribute context (one rule set, or several that must all allow). */
export interface Authorizer {
  evaluate(context: Record<string, unknown>): AuthorizationDecision;
}
import { toolArgumentAttributes } from '../../cel/cel.ts';
import { isUnscannable, type DlpScanner } from '../policy/dlp.ts';
import { DecodeLimitError } from '../../cel/decode.ts';
import { decideItem, describeFindings, pinSnapshot } from './decide.ts';
import type { ToolPinStore } from '../policy/tool-pinning.ts';
import { classifyClientPost } from './inbound.ts';
import { DEFAULT_SESSION_LIMITS, SessionTable, type SessionLimits } from '../../core/session-table.ts';
import { FederationError, mergeCapabilities, type Federation, type ItemKind, type ResolvedItem } from './federation.ts';
import {
  FORBIDDEN,
  INTERNAL_ERROR,
  INVALID_PARAMS,
  INVALID_REQUEST,
  METHOD_NOT_FOUND,
  errorResponse,
  idOf,
  isRequest,
  parseJsonRpc,
  type JsonRpcMessage,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from './jsonrpc.ts';
import {
  LEGACY_REVISION,
  MCP_NAME_SOURCE,
  MODERN_REVISION,
  UpstreamError,
  openUpstream,
  type ForwardHeaders,
  type Revision,
  type UpstreamOptions,
  type UpstreamSession,
  type UpstreamTarget,
} from './upstream.ts';

export interface McpPolicies {
  /** traffic.authorization of the Gateway and route, with MCP attributes. */
  traffic: Authorizer;
  /** backend.mcp.authorization: hides tools, prompts and resources; refuses calls to them. */
  backend: Authorizer;
  dlp?: {
    scanner: DlpScanner;
    action: 'Reject' | 'RedactInPlace';
    arguments: boolean;
    /** The response side; `when` selects the calls whose results are inspected (absent: all). */
    results?: { action: 'Reject' | 'RedactInPlace'; when?: Authorizer };
    policy: string;
  };
  pinning?: { action: 'Alert' | 'HideDrifted' | 'BlockServer'; policy: string };
}

/** What the gateway learns about one HTTP request, for the access log and metrics. */
export interface RequestRecord {
  mcpMethod?: string;
  target?: string;
  tool?: string;
  reason?: string;
  error?: string;
  policy?: string;
}

export interface McpExchange {
  method: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** request / source / jwt attributes; the handler adds `mcp`. */
  attributes: Record<string, unknown>;
  /** Who is calling (a SPIFFE id, or `host` for the host listener); sessions are bound to it. */
  caller: string;
  /** No mesh identity and no validated JWT: every message is refused before anything is resolved or forwarded. */
  anonymous?: boolean;
  forward: ForwardHeaders;
  record: RequestRecord;
}

export interface McpReply {
  status: number;
  headers: Record<string, string>;
  /** JSON */
  body?: unknown;
  /** Sent as is (an event stream) instead of `body`. */
  text?: string;
}

export interface McpHandlerOptions {
  upstream: UpstreamOptions;
  pins: ToolPinStore;
  log: Logger;
  /** One MCP message forwarded (agentgateway_mcp_requests_total). */
  onMcpRequest?(labels: { method: string; resource_type: string; server: string; resource: string }): void;
  /** A drift observed on a target (the gateway counts and logs it). */
  onDrift?(target: UpstreamTarget, report: ReturnType<ToolPinStore['observe']>): void;
  serverInfo: { name: string; version: string };
  sessionLimits?: Partial<SessionLimits>;
  now?: () => number;
}

interface ClientSession {
  id: string;
  caller: string;
  upstreams: Map<string, Promise<UpstreamSession>>;
  lastUsed: number;
}

type Verdict =
  | { kind: 'forbid'; reason: string; message: string; policy?: string; data?: Record<string, unknown> }
  | { kind: 'answer'; response: JsonRpcResponse; status?: number }
  | { kind: 'forward'; message: JsonRpcMessage; resolved?: ResolvedItem; itemKind?: ItemKind; attributes?: Record<string, unknown> };

const LIST_METHODS: Record<string, ItemKind> = { 'tools/list': 'tool', 'prompts/list': 'prompt', 'resources/list': 'resource' };

export class McpRouteHandler {
  private readonly sessions: SessionTable<ClientSession>;
  private readonly sweep: NodeJS.Timeout;

  constructor(
    readonly federation: Federation,
    private readonly options: McpHandlerOptions,
  ) {
    this.sessions = new SessionTable({ ...DEFAULT_SESSION_LIMITS, ...options.sessionLimits }, options.now);
    this.sweep = setInterval(() => {
      for (const session of this.sessions.expire()) void this.closeSession(session);
    }, Math.min(this.sessions.limits.idleMs, 60_000));
    this.sweep.unref();
  }

  sessionCount(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    clearInterval(this.sweep);
    await Promise.all([...this.sessions.values()].map((s) => this.closeSession(s)));
  }

  private async closeSession(session: ClientSession): Promise<void> {
    this.sessions.delete(session.id);
    await Promise.all([...session.upstreams.values()].map(async (p) => (await p.catch(() => undefined))?.close()));
  }

  async handle(exchange: McpExchange, policies: McpPolicies): Promise<McpReply> {
    const sessionHeader = header(exchange.headers, 'mcp-session-id');
    if (exchange.method === 'DELETE') {
      const session = sessionHeader ? this.sessions.get(sessionHeader) : undefined;
      if (!session || session.caller !== exchange.caller) return rpc(404, errorResponse(null, -32001, 'Session not found'));
      await this.closeSession(session);
      return { status: 200, headers: {} };
    }
    // No server-initiated stream: the spec lets a server answer GET with 405.
    if (exchange.method !== 'POST') return { status: 405, headers: { allow: 'POST, DELETE' } };

    const parsed = parseJsonRpc(exchange.body);
    if (!parsed.ok) {
      exchange.record.error = parsed.error.message;
      return rpc(400, errorResponse(null, parsed.error.code, parsed.error.message));
    }
    const { messages, batch } = parsed;
    // After classification a request holds exactly one message: no revision the gateway serves allows batches.
    exchange.record.mcpMethod = messages.map((m) => ('method' in m ? m.method : 'response')).join(',');

    const route = classifyClientPost(exchange.headers, parsed.value, messages, batch);
    if (route.kind === 'refuse') {
      exchange.record.error = route.response.error?.message;
      return rpc(route.status, route.response);
    }
    const { revision } = route;

    // 2025-11-25: a session, or an initialize that opens one.
    let session: ClientSession | undefined;
    if (revision === LEGACY_REVISION) {
      if (sessionHeader) {
        session = this.sessions.get(sessionHeader);
        if (!session || session.caller !== exchange.caller) return rpc(404, errorResponse(idOf(messages[0]), -32001, 'Session not found'));
        this.sessions.touch(session);
      } else if (!(messages.length === 1 && isRequest(messages[0]!) && messages[0].method === 'initialize')) {
        return rpc(400, errorResponse(idOf(messages[0]), INVALID_REQUEST, 'Bad Request: Server not initialized'));
      }
    }
    const sessionFor = this.sessionResolver(session, revision, exchange.forward);

    // Judge every element before forwarding any.
    const verdicts: Verdict[] = [];
    for (const message of messages) {
      let verdict: Verdict;
      try {
        verdict = await this.judge(message, exchange, policies, sessionFor);
      } catch (error) {
        verdict = { kind: 'answer', response: errorResponse(idOf(message), INTERNAL_ERROR, upstreamMessage(error)), status: 502 };
      }
      if (verdict.kind === 'forbid') {
        exchange.record.reason = verdict.reason;
        exchange.record.policy = verdict.policy;
        exchange.record.error = verdict.message;
        return rpc(403, errorResponse(idOf(message), FORBIDDEN, `Forbidden: ${verdict.message}`, { reason: verdict.reason, ...(verdict.policy ? { policy: verdict.policy } : {}), ...verdict.data }));
      }
      verdicts.push(verdict);
    }

    const answers: JsonRpcResponse[] = [];
    let status = 200;
    let newSession: string | undefined;
    for (const verdict of verdicts) {
      if (verdict.kind === 'answer') {
        answers.push(verdict.response);
        if (verdict.status) status = verdict.status;
        continue;
      }
      if (verdict.kind !== 'forward') continue;
      const { message } = verdict;
      if (isRequest(message) && message.method === 'subscriptions/listen' && revision === MODERN_REVISION) return this.listen(message);
      if (isRequest(message) && message.method === 'initialize' && revision === LEGACY_REVISION) {
        const opened = await this.initialize(message, exchange);
        if ('error' in opened) {
          answers.push(opened.error);
          status = opened.status ?? 502;
        } else {
          newSession = opened.session.id;
          answers.push(opened.response);
        }
        continue;
      }
      const answer = await this.dispatch(verdict, exchange, policies, sessionFor, revision);
      if (answer) {
        answers.push(answer.response);
        if (answer.status) status = answer.status;
      }
    }
    const headers: Record<string, string> = newSession ? { 'mcp-session-id': newSession } : {};
    if (answers.length === 0) return { status: 202, headers };
    return { status, headers: { ...headers, 'content-type': 'application/json' }, body: answers[0] };
  }

  /**
   * subscriptions/listen (2026-07-28): the gateway relays no upstream notifications, so it honours no filter. It
   * answers as the SDK's servers do when they honour nothing: the acknowledgement (with the empty honoured set),
   * then the listen result that closes the stream gracefully, so a client knows at once that nothing will come.
   */
  private listen(message: JsonRpcRequest): McpReply {
    const filter = message.params?.notifications;
    if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
      return rpc(200, errorResponse(message.id, INVALID_PARAMS, "Invalid params: 'notifications' is required and must be a valid SubscriptionFilter"));
    }
    const meta = { [SUBSCRIPTION_ID_META_KEY]: message.id };
    const events = [
      { jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { notifications: {}, _meta: meta } },
      { jsonrpc: '2.0', id: message.id, result: { resultType: 'complete', _meta: { ...meta, [SERVER_INFO_META_KEY]: this.options.serverInfo } } },
    ];
    return { status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform' }, text: events.map((e) => `event: message\ndata: ${JSON.stringify(e)}\n\n`).join('') };
  }

  private sessionResolver(session: ClientSession | undefined, revision: Revision, forward: ForwardHeaders): (target: UpstreamTarget) => Promise<UpstreamSession> {
    // Stateless clients share gateway-owned sessions (only SSE targets need one).
    const shared = this.sharedSessions;
    return (target) => {
      const map = session?.upstreams ?? shared;
      let opened = map.get(target.name);
      if (!opened) {
        // A shared session must not carry one caller's credentials on its handshake or event stream; each
        // request still carries its own caller's headers.
        opened = openUpstream(target, revision, this.options.upstream, session ? forward : { ...(forward.traceparent ? { traceparent: forward.traceparent } : {}) });
        map.set(target.name, opened);
        opened.catch(() => map.delete(target.name));
      }
      return opened;
    };
  }

  private readonly sharedSessions = new Map<string, Promise<UpstreamSession>>();

  private async initialize(message: JsonRpcMessage & { id: string | number }, exchange: McpExchange): Promise<{ session: ClientSession; response: JsonRpcResponse } | { error: JsonRpcResponse; status?: number }> {
    // Refused before any upstream session is opened for it.
    const full = this.sessions.refusal(exchange.caller);
    if (full) {
      exchange.record.error = full;
      return { error: errorResponse(message.id, INTERNAL_ERROR, `Service unavailable: ${full}`), status: 503 };
    }
    const session: ClientSession = { id: randomUUID(), caller: exchange.caller, upstreams: new Map(), lastUsed: Date.now() };
    const sessionFor = this.sessionResolver(session, LEGACY_REVISION, exchange.forward);
    const { targets, failureMode } = this.federation.spec;
    const results = await Promise.allSettled(targets.map((t) => sessionFor(t)));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${targets[i]!.name}: ${upstreamMessage(r.reason)}`] : []));
    const opened = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    if ((failed.length > 0 && failureMode === 'FailClosed') || opened.length === 0) {
      await Promise.all(opened.map((s) => s.close()));
      exchange.record.error = `initialize failed: ${failed.join('; ')}`;
      return { error: errorResponse(message.id, INTERNAL_ERROR, `upstream unavailable: ${failed.join('; ')}`) };
    }
    const admitted = this.sessions.add(session);
    for (const evicted of admitted.evicted) void this.closeSession(evicted);
    if (!admitted.ok) {
      await Promise.all(opened.map((s) => s.close()));
      exchange.record.error = admitted.reason;
      return { error: errorResponse(message.id, INTERNAL_ERROR, `Service unavailable: ${admitted.reason}`), status: 503 };
    }
    const single = targets.length === 1 ? opened[0]?.initializeResult : undefined;
    const result = {
      protocolVersion: LEGACY_REVISION,
      capabilities: mergeCapabilities(opened.map((s) => s.initializeResult)),
      serverInfo: (single?.serverInfo as object | undefined) ?? this.options.serverInfo,
      ...(typeof single?.instructions === 'string' ? { instructions: single.instructions } : {}),
    };
    return { session, response: { jsonrpc: '2.0', id: message.id, result } };
  }

  /** Attributes, authorization, pinning and DLP for one message; nothing is forwarded here. */
  private async judge(message: JsonRpcMessage, exchange: McpExchange, policies: McpPolicies, sessionFor: (t: UpstreamTarget) => Promise<UpstreamSession>): Promise<Verdict> {
    if (!('method' in message)) return { kind: 'answer', response: errorResponse(idOf(message), INVALID_REQUEST, 'Invalid Request: the gateway does not relay responses') };
    const { method } = message;
    const params = message.params ?? {};
    if (exchange.anonymous) {
      // Nothing is resolved first: resolving a tool name would already reach the upstream.
      const name = MCP_NAME_SOURCE[method] ? params[MCP_NAME_SOURCE[method]] : undefined;
      if (typeof name === 'string') exchange.record.tool = name;
      return { kind: 'forbid', reason: UNAUTHENTICATED, message: anonymousRefusal(method) };
    }
    let resolved: ResolvedItem | undefined;
    let itemKind: ItemKind | undefined;
    const mcp: Record<string, unknown> = { method };
    if (method === 'tools/call' || method === 'prompts/get' || method === 'resources/read') {
      const field = MCP_NAME_SOURCE[method]!;
      const name = params[field];
      if (typeof name !== 'string') return { kind: 'answer', response: errorResponse(idOf(message), INVALID_PARAMS, `Invalid params: ${field} must be a string`), status: 400 };
      itemKind = method === 'tools/call' ? 'tool' : method === 'prompts/get' ? 'prompt' : 'resource';
      resolved = itemKind === 'tool' ? await this.federation.resolveTool(name, sessionFor, exchange.forward) : itemKind === 'prompt' ? this.federation.resolvePrompt(name) : this.federation.resolveResource(name);
      if (!resolved) return { kind: 'answer', response: unknownItem(idOf(message), itemKind, name), status: 400 };
      const args = itemKind === 'resource' ? {} : ((params.arguments as Record<string, unknown> | undefined) ?? {});
      let argumentAttributes: ReturnType<typeof toolArgumentAttributes> | undefined;
      if (itemKind !== 'resource') {
        try {
          argumentAttributes = toolArgumentAttributes(args);
        } catch (error) {
          if (!(error instanceof DecodeLimitError)) throw error;
          exchange.record.error = error.message;
          return { kind: 'answer', response: errorResponse(idOf(message), INVALID_PARAMS, `Invalid params: arguments cannot be inspected: ${error.message}`), status: 400 };
        }
      }
      mcp[itemKind] = { name: resolved.name, target: resolved.target.name, ...(itemKind === 'resource' ? { uri: resolved.name } : argumentAttributes) };
      exchange.record.target = resolved.target.name;
      exchange.record.tool = resolved.name;
    }
    const attributes = { ...exchange.attributes, mcp };
    if (!itemKind || !resolved) {
      const traffic = policies.traffic.evaluate(attributes);
      if (!traffic.allowed) return forbid('Authorization', traffic);
      return { kind: 'forward', message, attributes };
    }
    const args = itemKind !== 'resource' ? params.arguments : undefined;
    const decision = decideItem('call', { kind: itemKind, name: resolved.name, target: resolved.target.name, server: resolved.target.server, ...(args !== undefined ? { arguments: args } : {}) }, attributes, policies, pinSnapshot(this.options.pins));
    if (decision.kind === 'forbid') return { kind: 'forbid', reason: decision.reason, message: decision.message, ...(decision.policy ? { policy: decision.policy } : {}), ...(decision.data ? { data: decision.data } : {}) };
    if (decision.kind === 'hide') {
      if (decision.reason === 'Authorization') {
        exchange.record.reason = 'Authorization';
        if (decision.policy) exchange.record.policy = decision.policy;
      }
      return { kind: 'answer', response: unknownItem(idOf(message), itemKind, String(params[MCP_NAME_SOURCE[method]!])), status: 400 };
    }
    if (decision.redacted) {
      exchange.record.reason = 'DLPRedacted';
      this.options.log.info('dlp redacted tool arguments', { policy: policies.dlp!.policy, tool: resolved.name, target: resolved.target.name, findings: decision.redacted });
      return { kind: 'forward', message: { ...message, params: { ...params, arguments: decision.arguments } }, resolved, itemKind, attributes };
    }
    return { kind: 'forward', message, resolved, itemKind, attributes };
  }

  private async dispatch(
    verdict: Extract<Verdict, { kind: 'forward' }>,
    exchange: McpExchange,
    policies: McpPolicies,
    sessionFor: (t: UpstreamTarget) => Promise<UpstreamSession>,
    revision: Revision,
  ): Promise<{ response: JsonRpcResponse; status?: number } | undefined> {
    const { message, resolved, itemKind, attributes } = verdict;
    // Client notifications (initialized, cancelled, ...) concern the gateway's session, not a target's.
    if (!isRequest(message)) return undefined;
    const { id, params } = message;
    try {
      // 2026-07-28 results say they are complete; earlier revisions do not know the field.
      const complete = revision === MODERN_REVISION ? { resultType: 'complete' } : {};
      const listKind = LIST_METHODS[message.method];
      // A list is filtered per caller (identity, token), so it may be cached by this caller only, and not for long.
      const cacheable = revision === MODERN_REVISION ? { ttlMs: 0, cacheScope: 'private' } : {};
      if (listKind) return { response: { jsonrpc: '2.0', id, result: { ...(await this.list(listKind, exchange, policies, sessionFor)), ...complete, ...cacheable } } };
      if (message.method === 'ping') return { response: { jsonrpc: '2.0', id, result: { ...complete } } };
      if (message.method === 'server/discover') return { response: await this.discover(id, params, sessionFor, exchange.forward) };
      if (resolved && itemKind) {
        const field = MCP_NAME_SOURCE[message.method]!;
        const session = await sessionFor(resolved.target);
        this.options.onMcpRequest?.({ method: message.method, resource_type: itemKind, server: resolved.target.name, resource: resolved.name });
        const answer = await session.request(message.method, { ...params, [field]: resolved.name }, exchange.forward);
        return { response: bridge(this.afterCall({ ...answer, id }, policies, resolved, attributes ?? {}), revision) };
      }
      // Anything else goes to the only target, or is not something a federation can answer.
      if (this.federation.spec.targets.length === 1) {
        const target = this.federation.spec.targets[0]!;
        this.options.onMcpRequest?.({ method: message.method, resource_type: '', server: target.name, resource: '' });
        const answer = await (await sessionFor(target)).request(message.method, params, exchange.forward);
        return { response: bridge({ ...answer, id }, revision) };
      }
      return { response: errorResponse(id, METHOD_NOT_FOUND, `Method not found: ${message.method}`), status: 400 };
    } catch (error) {
      exchange.record.error = upstreamMessage(error);
      return { response: errorResponse(id, INTERNAL_ERROR, upstreamMessage(error)), status: 502 };
    }
  }

  /**
   * DLP on a result, when the policy's results side selects this call: its `when` rules (any holds, or any errors:
   * a rule that cannot be evaluated does not let PII through). A result that cannot be inspected is refused.
   */
  private afterCall(answer: JsonRpcResponse, policies: McpPolicies, resolved: ResolvedItem, attributes: Record<string, unknown>): JsonRpcResponse {
    const dlp = policies.dlp;
    const side = dlp?.results;
    if (!dlp || !side || !answer.result) return answer;
    if (side.when) {
      const decision = side.when.evaluate(attributes);
      if (!decision.allowed && decision.errors.length === 0) return answer;
    }
    const refuse = (message: string, data: Record<string, unknown>): JsonRpcResponse => errorResponse(answer.id, FORBIDDEN, `Forbidden: ${message}`, { reason: 'DLP', policy: dlp.policy, ...data });
    try {
      if (side.action === 'Reject') {
        const findings = dlp.scanner.scan(answer.result);
        if (findings.length === 0) return answer;
        this.options.log.warn('dlp blocked a tool result', { policy: dlp.policy, tool: resolved.name, target: resolved.target.name, findings });
        return refuse(`sensitive data in the result of ${resolved.name}: ${describeFindings(findings)}`, { findings });
      }
      const { value, findings } = dlp.scanner.redact(answer.result);
      if (findings.length > 0) this.options.log.info('dlp redacted a tool result', { policy: dlp.policy, tool: resolved.name, target: resolved.target.name, findings });
      return { ...answer, result: value as Record<string, unknown> };
    } catch (error) {
      if (!isUnscannable(error)) throw error;
      this.options.log.warn('dlp blocked a tool result it cannot inspect', { policy: dlp.policy, tool: resolved.name, target: resolved.target.name, error: error.message });
      return refuse(`the result of ${resolved.name} cannot be inspected: ${error.message}`, {});
    }
  }

  private async list(kind: ItemKind, exchange: McpExchange, policies: McpPolicies, sessionFor: (t: UpstreamTarget) => Promise<UpstreamSession>): Promise<Record<string, unknown>> {
    const { items, failures } = await this.federation.list(kind, sessionFor, exchange.forward);
    for (const failure of failures) this.options.log.warn('mcp target left out of a list (FailOpen)', { target: failure.target, error: failure.error });
    const method = kind === 'tool' ? 'tools/call' : kind === 'prompt' ? 'prompts/get' : 'resources/read';
    const visible: Record<string, unknown>[] = [];
    // One snapshot of the pins for the whole list; each item through the same pipeline as a call to it.
    const pins = pinSnapshot(this.options.pins);
    for (const { target, name, item } of items) {
      // A listed item is one a call to would be allowed (its arguments are not known yet).
      const attributes = { ...exchange.attributes, mcp: { method, [kind]: { name, target: target.name, ...(kind === 'resource' ? { uri: name } : NO_ARGUMENTS) } } };
      if (decideItem('list', { kind, name, target: target.name, server: target.server }, attributes, policies, pins).kind !== 'allow') continue;
      visible.push(this.federation.present(kind, target, item));
    }
    const key = kind === 'tool' ? 'tools' : kind === 'prompt' ? 'prompts' : 'resources';
    this.options.onMcpRequest?.({ method: `${key}/list`, resource_type: kind, server: this.federation.spec.targets.map((t) => t.name).join(','), resource: '' });
    return { [key]: visible };
  }

  /** server/discover (2026-07-28): the gateway answers for its targets, whatever revision each speaks. */
  private async discover(id: string | number, params: Record<string, unknown> | undefined, sessionFor: (t: UpstreamTarget) => Promise<UpstreamSession>, forward: ForwardHeaders): Promise<JsonRpcResponse> {
    const answers = await Promise.allSettled(
      this.federation.spec.targets.map(async (t) => {
        const session = await sessionFor(t);
        // A target on an older revision (or SSE) told its capabilities at initialize.
        if (session.revision !== MODERN_REVISION) return session.initializeResult;
        const answer = await session.request('server/discover', params, forward);
        return answer.result;
      }),
    );
    const results = answers.flatMap((a) => (a.status === 'fulfilled' && a.value ? [a.value] : []));
    if (results.length === 0) return errorResponse(id, INTERNAL_ERROR, 'upstream unavailable');
    if (this.federation.spec.targets.length === 1 && Array.isArray(results[0]!.supportedVersions)) return { jsonrpc: '2.0', id, result: results[0]! };
    return {
      jsonrpc: '2.0',
      id,
      result: { supportedVersions: [MODERN_REVISION], capabilities: mergeCapabilities(results), resultType: 'complete', ttlMs: 0, cacheScope: 'private', _meta: { 'io.modelcontextprotocol/serverInfo': this.options.serverInfo } },
    };
  }
}

/** What a listed item's arguments look like to a rule: none yet. */
const NO_ARGUMENTS = Object.freeze({ arguments: {}, argumentKeys: [], argumentValues: [] });

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function forbid(reason: string, decision: AuthorizationDecision): Verdict {
  if (decision.allowed) throw new Error('forbid() needs a denial');
  return { kind: 'forbid', reason, message: decision.reason, ...(decision.policy ? { policy: decision.policy } : {}) };
}

function unknownItem(id: ReturnType<typeof idOf>, kind: ItemKind, name: string): JsonRpcResponse {
  const what = kind === 'tool' ? 'Unknown tool' : kind === 'prompt' ? 'Unknown prompt' : 'Unknown resource';
  return errorResponse(id, INVALID_PARAMS, `${what}: ${name}`);
}

function upstreamMessage(error: unknown): string {
  if (error instanceof FederationError || error instanceof UpstreamError) return error.message;
  return `upstream error: ${(error as Error).message}`;
}

/** A result from an older-revision target, relayed to a 2026-07-28 client, says it is complete. */
function bridge(answer: JsonRpcResponse, revision: Revision): JsonRpcResponse {
  if (revision !== MODERN_REVISION || !answer.result || 'resultType' in answer.result) return answer;
  return { ...answer, result: { ...answer.result, resultType: 'complete' } };
}

function rpc(status: number, body: JsonRpcResponse): McpReply {
  return { status, headers: { 'content-type': 'application/json' }, body };
}
