// From the resources to what one gateway enforces: the routes attached to it (by a Gateway parentRef, or by a
// Service parentRef when it is that Service's waypoint), their backends, and the policies attached at each
// level. Pure: resources in, a compiled configuration out, with a warning for each thing that cannot work.
//
// Policy merging, stated once:
// - traffic.authorization: the policies attached to one target (the Gateway, or one HTTPRoute) form one rule
//   set (Allow entries OR, Deny entries OR, Require entries AND); the Gateway's set and the route's set must
//   BOTH allow. A route policy can narrow what the Gateway allows, never widen it.
// - backend.mcp.authorization: the policies on the AgentgatewayBackend and on the route form one set each;
//   both must allow.
// - jwtAuthentication, rateLimit, DLP, tool pinning: the most specific attachment wins (route over Gateway;
//   backend over route for DLP and pinning), as agentgateway resolves a field set at several levels.
import type {
  AgentgatewayBackend,
  AgentgatewayPolicy,
  CelAuthorization,
  EnterpriseAgentgatewayPolicy,
  Gateway,
  HTTPRoute,
  HTTPRouteMatch,
  LocalRateLimit,
  PolicyTargetReference,
  ReferenceGrant,
} from '../manifests/types.ts';
import { RuleSet, type RuleSource } from '../cel/cel.ts';
import { DlpScanner } from './policy/dlp.ts';
import { JwtAuthenticator, type JwksFetcher } from './policy/jwt.ts';
import { LocalRateLimiter } from './policy/rate-limit.ts';
import type { UpstreamTarget } from './mcp/upstream.ts';
import type { TokenExchangeSpec } from './policy/token-exchange.ts';
import { parseGoDuration } from '../manifests/duration.ts';

export type GatewayPolicy = AgentgatewayPolicy | EnterpriseAgentgatewayPolicy;

export const MCP_APP_PROTOCOLS = ['agentgateway.dev/mcp', 'kgateway.dev/mcp'];
export const A2A_APP_PROTOCOLS = ['agentgateway.dev/a2a', 'kgateway.dev/a2a'];
export const MCP_PATH_ANNOTATIONS = ['agentgateway.dev/mcp-path', 'kgateway.dev/mcp-path'];

/** What the gateway needs to know of a Service. */
export interface ServiceFacts {
  name: string;
  namespace: string;
  hostname: string;
  ports: { port: number; name?: string; appProtocol?: string }[];
  annotations: Record<string, string>;
}

export interface GatewayInputs {
  gateway: Gateway;
  routes: HTTPRoute[];
  backends: AgentgatewayBackend[];
  policies: GatewayPolicy[];
  /** Gateway API ReferenceGrants: a backendRef into another namespace needs one there. */
  referenceGrants: ReferenceGrant[];
  service(namespace: string, name: string): ServiceFacts | undefined;
  fetchJwks: JwksFetcher;
}

export type CompiledBackend =
  | { kind: 'mcp'; key: string; spec: McpBackendSpec }
  | { kind: 'http'; key: string; service: ServiceFacts; port: number; a2a: boolean };

export interface McpBackendSpec {
  key: string;
  targets: UpstreamTarget[];
  prefixMode: 'Conditional' | 'Always' | 'Never';
  failureMode: 'FailClosed' | 'FailOpen';
}

export interface RoutePolicies {
  /** Rule sets that must all allow (Gateway level, route level). */
  traffic: RuleSet[];
  backend: RuleSet[];
  jwt?: { authenticator: JwtAuthenticator; policy: string };
  rateLimit?: { limiter: LocalRateLimiter; policy: string };
  dlp?: CompiledDlp;
  pinning?: { action: 'Alert' | 'HideDrifted' | 'BlockServer'; policy: string };
}

/** backend.mcp.dlp, compiled: `results` is absent when Results is not in scope. */
export interface CompiledDlp {
  scanner: DlpScanner;
  action: 'Reject' | 'RedactInPlace';
  arguments: boolean;
  results?: {
    action: 'Reject' | 'RedactInPlace';
    /** Which calls' results are inspected (Allow rules: any holds); absent: every call's. */
    when?: RuleSet;
  };
  policy: string;
}

export interface CompiledMatch {
  path: { type: 'PathPrefix' | 'Exact' | 'RegularExpression'; value: string; regex?: RegExp };
  headers: { name: string; type: 'Exact' | 'RegularExpression'; value: string; regex?: RegExp }[];
  method?: string;
}

export interface CompiledRoute {
  /** `<namespace>/<name>` of the HTTPRoute. */
  route: string;
  /** Route name for metrics: the HTTPRoute's name (with `.<rule>` when it has several rules). */
  name: string;
  /** Which traffic it serves: the gateway's listeners, or one Service's traffic (waypoint mode). */
  parent: { kind: 'Gateway' } | { kind: 'Service'; namespace: string; name: string };
  hostnames: string[];
  matches: CompiledMatch[];
  backends: CompiledBackend[];
  policies: RoutePolicies;
  /** For precedence between equal matches: older first, then by name. */
  order: number;
}

export interface CompiledGateway {
  key: string;
  /** The security token service this gateway serves (traffic.tokenExchange on the Gateway). */
  tokenExchange?: { spec: TokenExchangeSpec; policy: string };
  routes: CompiledRoute[];
  /** Policies that apply to traffic no route matched (waypoint pass-through). */
  gatewayPolicies: RoutePolicies;
  warnings: string[];
}

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** Rule sets compiled once per policy generation and kept while the policy is unchanged. */
interface Attachment {
  policy: GatewayPolicy;
  key: string;
}

/** What outlives one compilation: rate-limit buckets, so a reconfiguration does not refill them. */
export interface CompileState {
  limiters: Map<string, LocalRateLimiter>;
}

export function compileGateway(inputs: GatewayInputs, state: CompileState = { limiters: new Map() }): CompiledGateway {
  const { gateway } = inputs;
  const gwNamespace = gateway.metadata.namespace!;
  const gwKey = `${gwNamespace}/${gateway.metadata.name}`;
  const warnings: string[] = [];

  const attached = (kind: PolicyTargetReference['kind'], namespace: string, name: string): Attachment[] =>
    inputs.policies
      .filter((p) => p.metadata.namespace === namespace && p.spec.targetRefs.some((t) => t.kind === kind && t.name === name))
      .map((policy) => ({ policy, key: `${policy.metadata.namespace}/${policy.metadata.name}` }));

  const gatewayAttachments = attached('Gateway', gwNamespace, gateway.metadata.name);
  const gatewayLevel = levelPolicies(gatewayAttachments, inputs, warnings, state);

  const routes: CompiledRoute[] = [];
  const sortedRoutes = [...inputs.routes].sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  sortedRoutes.forEach((route, order) => {
    const namespace = route.metadata.namespace!;
    const routeKey = `${namespace}/${route.metadata.name}`;
    for (const parentRef of route.spec.parentRefs) {
      const kind = parentRef.kind ?? 'Gateway';
      const parentNamespace = parentRef.namespace ?? namespace;
      let parent: CompiledRoute['parent'];
      if (kind === 'Gateway') {
        if (parentRef.name !== gateway.metadata.name || parentNamespace !== gwNamespace) continue;
        if ((parentRef.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP) continue;
        const allowsAll = gateway.spec.listeners.some((l) => l.allowedRoutes?.namespaces?.from === 'All');
        if (namespace !== gwNamespace && !allowsAll) {
          warnings.push(`HTTPRoute ${routeKey}: Gateway ${gwKey} only accepts routes from its own namespace (allowedRoutes)`);
          continue;
        }
        parent = { kind: 'Gateway' };
      } else {
        parent = { kind: 'Service', namespace: parentNamespace, name: parentRef.name };
      }
      const routeLevel = levelPolicies(attached('HTTPRoute', namespace, route.metadata.name), inputs, warnings, state);
      route.spec.rules.forEach((rule, index) => {
        const backends: CompiledBackend[] = [];
        for (const ref of rule.backendRefs ?? []) {
          const refNamespace = ref.namespace ?? namespace;
          const refKind = ref.kind ?? 'Service';
          if (refNamespace !== namespace && !referenceGranted(inputs.referenceGrants, namespace, refNamespace, refKind, ref.name)) {
            // Gateway API: RefNotPermitted. The rule keeps no backend, and requests to it get 500.
            warnings.push(`HTTPRoute ${routeKey}: backendRef to ${refKind} ${refNamespace}/${ref.name} is not permitted: no ReferenceGrant in ${refNamespace} allows HTTPRoutes from ${namespace}`);
            continue;
          }
          if ((ref.kind ?? 'Service') === 'AgentgatewayBackend') {
            const backend = inputs.backends.find((b) => b.metadata.namespace === refNamespace && b.metadata.name === ref.name);
            if (!backend) {
              warnings.push(`HTTPRoute ${routeKey}: AgentgatewayBackend ${refNamespace}/${ref.name} not found`);
              continue;
            }
            backends.push({ kind: 'mcp', key: `${refNamespace}/${ref.name}`, spec: backendSpec(backend) });
          } else {
            const service = inputs.service(refNamespace, ref.name);
            if (!service) {
              warnings.push(`HTTPRoute ${routeKey}: Service ${refNamespace}/${ref.name} not found`);
              continue;
            }
            const port = service.ports.find((p) => p.port === ref.port);
            if (!port) {
              warnings.push(`HTTPRoute ${routeKey}: Service ${refNamespace}/${ref.name} has no port ${ref.port}`);
              continue;
            }
            backends.push(serviceBackend(service, port));
          }
        }
        const backendAttachments = backends.flatMap((b) => (b.kind === 'mcp' ? attached('AgentgatewayBackend', b.key.split('/')[0]!, b.key.split('/')[1]!) : []));
        const backendLevel = levelPolicies(backendAttachments, inputs, warnings, state);
        const policies: RoutePolicies = {
          traffic: [gatewayLevel.traffic, routeLevel.traffic].filter((r) => r.size > 0),
          backend: [routeLevel.backend, backendLevel.backend].filter((r) => r.size > 0),
          ...pick('jwt', routeLevel, gatewayLevel),
          ...pick('rateLimit', routeLevel, gatewayLevel),
          ...pick('dlp', backendLevel, routeLevel, gatewayLevel),
          ...pick('pinning', backendLevel, routeLevel, gatewayLevel),
        };
        routes.push({
          route: routeKey,
          name: route.spec.rules.length > 1 ? `${route.metadata.name}.${rule.name ?? index}` : route.metadata.name,
          parent,
          hostnames: route.spec.hostnames ?? [],
          matches: (rule.matches && rule.matches.length > 0 ? rule.matches : [{}]).map(compileMatch),
          backends,
          policies,
          order,
        });
      });
    }
  });
  const sts = gatewayAttachments.find(({ policy }) => policy.kind === 'EnterpriseAgentgatewayPolicy' && policy.spec.traffic?.tokenExchange);
  const stsSpec = sts?.policy.kind === 'EnterpriseAgentgatewayPolicy' ? sts.policy.spec.traffic?.tokenExchange : undefined;
  const tokenExchange =
    sts && stsSpec
      ? {
          policy: sts.key,
          spec: { issuer: stsSpec.issuer, subjectValidator: stsSpec.subjectValidator, tokenTtlMs: parseGoDuration(stsSpec.tokenExpiration ?? '5m') ?? 300_000 },
        }
      : undefined;
  return { key: gwKey, ...(tokenExchange ? { tokenExchange } : {}), routes, gatewayPolicies: { traffic: gatewayLevel.traffic.size > 0 ? [gatewayLevel.traffic] : [], backend: [], ...pick('jwt', gatewayLevel), ...pick('rateLimit', gatewayLevel) }, warnings };
}

/** Does a ReferenceGrant in `to` let HTTPRoutes in `from` reference this object? */
export function referenceGranted(grants: ReferenceGrant[], from: string, to: string, kind: 'Service' | 'AgentgatewayBackend', name: string): boolean {
  const group = kind === 'Service' ? '' : 'agentgateway.dev';
  return grants.some(
    (grant) =>
      grant.metadata.namespace === to &&
      grant.spec.from.some((f) => f.group === GATEWAY_GROUP && f.kind === 'HTTPRoute' && f.namespace === from) &&
      grant.spec.to.some((t) => t.group === group && t.kind === kind && (t.name === undefined || t.name === name)),
  );
}

function pick<K extends 'jwt' | 'rateLimit' | 'dlp' | 'pinning'>(key: K, ...levels: Partial<Pick<RoutePolicies, K>>[]): Partial<Pick<RoutePolicies, K>> {
  for (const level of levels) if (level[key] !== undefined) return { [key]: level[key] } as Partial<Pick<RoutePolicies, K>>;
  return {};
}

interface LevelPolicies extends Omit<RoutePolicies, 'traffic' | 'backend'> {
  traffic: RuleSet;
  backend: RuleSet;
}

/** The policies attached at one level (one target), merged. */
function levelPolicies(attachments: Attachment[], inputs: GatewayInputs, warnings: string[], state: CompileState): LevelPolicies {
  const traffic: RuleSource[] = [];
  const backend: RuleSource[] = [];
  const level: Omit<LevelPolicies, 'traffic' | 'backend'> = {};
  for (const { policy, key } of [...attachments].sort((a, b) => a.key.localeCompare(b.key))) {
    const spec = policy.spec;
    if (spec.traffic?.authorization) traffic.push(ruleSource(spec.traffic.authorization, key));
    if (spec.backend?.mcp?.authorization) backend.push(ruleSource(spec.backend.mcp.authorization, key));
    if (spec.traffic?.jwtAuthentication && !level.jwt) {
      try {
        level.jwt = { authenticator: new JwtAuthenticator(spec.traffic.jwtAuthentication, { fetchJwks: inputs.fetchJwks }), policy: key };
      } catch (error) {
        warnings.push(`${policy.kind} ${key}: jwtAuthentication: ${(error as Error).message}`);
      }
    }
    if (spec.traffic?.rateLimit && !level.rateLimit) {
      const limiterKey = `${key}|${JSON.stringify(spec.traffic.rateLimit)}`;
      let limiter = state.limiters.get(limiterKey);
      if (!limiter) {
        limiter = new LocalRateLimiter(spec.traffic.rateLimit.local.map(rateSpec));
        state.limiters.set(limiterKey, limiter);
      }
      level.rateLimit = { limiter, policy: key };
    }
    if (policy.kind === 'EnterpriseAgentgatewayPolicy') {
      const mcp = policy.spec.backend?.mcp;
      if (mcp?.dlp && !level.dlp) {
        const scope = mcp.dlp.scope ?? ['Arguments'];
        try {
          const action = mcp.dlp.action ?? 'Reject';
          const when = mcp.dlp.results?.matchExpressions;
          level.dlp = {
            scanner: DlpScanner.compile(mcp.dlp.matchers),
            action,
            arguments: scope.includes('Arguments'),
            ...(scope.includes('Results') ? { results: { action: mcp.dlp.results?.action ?? action, ...(when ? { when: compileRules([{ action: 'Allow', expressions: when, policy: key }], warnings) } : {}) } } : {}),
            policy: key,
          };
        } catch (error) {
          warnings.push(`${policy.kind} ${key}: dlp: ${(error as Error).message}`);
        }
      }
      if (mcp?.toolPinning && !level.pinning) level.pinning = { action: mcp.toolPinning.action, policy: key };
    }
  }
  return { ...level, traffic: compileRules(traffic, warnings), backend: compileRules(backend, warnings) };
}

function ruleSource(authorization: CelAuthorization, policy: string): RuleSource {
  return { action: authorization.action ?? 'Allow', expressions: authorization.policy.matchExpressions, policy };
}

/** A policy whose CEL does not compile denies everything it guards: failing open would be worse. */
function compileRules(sources: RuleSource[], warnings: string[]): RuleSet {
  try {
    return RuleSet.compile(sources);
  } catch (error) {
    warnings.push(`${(error as Error).message}; the policy denies every request it applies to until fixed`);
    const policies = [...new Set(sources.map((s) => s.policy))].join(', ');
    return RuleSet.compile([{ action: 'Require', expressions: ['false'], policy: `${policies} (invalid)` }]);
  }
}

function rateSpec(limit: LocalRateLimit): LocalRateLimit {
  return { requests: limit.requests, unit: limit.unit, ...(limit.burst !== undefined ? { burst: limit.burst } : {}) };
}

function backendSpec(backend: AgentgatewayBackend): McpBackendSpec {
  const key = `${backend.metadata.namespace}/${backend.metadata.name}`;
  return {
    key,
    targets: backend.spec.mcp.targets.map((t) => {
      const protocol = t.static.protocol ?? 'StreamableHTTP';
      const path = t.static.path ?? (protocol === 'SSE' ? '/sse' : '/mcp');
      return { name: t.name, url: `http://${t.static.host}:${t.static.port}${path}`, protocol, server: `${t.static.host}:${t.static.port}${path}` };
    }),
    prefixMode: backend.spec.mcp.prefixMode ?? 'Conditional',
    failureMode: backend.spec.mcp.failureMode ?? 'FailClosed',
  };
}

/** A Service backend: MCP when its port says so (appProtocol), A2A likewise, else plain HTTP. */
function serviceBackend(service: ServiceFacts, port: ServiceFacts['ports'][number]): CompiledBackend {
  const key = `service/${service.namespace}/${service.name}:${port.port}`;
  if (port.appProtocol && MCP_APP_PROTOCOLS.includes(port.appProtocol)) {
    const path = MCP_PATH_ANNOTATIONS.map((a) => service.annotations[a]).find((v) => v !== undefined) ?? '/mcp';
    const hostPort = `${service.hostname}:${port.port}`;
    return {
      kind: 'mcp',
      key,
      spec: { key, targets: [{ name: service.name, url: `http://${hostPort}${path}`, protocol: 'StreamableHTTP', server: `${hostPort}${path}` }], prefixMode: 'Conditional', failureMode: 'FailClosed' },
    };
  }
  return { kind: 'http', key, service, port: port.port, a2a: port.appProtocol !== undefined && A2A_APP_PROTOCOLS.includes(port.appProtocol) };
}

function compileMatch(match: HTTPRouteMatch): CompiledMatch {
  const type = match.path?.type ?? 'PathPrefix';
  const value = match.path?.value ?? '/';
  return {
    path: { type, value, ...(type === 'RegularExpression' ? { regex: new RegExp(`^(?:${value})$`) } : {}) },
    headers: (match.headers ?? []).map((h) => ({
      name: h.name.toLowerCase(),
      type: h.type ?? 'Exact',
      value: h.value,
      ...(h.type === 'RegularExpression' ? { regex: new RegExp(`^(?:${h.value})$`) } : {}),
    })),
    ...(match.method ? { method: match.method } : {}),
  };
}

/** Gateway API precedence between two matching (route, match) pairs: negative when `a` wins. */
export function comparePrecedence(a: { route: CompiledRoute; match: CompiledMatch }, b: { route: CompiledRoute; match: CompiledMatch }): number {
  const rank = (m: CompiledMatch): number => (m.path.type === 'Exact' ? 2 : m.path.type === 'PathPrefix' ? 1 : 0);
  return (
    rank(b.match) - rank(a.match) ||
    b.match.path.value.length - a.match.path.value.length ||
    Number(b.match.method !== undefined) - Number(a.match.method !== undefined) ||
    b.match.headers.length - a.match.headers.length ||
    a.route.order - b.route.order
  );
}

/** Does a request path fall under a PathPrefix value (element-wise, as Gateway API defines it)? */
export function pathPrefixMatches(prefix: string, path: string): boolean {
  if (prefix === '/' || prefix === '') return true;
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return path === trimmed || path.startsWith(`${trimmed}/`);
}

export function matchRequest(match: CompiledMatch, request: { path: string; method: string; headers: Record<string, string | string[] | undefined> }): boolean {
  const path = request.path.split('?')[0]!;
  const { type, value, regex } = match.path;
  if (type === 'Exact' ? path !== value : type === 'PathPrefix' ? !pathPrefixMatches(value, path) : !regex!.test(path)) return false;
  if (match.method && match.method !== request.method) return false;
  for (const header of match.headers) {
    const raw = request.headers[header.name];
    const actual = Array.isArray(raw) ? raw.join(',') : raw;
    if (actual === undefined) return false;
    if (header.type === 'Exact' ? actual !== header.value : !header.regex!.test(actual)) return false;
  }
  return true;
}

/** Route a request among the compiled routes for a given parent (listener or one service). */
export function selectRoute(
  routes: CompiledRoute[],
  parent: CompiledRoute['parent'],
  request: { host: string; path: string; method: string; headers: Record<string, string | string[] | undefined> },
): CompiledRoute | undefined {
  const host = request.host.replace(/:\d+$/, '').toLowerCase();
  let best: { route: CompiledRoute; match: CompiledMatch } | undefined;
  for (const route of routes) {
    if (route.parent.kind !== parent.kind) continue;
    if (parent.kind === 'Service' && route.parent.kind === 'Service' && (route.parent.namespace !== parent.namespace || route.parent.name !== parent.name)) continue;
    if (route.hostnames.length > 0 && !route.hostnames.some((h) => hostMatches(h, host))) continue;
    for (const match of route.matches) {
      if (!matchRequest(match, request)) continue;
      const candidate = { route, match };
      if (!best || comparePrecedence(candidate, best) < 0) best = candidate;
    }
  }
  return best?.route;
}

function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  if (p.startsWith('*.')) return host.endsWith(p.slice(1)) && host.length > p.length - 1;
  return p === host;
}
