// The agent gateway: an HTTP proxy that knows MCP and A2A. It takes connections from the mesh (HBONE
// streams whose caller identity the mesh proved) and from a host listener (no identity), routes each request
// by the HTTPRoutes attached to it, and applies, in this order: route selection (404), local rate limit
// (429), body size (413), JWT authentication (401), then for MCP backends the per-message checks of the MCP
// handler, and for HTTP/A2A backends traffic authorization (403); then forwards. A caller with neither a mesh
// identity nor a validated JWT (the host listener's) gets no MCP message and no A2A call served (403,
// reason Unauthenticated; see policy/anonymous.ts). Every request ends in one
// access log line, one metric sample and one span.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, type Duplex } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Registry } from 'prom-client';
import { checkRebinding, rebindingErrorBody, type RebindingPolicy } from '../core/dns-rebinding.ts';
import { errorMessage } from '../core/errors.ts';
import { BodyTooLargeError, closeServer, listen, readBody, type BoundAddress } from '../core/http.ts';
import type { Logger } from '../core/log.ts';
import { createGuardedServer } from '../core/request-guard.ts';
import type { RotationLimits } from '../core/rotating-file.ts';
import type { SessionLimits } from '../core/session-table.ts';
import { agentCardBase, parseA2aRequest, rewriteAgentCard } from './a2a.ts';
import { compileGateway, selectRoute, type CompileState, type CompiledBackend, type CompiledGateway, type CompiledRoute, type GatewayInputs, type RoutePolicies } from './config.ts';
import { Federation } from './mcp/federation.ts';
import { McpRouteHandler, type McpPolicies, type RequestRecord } from './mcp/handler.ts';
import type { FetchLike, UpstreamResponse } from './mcp/upstream.ts';
import type { AuthorizationDecision, RuleSet } from '../cel/cel.ts';
import { UNAUTHENTICATED, anonymousRefusal, isAnonymous } from './policy/anonymous.ts';
import { rateLimitHeaders } from './policy/rate-limit.ts';
import { TokenExchangeService } from './policy/token-exchange.ts';
import { ToolPinStore } from './policy/tool-pinning.ts';
import { finishRequestSpan, GatewayTelemetry, traceContext, type AccessRecord } from './telemetry.ts';

/** Headers that describe one hop, not the request (RFC 9110 §7.6.1), plus the ones the gateway sets itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'x-forwarded-client-cert', 'content-length', 'host']);

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const STS_TOKEN_PATH = '/oauth2/token';
export const STS_JWKS_PATH = '/.well-known/jwks.json';

export interface CallerIdentity {
  spiffeId: string;
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

/** Which traffic a connection carries: the gateway's own listener, or a Service it is the waypoint for. */
export type ConnectionParent = { kind: 'Gateway' } | { kind: 'Service'; namespace: string; name: string; hostname: string; port: number };

interface ConnectionContext {
  caller?: CallerIdentity;
  address: string;
  parent: ConnectionParent;
}

export interface AgentGatewayOptions {
  /** `<namespace>/<name>` of the Gateway. */
  key: string;
  log: Logger;
  metrics: Registry;
  /** Where the gateway keeps its state (pins, spans). */
  dataDir: string;
  /** Upstream HTTP: through the mesh in the cluster, plain loopback in tests. */
  fetch: FetchLike;
  namespaceLabels(namespace: string): Record<string, string>;
  maxBodyBytes?: number;
  /** Share a pin store (tests); by default `<dataDir>/pins.sqlite`. */
  pins?: ToolPinStore;
  /** DNS-rebinding protection: Origin and Host names allowed besides loopback (and, for Host, cluster names). */
  rebinding?: Pick<RebindingPolicy, 'allowedOrigins' | 'allowedHosts'>;
  /** Bounds of each MCP route's client sessions, and the clock they expire by (tests); documented defaults otherwise. */
  mcpSessions?: Partial<SessionLimits>;
  now?: () => number;
  /** Rotation of `<dataDir>/spans.jsonl`; documented defaults otherwise. */
  spanRotation?: RotationLimits;
}

export class AgentGateway {
  readonly pins: ToolPinStore;
  private readonly telemetry: GatewayTelemetry;
  private readonly server = createGuardedServer({ shape: 'jsonrpc', server: { keepAlive: true } }, (req, res) => this.onRequest(req, res));
  private readonly hostServers: ReturnType<typeof createGuardedServer>[] = [];
  private readonly contexts = new WeakMap<object, ConnectionContext>();
  private config: CompiledGateway = { key: '', routes: [], gatewayPolicies: { traffic: [], backend: [] }, warnings: [] };
  private readonly compileState: CompileState = { limiters: new Map() };
  private sts: { spec: string; service: Promise<TokenExchangeService | undefined> } | undefined;
  /** MCP handlers by backend key and spec, kept across reconfiguration so sessions survive policy changes. */
  private handlers = new Map<string, { spec: string; handler: McpRouteHandler }>();

  private readonly rebinding: RebindingPolicy;

  constructor(private readonly options: AgentGatewayOptions) {
    this.rebinding = { allowedOrigins: [], allowedHosts: [], ...options.rebinding, namespace: options.key.split('/')[0]! };
    this.pins = options.pins ?? ToolPinStore.open(join(options.dataDir, 'pins.sqlite'));
    this.telemetry = new GatewayTelemetry(options.metrics, options.log, join(options.dataDir, 'spans.jsonl'), options.spanRotation);
  }

  get key(): string {
    return this.options.key;
  }

  /** Recompile from the current resources; returns warnings (routes that cannot work, bad policies). */
  configure(inputs: GatewayInputs): string[] {
    const config = compileGateway(inputs, this.compileState);
    const wanted = new Map<string, string>();
    for (const route of config.routes) for (const backend of route.backends) if (backend.kind === 'mcp') wanted.set(backend.key, JSON.stringify(backend.spec));
    for (const [key, entry] of this.handlers) {
      if (wanted.get(key) !== entry.spec) {
        this.handlers.delete(key);
        void entry.handler.close();
      }
    }
    for (const route of config.routes) {
      for (const backend of route.backends) {
        if (backend.kind !== 'mcp' || this.handlers.has(backend.key)) continue;
        const federation = new Federation(backend.spec, {
          onTools: (target, tools) => {
            const report = this.pins.observe(target.server, tools);
            if (!report.drifted) return;
            for (const change of report.changes) this.telemetry.toolDrift.inc({ gateway: this.key, server: target.server, change: change.kind });
            this.options.log.warn('tool drift', { server: target.server, target: target.name, changes: report.changes.map((c) => ({ tool: c.tool, kind: c.kind, fields: c.fields })) });
          },
        });
        const handler = new McpRouteHandler(federation, {
          upstream: { fetch: this.options.fetch, clientInfo: { name: 'trustusbank-agentgateway', version: '1.0.0' } },
          pins: this.pins,
          log: this.options.log,
          serverInfo: { name: 'trustusbank-agentgateway', version: '1.0.0' },
          onMcpRequest: (labels) => this.telemetry.mcpRequests.inc({ gateway: this.key, ...labels }),
          ...(this.options.mcpSessions ? { sessionLimits: this.options.mcpSessions } : {}),
          ...(this.options.now ? { now: this.options.now } : {}),
        });
        this.handlers.set(backend.key, { spec: JSON.stringify(backend.spec), handler });
      }
    }
    this.configureSts(config, inputs);
    this.config = config;
    return config.warnings;
  }

  /** Start (or replace) the token service; its signing key is kept so minted tokens survive restarts. */
  private configureSts(config: CompiledGateway, inputs: GatewayInputs): void {
    const spec = config.tokenExchange ? JSON.stringify(config.tokenExchange.spec) : undefined;
    if (spec === this.sts?.spec) return;
    if (!config.tokenExchange || spec === undefined) {
      this.sts = undefined;
      return;
    }
    const keyFile = join(this.options.dataDir, 'sts-key.json');
    const policy = config.tokenExchange.policy;
    const service = (async () => {
      const signingKey = existsSync(keyFile) ? (JSON.parse(readFileSync(keyFile, 'utf8')) as JsonWebKey) : undefined;
      const created = await TokenExchangeService.create(config.tokenExchange!.spec, { fetchJwks: inputs.fetchJwks, ...(signingKey ? { signingKey } : {}) });
      if (!signingKey) writeFileSync(keyFile, JSON.stringify(created.privateJwk()), { mode: 0o600 });
      return created;
    })().catch((error: unknown) => {
      this.options.log.error('token exchange service failed to start', { policy, error: errorMessage(error) });
      return undefined;
    });
    this.sts = { spec, service };
  }

  /** Serve an HBONE stream (byte-safe) from the mesh; `caller` comes from the client certificate. */
  accept(stream: Duplex, caller: CallerIdentity | undefined, address: string, parent: ConnectionParent): void {
    this.contexts.set(stream, { ...(caller ? { caller } : {}), address, parent });
    this.server.emit('connection', stream);
  }

  /** A listener on the host (no mesh identity: callers are anonymous unless a JWT policy authenticates them). */
  async listenOnHost(port: number, host: string, portHint: string): Promise<BoundAddress> {
    const server = createGuardedServer({ shape: 'jsonrpc', server: { keepAlive: true } }, (req, res) => {
      this.contexts.set(req.socket, { address: req.socket.remoteAddress ?? 'unknown', parent: { kind: 'Gateway' } });
      return this.onRequest(req, res);
    });
    const bound = await listen(server, { host, port, portHint });
    this.hostServers.push(server);
    return bound;
  }

  async close(): Promise<void> {
    this.server.close();
    this.server.closeAllConnections();
    await Promise.all(this.hostServers.map((s) => closeServer(s)));
    await Promise.all([...this.handlers.values()].map((h) => h.handler.close()));
    this.handlers.clear();
    if (!this.options.pins) this.pins.close();
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const startedAt = Date.now();
    const context = this.contexts.get(req.socket) ?? { address: 'unknown', parent: { kind: 'Gateway' as const } };
    const trace = traceContext(header(req, 'traceparent'), startedAt);
    const record: RequestRecord = {};
    const path = req.url ?? '/';
    const host = header(req, 'host') ?? (context.parent.kind === 'Service' ? `${context.parent.hostname}:${context.parent.port}` : 'unknown');
    let routeName = 'none';
    let status = 500;
    try {
      const route = selectRoute(this.config.routes, context.parent.kind === 'Gateway' ? { kind: 'Gateway' } : { kind: 'Service', namespace: context.parent.namespace, name: context.parent.name }, {
        host,
        path,
        method: req.method ?? 'GET',
        headers: req.headers,
      });
      if (route) routeName = route.name;
      status = await this.serve(req, res, context, route, record, trace.outgoing, host);
    } catch (error) {
      record.error = errorMessage(error);
      status = 500;
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.destroy();
    }
    const durationMs = performance.now() - started;
    const accessRecord: AccessRecord = {
      gateway: this.key,
      route: routeName,
      'src.identity': context.caller?.spiffeId ?? 'anonymous',
      'http.method': req.method ?? 'GET',
      'http.path': path,
      'http.status': status,
      ...(record.mcpMethod ? { 'mcp.method.name': record.mcpMethod } : {}),
      ...(record.target ? { 'mcp.target': record.target } : {}),
      ...(record.tool ? { 'gen_ai.tool.name': record.tool } : {}),
      ...(record.reason ? { reason: record.reason } : {}),
      ...(record.error ? { error: record.error } : {}),
      ...(record.policy ? { policy: record.policy } : {}),
      duration_ms: Math.round(durationMs * 1000) / 1000,
      'trace.id': trace.traceId,
    };
    const spanName = record.mcpMethod ? `mcp ${record.mcpMethod}${record.tool ? ` ${record.tool}` : ''}` : `${req.method} ${routeName}`;
    finishRequestSpan(trace.span, spanName, accessRecord, this.key.endsWith('-waypoint') ? 'waypoint' : 'gateway');
    this.telemetry.complete(accessRecord, {
      traceId: trace.traceId,
      spanId: trace.spanId,
      ...(trace.parentSpanId ? { parentSpanId: trace.parentSpanId } : {}),
      name: spanName,
      kind: 'SPAN_KIND_SERVER',
      startTimeUnixNano: `${startedAt}000000`,
      endTimeUnixNano: `${Math.round(startedAt + durationMs)}000000`,
      attributes: Object.fromEntries(Object.entries(accessRecord).filter(([k, v]) => k !== 'trace.id' && v !== undefined)) as Record<string, string | number>,
      status: status >= 400 ? { code: 'STATUS_CODE_ERROR', ...(record.reason ? { message: record.reason } : {}) } : { code: 'STATUS_CODE_OK' },
    });
  }

  /**
   * Run the request's stages in order; the first that answers ends it. Each stage reads and extends the one
   * exchange; its return is the status it sent, or undefined to go on.
   */
  private async serve(req: IncomingMessage, res: ServerResponse, context: ConnectionContext, route: CompiledRoute | undefined, record: RequestRecord, traceparent: string, host: string): Promise<number> {
    const exchange: Exchange = { req, res, context, route, record, traceparent, host, policies: route?.policies ?? this.config.gatewayPolicies };
    for (const stage of this.stages) {
      const status = await stage(exchange);
      if (status !== undefined) return status;
    }
    throw new Error('no stage answered the request');
  }

  private readonly stages: readonly ((x: Exchange) => number | undefined | Promise<number | undefined>)[] = [
    // First of all: a page a browser was tricked into sending here (DNS rebinding) gets nothing, not even a route's existence.
    (x) => this.refuseRebinding(x),
    (x) => (this.sts && x.context.parent.kind === 'Gateway' && (x.req.url === STS_TOKEN_PATH || x.req.url === STS_JWKS_PATH) ? this.serveSts(x.req, x.res, x.context, x.record) : undefined),
    (x) => {
      if (x.route || x.context.parent.kind !== 'Gateway') return undefined;
      x.record.reason = 'RouteNotFound';
      return send(x.res, 404, { error: 'route not found', path: x.req.url });
    },
    (x) => this.rateLimit(x),
    (x) => this.readBody(x),
    (x) => this.authenticate(x),
    (x) => {
      x.attributes = this.attributes(x.req, x.context, x.host, x.claims);
      x.anonymous = isAnonymous(x.context.caller, x.claims);
      x.forward = { traceparent: x.traceparent };
      const authorization = header(x.req, 'authorization');
      if (authorization) x.forward.authorization = authorization;
      return undefined;
    },
    (x) => this.dispatch(x),
  ];

  private refuseRebinding({ req, res, route, record }: Exchange): number | undefined {
    const rebinding = checkRebinding({ origin: header(req, 'origin'), host: header(req, 'host') }, this.rebinding);
    if (rebinding.ok) return undefined;
    record.reason = 'DnsRebinding';
    record.error = rebinding.message;
    return send(res, 403, route?.backends[0]?.kind === 'mcp' ? rebindingErrorBody(rebinding) : { error: rebinding.message, reason: 'DnsRebinding' });
  }

  private rateLimit({ res, policies, record }: Exchange): number | undefined {
    if (!policies.rateLimit) return undefined;
    const outcome = policies.rateLimit.limiter.take();
    for (const [name, value] of Object.entries(rateLimitHeaders(outcome))) res.setHeader(name, String(value));
    if (outcome.allowed) return undefined;
    record.reason = 'RateLimit';
    record.policy = policies.rateLimit.policy;
    return send(res, 429, { error: 'rate limit exceeded', reason: 'RateLimit', policy: policies.rateLimit.policy });
  }

  private async readBody(x: Exchange): Promise<number | undefined> {
    try {
      x.body = await readBody(x.req, this.options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
      return undefined;
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      x.record.reason = 'PayloadTooLarge';
      x.res.setHeader('connection', 'close');
      return send(x.res, 413, { error: error.message, reason: 'PayloadTooLarge' });
    }
  }

  private async authenticate(x: Exchange): Promise<number | undefined> {
    const jwt = x.policies.jwt;
    if (!jwt) return undefined;
    const outcome = await jwt.authenticator.authenticate(header(x.req, 'authorization'));
    if (outcome.ok) {
      x.claims = outcome.claims;
      return undefined;
    }
    x.record.reason = 'JwtAuth';
    x.record.policy = jwt.policy;
    x.record.error = outcome.reason;
    x.res.setHeader('www-authenticate', `Bearer error="invalid_token", error_description="${outcome.reason}"`);
    return send(x.res, 401, { error: 'authentication failed', reason: 'JwtAuth', message: outcome.reason });
  }

  /** To the route's backend: the MCP handler, or authorization and the proxy for plain HTTP and A2A. */
  private async dispatch(x: Exchange): Promise<number> {
    const { req, res, context, route, record, policies, host } = x;
    const body = x.body!;
    const attributes = x.attributes!;
    const anonymous = x.anonymous!;
    const forward = x.forward!;
    const backend = route?.backends[0];
    if (route && !backend) {
      record.reason = 'NoBackend';
      return send(res, 500, { error: 'route has no usable backend', route: route.route });
    }
    if (backend?.kind === 'mcp') {
      const handler = this.handlers.get(backend.key)?.handler;
      if (!handler) return send(res, 503, { error: 'backend not ready' });
      const reply = await handler.handle(
        { method: req.method ?? 'GET', headers: req.headers, body: body.toString('utf8'), attributes, caller: context.caller?.spiffeId ?? `host:${context.address}`, anonymous, forward, record },
        mcpPolicies(policies),
      );
      if (reply.status === 403 && !record.reason) record.reason = 'Authorization';
      res.writeHead(reply.status, reply.headers);
      res.end(reply.text ?? (reply.body === undefined ? undefined : JSON.stringify(reply.body)));
      return reply.status;
    }

    // Plain HTTP or A2A: authorization on the request (A2A adds its method).
    const a2aCall = backend?.kind === 'http' && backend.a2a && req.method === 'POST';
    const a2a = a2aCall ? parseA2aRequest(body.toString('utf8')) : undefined;
    // Every POST to an agent, not only the ones parsed: a body the gateway cannot read may still be one the agent can.
    if (a2aCall && anonymous) {
      record.reason = UNAUTHENTICATED;
      record.error = anonymousRefusal(`A2A ${a2a?.method ?? 'request'}`);
      return send(res, 403, { error: 'Forbidden', reason: UNAUTHENTICATED, message: record.error });
    }
    if (a2a) {
      attributes.a2a = { method: a2a.method, operation: a2a.operation, version: a2a.version };
      record.mcpMethod = undefined;
    }
    const decision = allOf(policies.traffic).evaluate(attributes);
    if (!decision.allowed) {
      record.reason = 'Authorization';
      record.policy = decision.policy;
      record.error = decision.reason;
      return send(res, 403, { error: 'Forbidden', reason: 'Authorization', message: decision.reason, ...(decision.policy ? { policy: decision.policy } : {}) });
    }
    const target = backend?.kind === 'http' ? { hostname: backend.service.hostname, port: backend.port } : context.parent.kind === 'Service' ? context.parent : undefined;
    if (!target) return send(res, 500, { error: 'no upstream' });
    return this.proxy(req, res, body, target, context, forward, backend?.kind === 'http' && backend.a2a, host, record);
  }

  /** RFC 8693 token endpoint and the JWKS that verifies what it mints. */
  private async serveSts(req: IncomingMessage, res: ServerResponse, context: ConnectionContext, record: RequestRecord): Promise<number> {
    const service = await this.sts?.service;
    if (!service) return send(res, 503, { error: 'temporarily_unavailable', error_description: 'token service not ready' });
    if (req.url === STS_JWKS_PATH) return send(res, 200, service.jwks(), { 'cache-control': 'max-age=300' });
    if (req.method !== 'POST') return send(res, 405, { error: 'invalid_request', error_description: 'use POST' }, { allow: 'POST' });
    const form = (await readBody(req, 64 * 1024).catch(() => Buffer.alloc(0))).toString('utf8');
    const answer = await service.exchange(form, context.caller?.spiffeId);
    if (answer.status !== 200) {
      record.reason = 'TokenExchange';
      record.error = String(answer.body.error);
    }
    return send(res, answer.status, answer.body, answer.headers);
  }

  private attributes(req: IncomingMessage, context: ConnectionContext, host: string, claims: Record<string, unknown> | undefined): Record<string, unknown> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
    const caller = context.caller;
    return {
      request: { method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0], host, headers },
      source: {
        address: context.address,
        ...(caller
          ? {
              identity: { trustDomain: caller.trustDomain, namespace: caller.namespace, serviceAccount: caller.serviceAccount },
              namespace: { labels: this.options.namespaceLabels(caller.namespace) },
            }
          : {}),
      },
      ...(claims ? { jwt: claims } : {}),
    };
  }

  private async proxy(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    target: { hostname: string; port: number },
    context: ConnectionContext,
    forward: Record<string, string>,
    a2a: boolean,
    host: string,
    record: RequestRecord,
  ): Promise<number> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    Object.assign(headers, forward);
    // As Envoy does: the upstream learns the authenticated caller; a client-supplied value was dropped above.
    if (context.caller) headers['x-forwarded-client-cert'] = `URI=${context.caller.spiffeId}`;
    const path = req.url ?? '/';
    let response: UpstreamResponse;
    try {
      response = await this.options.fetch(`http://${target.hostname}:${target.port}${path}`, {
        method: req.method ?? 'GET',
        headers,
        ...(body.length > 0 && req.method !== 'GET' && req.method !== 'HEAD' ? { body: body.toString('utf8') } : {}),
      });
    } catch (error) {
      record.error = `upstream: ${errorMessage(error)}`;
      record.reason = 'UpstreamFailure';
      return send(res, 503, { error: 'upstream connect error' });
    }
    const out: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      if (!HOP_BY_HOP.has(name)) out[name] = value;
    });
    const cardBase = a2a && req.method === 'GET' ? agentCardBase(path) : undefined;
    if (cardBase !== undefined && response.ok) {
      try {
        const card = (await response.json()) as Record<string, unknown>;
        const rewritten = rewriteAgentCard(card, `http://${host}${cardBase || '/'}`);
        return send(res, response.status, rewritten, { ...out, 'content-type': 'application/json' });
      } catch {
        record.error = 'agent card is not JSON';
        return send(res, 502, { error: 'upstream agent card is not JSON' });
      }
    }
    res.writeHead(response.status, out);
    if (response.body) Readable.fromWeb(response.body as WebReadableStream).pipe(res);
    else res.end();
    return response.status;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): number {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
  return status;
}

/** One request as its stages see it: what the connection and the route say, and what earlier stages found. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  context: ConnectionContext;
  route: CompiledRoute | undefined;
  record: RequestRecord;
  traceparent: string;
  host: string;
  policies: RoutePolicies;
  body?: Buffer;
  claims?: Record<string, unknown>;
  attributes?: Record<string, unknown>;
  anonymous?: boolean;
  forward?: Record<string, string>;
}

/** Several rule sets that must all allow; the first denial is the answer. */
export function allOf(sets: RuleSet[]): { evaluate(context: Record<string, unknown>): AuthorizationDecision } {
  return {
    evaluate(context) {
      const errors: AuthorizationDecision['errors'][number][] = [];
      for (const set of sets) {
        const decision = set.evaluate(context);
        errors.push(...decision.errors);
        if (!decision.allowed) return { ...decision, errors };
      }
      return { allowed: true, errors };
    },
  };
}

function mcpPolicies(policies: RoutePolicies): McpPolicies {
  return {
    traffic: allOf(policies.traffic),
    backend: allOf(policies.backend),
    ...(policies.dlp ? { dlp: policies.dlp } : {}),
    ...(policies.pinning ? { pinning: policies.pinning } : {}),
  };
}

export type { CompiledBackend };
