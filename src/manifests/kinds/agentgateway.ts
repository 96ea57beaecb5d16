// The agentgateway kinds: AgentgatewayBackend (agentgateway.dev/v1alpha1), a set of MCP servers federated behind
// one endpoint, and the policies attached to Gateways, HTTPRoutes and backends: AgentgatewayPolicy
// (agentgateway.dev/v1alpha1) and Solo's EnterpriseAgentgatewayPolicy (enterpriseagentgateway.solo.io/v1alpha1),
// which adds DLP, tool pinning and token exchange. CEL expressions are compiled with the gateway's own compiler,
// so an expression the gateway could not run is refused at apply time.
import { z } from 'zod';
import { celExpressionProblem } from '../../cel/cel.ts';
import { checkedString, goDuration, isPlainObject, kubeObject, nonEmptyString, nonNegativeInt, portNumber, positiveInt, supportedValue, type Expect, type SameShape } from '../fields.ts';
import { dns1123LabelProblem, dns1123SubdomainProblem } from '../names.ts';
import { OBJECT_BOOKKEEPING, objectMeta } from '../object-meta.ts';
import type { AgentgatewayBackend, AgentgatewayPolicy, EnterpriseAgentgatewayPolicy, EnterpriseAgentgatewayPolicySpec, JwtProvider } from '../types.ts';
import { AGENTGATEWAY_GROUP, GATEWAY_API_GROUP, regularExpressionProblem } from './http-route.ts';

export const AGENTGATEWAY_API_VERSION = 'agentgateway.dev/v1alpha1';
export const ENTERPRISE_AGENTGATEWAY_API_VERSION = 'enterpriseagentgateway.solo.io/v1alpha1';

/** Whose fields the unsupported ones are, for "is a … field TrustUsBank does not support yet". */
const UPSTREAM = 'Solo agentgateway';

// --- AgentgatewayBackend ---------------------------------------------------------------------------------

/** A host to connect to: a DNS name or an IP address, without scheme, port or path. */
function hostProblem(value: string): string | undefined {
  if (value === '') return 'must not be empty';
  if (/[\s/]/.test(value)) return 'must be a host name or an IP address, without scheme or path (e.g. "account-mcp.trustusbank-bank-mcp.svc.cluster.local")';
  return undefined;
}

function absolutePathProblem(value: string): string | undefined {
  return value.startsWith('/') ? undefined : 'must start with "/"';
}

const mcpTargetStatic = kubeObject({
  host: checkedString(hostProblem, 'host'),
  port: portNumber,
  protocol: supportedValue(['StreamableHTTP', 'SSE'], { what: 'MCP protocol' }).optional(),
  path: checkedString(absolutePathProblem, 'path').optional(),
});

const mcpTarget = kubeObject(
  {
    // Also the prefix of the target's tool names (`<name>_<tool>`), so a DNS label keeps them readable.
    name: checkedString(dns1123LabelProblem, 'target name'),
    static: mcpTargetStatic,
  },
  { unsupported: ['selector'], upstream: UPSTREAM },
);

const mcpBackend = kubeObject(
  {
    targets: z.array(mcpTarget).min(1, { error: 'must list at least one MCP target' }),
    prefixMode: supportedValue(['Conditional', 'Always', 'Never'], { what: 'prefix mode' }).optional(),
    failureMode: supportedValue(['FailClosed', 'FailOpen'], { what: 'failure mode' }).optional(),
  },
  { unsupported: ['sessionRouting'], upstream: UPSTREAM },
).superRefine((mcp, ctx) => {
  const names = new Map<string, number>();
  mcp.targets.forEach((target, i) => {
    if (names.has(target.name)) ctx.addIssue({ code: 'custom', path: ['targets', i, 'name'], message: `duplicates the name of targets[${names.get(target.name)}]` });
    else names.set(target.name, i);
  });
});

const agentgatewayBackendSpec = kubeObject({ mcp: mcpBackend }, { unsupported: ['ai', 'static', 'dynamicForwardProxy', 'aws', 'a2a', 'policies'], upstream: UPSTREAM });

export const agentgatewayBackendSchema = kubeObject(
  { apiVersion: z.literal(AGENTGATEWAY_API_VERSION), kind: z.literal('AgentgatewayBackend'), metadata: objectMeta(dns1123SubdomainProblem), spec: agentgatewayBackendSpec },
  { bookkeeping: OBJECT_BOOKKEEPING },
);

type _AgentgatewayBackendSchemaMatchesType = Expect<SameShape<z.output<typeof agentgatewayBackendSchema>, AgentgatewayBackend>>;

// --- Policy pieces both policy kinds share ---------------------------------------------------------------

/** The group each target kind lives in. */
const TARGET_GROUPS = { Gateway: GATEWAY_API_GROUP, HTTPRoute: GATEWAY_API_GROUP, AgentgatewayBackend: AGENTGATEWAY_GROUP } as const;

const targetRef = kubeObject({
  group: z.string(),
  kind: supportedValue(['Gateway', 'HTTPRoute', 'AgentgatewayBackend'], { what: 'targetRef kind', unsupported: ['Service', 'XListenerSet'], upstream: UPSTREAM }),
  name: checkedString(dns1123SubdomainProblem, 'name'),
  sectionName: checkedString(dns1123SubdomainProblem, 'section name').optional(),
}).superRefine((ref, ctx) => {
  const group = TARGET_GROUPS[ref.kind];
  if (ref.group !== group) ctx.addIssue({ code: 'custom', path: ['group'], message: `must be "${group}" for kind ${ref.kind} (got "${ref.group}")` });
});

/** A CEL expression: only its presence is checked here; the gateway compiles it and reports its errors. */
// Compiled here so a policy that can never work is refused at apply, naming the expression's field.
const celExpression = z.string().superRefine((expression, ctx) => {
  if (expression.trim() === '') {
    ctx.addIssue({ code: 'custom', message: 'must not be empty' });
    return;
  }
  const problem = celExpressionProblem(expression);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `is not a valid CEL authorization rule: ${problem}` });
});

const celAuthorization = kubeObject({
  action: supportedValue(['Allow', 'Deny', 'Require'], { what: 'authorization action' }).optional(),
  policy: kubeObject({ matchExpressions: z.array(celExpression).min(1, { error: 'must list at least one CEL expression' }) }),
});

function httpUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an http:// or https:// URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be an http:// or https:// URL (not ${url.protocol}//)`;
  if (url.hostname === '') return 'must name a host';
  return undefined;
}

/** An inline JSON Web Key Set: a JSON object with a `keys` list (RFC 7517). The keys themselves are the gateway's. */
function jwksProblem(value: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    return `is not valid JSON: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (!isPlainObject(parsed) || !Array.isArray(parsed.keys)) return 'must be a JSON Web Key Set: a JSON object with a "keys" list';
  return undefined;
}

const remoteJwks = kubeObject({ url: checkedString(httpUrlProblem, 'URL'), cacheDuration: goDuration.optional() }, { unsupported: ['backendRef'], upstream: UPSTREAM });

type _RemoteJwksMatchesType = Expect<SameShape<z.output<typeof remoteJwks>, Extract<JwtProvider['jwks'], { remote: unknown }>['remote']>>;

const jwks = kubeObject({
  inline: z
    .string()
    .superRefine((value, ctx) => {
      const problem = jwksProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  remote: remoteJwks.optional(),
})
  .superRefine((keys, ctx) => {
    if ((keys.inline === undefined) === (keys.remote === undefined)) {
      ctx.addIssue({ code: 'custom', message: `must set exactly one of inline or remote (${keys.inline === undefined ? 'neither is' : 'both are'} set)` });
    }
  })
  .transform((keys): JwtProvider['jwks'] => (keys.inline !== undefined ? { inline: keys.inline } : { remote: keys.remote! }));

const jwtProvider = kubeObject({
  issuer: nonEmptyString,
  audiences: z.array(nonEmptyString).min(1, { error: 'must not be empty (leave it out to accept any audience)' }).optional(),
  jwks,
});

const jwtAuthentication = kubeObject({
  mode: supportedValue(['Strict', 'Optional', 'Permissive'], { what: 'JWT authentication mode' }).optional(),
  providers: z.array(jwtProvider).min(1, { error: 'must list at least one provider' }),
});

const localRateLimit = kubeObject(
  {
    requests: positiveInt,
    unit: supportedValue(['Seconds', 'Minutes', 'Hours'], { what: 'rate limit unit' }),
    burst: nonNegativeInt.optional(),
  },
  { unsupported: ['tokens'], upstream: UPSTREAM },
);

const rateLimit = kubeObject({ local: z.array(localRateLimit).min(1, { error: 'must list at least one limit' }) }, { unsupported: ['global'], upstream: UPSTREAM });

const trafficShape = {
  authorization: celAuthorization.optional(),
  jwtAuthentication: jwtAuthentication.optional(),
  rateLimit: rateLimit.optional(),
};

const TRAFFIC_UNSUPPORTED = [
  'phase',
  'transformation',
  'extProc',
  'extAuth',
  'cors',
  'csrf',
  'headerModifiers',
  'hostRewrite',
  'timeouts',
  'retry',
  'basicAuthentication',
  'apiKeyAuthentication',
];
const BACKEND_UNSUPPORTED = ['tcp', 'tls', 'http', 'auth', 'ai', 'a2a'];
const MCP_BACKEND_UNSUPPORTED = ['authentication'];
const SPEC_UNSUPPORTED = ['targetSelectors', 'frontend'];

const targetRefs = z.array(targetRef).min(1, { error: 'must list at least one target (a Gateway, an HTTPRoute or an AgentgatewayBackend)' });

/** A policy that sets nothing would attach and do nothing, which is never what its author meant. */
function setsSomething(spec: { traffic?: object; backend?: { mcp?: object } }, ctx: z.RefinementCtx): void {
  const traffic = spec.traffic !== undefined && Object.keys(spec.traffic).length > 0;
  const mcp = spec.backend?.mcp !== undefined && Object.keys(spec.backend.mcp).length > 0;
  if (!traffic && !mcp) ctx.addIssue({ code: 'custom', message: 'must set at least one policy under traffic or backend.mcp (this policy does nothing)' });
}

// --- AgentgatewayPolicy ----------------------------------------------------------------------------------

/** Fields only EnterpriseAgentgatewayPolicy has: refused on AgentgatewayPolicy, saying where they belong. */
const enterpriseOnly = z
  .unknown()
  .superRefine((_value, ctx) => {
    ctx.addIssue({
      code: 'custom',
      message: `is an EnterpriseAgentgatewayPolicy field: AgentgatewayPolicy does not have it; use kind EnterpriseAgentgatewayPolicy (apiVersion ${ENTERPRISE_AGENTGATEWAY_API_VERSION})`,
    });
  })
  .optional();

const agentgatewayTraffic = kubeObject({ ...trafficShape, tokenExchange: enterpriseOnly }, { unsupported: TRAFFIC_UNSUPPORTED, upstream: UPSTREAM }).transform(
  ({ tokenExchange: _tokenExchange, ...traffic }) => traffic,
);

const agentgatewayMcpBackend = kubeObject(
  { authorization: celAuthorization.optional(), dlp: enterpriseOnly, toolPinning: enterpriseOnly },
  { unsupported: MCP_BACKEND_UNSUPPORTED, upstream: UPSTREAM },
).transform(({ dlp: _dlp, toolPinning: _toolPinning, ...mcp }) => mcp);

const agentgatewayPolicySpec = kubeObject(
  {
    targetRefs,
    traffic: agentgatewayTraffic.optional(),
    backend: kubeObject({ mcp: agentgatewayMcpBackend.optional() }, { unsupported: BACKEND_UNSUPPORTED, upstream: UPSTREAM }).optional(),
  },
  { unsupported: SPEC_UNSUPPORTED, upstream: UPSTREAM },
).superRefine(setsSomething);

export const agentgatewayPolicySchema = kubeObject(
  { apiVersion: z.literal(AGENTGATEWAY_API_VERSION), kind: z.literal('AgentgatewayPolicy'), metadata: objectMeta(dns1123SubdomainProblem), spec: agentgatewayPolicySpec },
  { bookkeeping: OBJECT_BOOKKEEPING },
);

type _AgentgatewayPolicySchemaMatchesType = Expect<SameShape<z.output<typeof agentgatewayPolicySchema>, AgentgatewayPolicy>>;

// --- EnterpriseAgentgatewayPolicy ------------------------------------------------------------------------

const DLP_BUILTINS = ['UkNiNumber', 'Email', 'UkPostcode', 'Phone', 'CreditCard', 'DateOfBirth', 'PersonName', 'StreetAddress'] as const;

const dlpMatcher = kubeObject({
  builtin: supportedValue(DLP_BUILTINS, { what: 'DLP matcher' }).optional(),
  name: nonEmptyString.optional(),
  // Compiled as JavaScript, without flags: `(?i)` and other inline flags are not JavaScript syntax.
  regex: z
    .string()
    .min(1)
    .superRefine((pattern, ctx) => {
      const problem = regularExpressionProblem(pattern);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
}).superRefine((matcher, ctx) => {
  const custom = matcher.name !== undefined || matcher.regex !== undefined;
  if (matcher.builtin !== undefined) {
    if (custom) ctx.addIssue({ code: 'custom', path: ['builtin'], message: 'cannot be combined with name or regex: a matcher is either a built-in or a named regex' });
    return;
  }
  if (!custom) ctx.addIssue({ code: 'custom', message: 'must set builtin, or name and regex' });
  else if (matcher.name === undefined) ctx.addIssue({ code: 'custom', path: ['name'], message: 'is required with regex (it names the matcher in logs and redactions)' });
  else if (matcher.regex === undefined) ctx.addIssue({ code: 'custom', path: ['regex'], message: 'is required with name' });
});

const dlpResults = kubeObject({
  action: supportedValue(['Reject', 'RedactInPlace'], { what: 'DLP results action' }).optional(),
  matchExpressions: z.array(celExpression).min(1, { error: 'must list at least one CEL expression (leave it out to inspect every result)' }).optional(),
});

const dlpPolicy = kubeObject({
  action: supportedValue(['Reject', 'RedactInPlace'], { what: 'DLP action' }).optional(),
  scope: z.array(supportedValue(['Arguments', 'Results'], { what: 'DLP scope' })).min(1, { error: 'must not be empty (leave it out to inspect Arguments)' }).optional(),
  matchers: z.array(dlpMatcher).min(1, { error: 'must list at least one matcher' }),
  results: dlpResults.optional(),
}).superRefine((dlp, ctx) => {
  // Settings for a side that is never inspected would be silently ignored.
  if (dlp.results !== undefined && !(dlp.scope ?? ['Arguments']).includes('Results')) {
    ctx.addIssue({ code: 'custom', path: ['results'], message: 'is set but scope does not list Results: add Results to scope, or remove results' });
  }
  // A matcher's name is its builtin or its custom name; findings name it, so two matchers may not share one.
  const names = new Map<string, number>();
  dlp.matchers.forEach((matcher, i) => {
    const name = matcher.builtin ?? matcher.name;
    if (name === undefined) return;
    if (names.has(name)) ctx.addIssue({ code: 'custom', path: ['matchers', i, matcher.builtin !== undefined ? 'builtin' : 'name'], message: `duplicates the name "${name}" of matchers[${names.get(name)}]` });
    else names.set(name, i);
  });
});

const toolPinning = kubeObject({ action: supportedValue(['Alert', 'HideDrifted', 'BlockServer'], { what: 'tool pinning action' }) });

const tokenExchange = kubeObject({
  issuer: nonEmptyString,
  tokenExpiration: goDuration.optional(),
  subjectValidator: jwtProvider,
});

// types.ts writes the enterprise additions as intersections (`TrafficPolicy & {...}`), which SameShape never
// finds identical to a schema's single object type: each part is proven against its flattened type, then typed
// as the intersection.
type EnterpriseTraffic = NonNullable<EnterpriseAgentgatewayPolicySpec['traffic']>;
type EnterpriseMcpBackend = NonNullable<NonNullable<EnterpriseAgentgatewayPolicySpec['backend']>['mcp']>;
type Flat<T> = { [K in keyof T]: T[K] };

const enterpriseTrafficFields = kubeObject({ ...trafficShape, tokenExchange: tokenExchange.optional() }, { unsupported: TRAFFIC_UNSUPPORTED, upstream: UPSTREAM });
type _EnterpriseTrafficMatchesType = Expect<SameShape<z.output<typeof enterpriseTrafficFields>, Flat<EnterpriseTraffic>>>;
const enterpriseTraffic = enterpriseTrafficFields.transform((traffic): EnterpriseTraffic => traffic);

const enterpriseMcpBackendFields = kubeObject(
  { authorization: celAuthorization.optional(), dlp: dlpPolicy.optional(), toolPinning: toolPinning.optional() },
  { unsupported: MCP_BACKEND_UNSUPPORTED, upstream: UPSTREAM },
);
type _EnterpriseMcpBackendMatchesType = Expect<SameShape<z.output<typeof enterpriseMcpBackendFields>, Flat<EnterpriseMcpBackend>>>;
const enterpriseMcpBackend = enterpriseMcpBackendFields.transform((mcp): EnterpriseMcpBackend => mcp);

const enterpriseAgentgatewayPolicySpec = kubeObject(
  {
    targetRefs,
    traffic: enterpriseTraffic.optional(),
    backend: kubeObject({ mcp: enterpriseMcpBackend.optional() }, { unsupported: BACKEND_UNSUPPORTED, upstream: UPSTREAM }).optional(),
  },
  { unsupported: SPEC_UNSUPPORTED, upstream: UPSTREAM },
).superRefine(setsSomething);

export const enterpriseAgentgatewayPolicySchema = kubeObject(
  {
    apiVersion: z.literal(ENTERPRISE_AGENTGATEWAY_API_VERSION),
    kind: z.literal('EnterpriseAgentgatewayPolicy'),
    metadata: objectMeta(dns1123SubdomainProblem),
    spec: enterpriseAgentgatewayPolicySpec,
  },
  { bookkeeping: OBJECT_BOOKKEEPING },
);

type _EnterpriseAgentgatewayPolicySchemaMatchesType = Expect<SameShape<z.output<typeof enterpriseAgentgatewayPolicySchema>, EnterpriseAgentgatewayPolicy>>;
