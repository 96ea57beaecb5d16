// Gateway API HTTPRoute (gateway.networking.k8s.io/v1): which requests reaching a parent (a Gateway, or a Service
// whose waypoint is an agentgateway) go to which backends (Services, or an AgentgatewayBackend that federates MCP
// servers). Matching by path, header and method; filters, timeouts and retries are not implemented yet.
import { z } from 'zod';
import { checkedString, kubeObject, portNumber, supportedValue, type Expect, type SameShape } from '../fields.ts';
import { dns1123LabelProblem, dns1123SubdomainProblem } from '../names.ts';
import { OBJECT_BOOKKEEPING, objectMeta } from '../object-meta.ts';
import type { HTTPRoute } from '../types.ts';

export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';
export const AGENTGATEWAY_GROUP = 'agentgateway.dev';

/** Why `pattern` is not a JavaScript regular expression (compiled without flags), or undefined when it is one. */
export function regularExpressionProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern);
    return undefined;
  } catch (error) {
    // V8 writes "Invalid regular expression: /<pattern>/: <reason>"; the field already shows the pattern.
    const reason = error instanceof Error ? error.message.replace(/^Invalid regular expression: \/[\s\S]*\/[a-z]*: /, '') : String(error);
    return `is not a valid regular expression: ${reason}`;
  }
}

/** An HTTP header name is an RFC 9110 token: letters, digits and !#$%&'*+-.^_`|~. */
function headerNameProblem(value: string): string | undefined {
  if (value.length > 256) return 'must be at most 256 characters';
  if (!/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/.test(value)) return "must be an HTTP token: letters, digits and !#$%&'*+-.^_`|~ (e.g. \"x-tenant\")";
  return undefined;
}

/** Gateway API hostnames: DNS names, optionally with a leading `*.` wildcard label; never IP addresses. */
function hostnameProblem(value: string): string | undefined {
  if (/^[0-9.]+$/.test(value) || value.includes(':')) return 'must be a DNS name, not an IP address';
  const name = value.startsWith('*.') ? value.slice(2) : value;
  if (value.length > 253) return 'must be at most 253 characters';
  if (dns1123SubdomainProblem(name) !== undefined) {
    return "must be a DNS name: lower-case letters, digits, '-' and '.', each label starting and ending with a letter or digit, optionally after a leading \"*.\" (e.g. \"mcp.trustusbank.local\")";
  }
  return undefined;
}

const objectName = checkedString(dns1123SubdomainProblem, 'name');
const namespaceName = checkedString(dns1123LabelProblem, 'namespace');
/** Listener and route-rule names (Gateway API SectionName). */
const sectionName = checkedString(dns1123SubdomainProblem, 'section name');

const parentRef = kubeObject({
  group: z.string().optional(),
  kind: supportedValue(['Gateway', 'Service'], { what: 'parentRef kind' }).optional(),
  name: objectName,
  namespace: namespaceName.optional(),
  sectionName: sectionName.optional(),
  port: portNumber.optional(),
}).superRefine((ref, ctx) => {
  // A Gateway lives in the Gateway API group (the default); a Service in the core group, written "" or left out.
  if ((ref.kind ?? 'Gateway') === 'Gateway') {
    if (ref.group !== undefined && ref.group !== GATEWAY_API_GROUP) ctx.addIssue({ code: 'custom', path: ['group'], message: `must be "${GATEWAY_API_GROUP}" (or left out) for kind Gateway (got "${ref.group}")` });
  } else if (ref.group !== undefined && ref.group !== '') {
    ctx.addIssue({ code: 'custom', path: ['group'], message: `must be "" (the core group, or left out) for kind Service (got "${ref.group}")` });
  }
});

/** A regular expression in `value` must compile; the message names the value field. */
function compiles(match: { type?: string; value?: string }, ctx: z.RefinementCtx): void {
  if (match.type !== 'RegularExpression' || match.value === undefined) return;
  const problem = regularExpressionProblem(match.value);
  if (problem) ctx.addIssue({ code: 'custom', path: ['value'], message: problem });
}

const pathMatch = kubeObject({
  type: supportedValue(['PathPrefix', 'Exact', 'RegularExpression'], { what: 'path match type' }).optional(),
  value: z.string().max(1024).optional(),
}).superRefine((path, ctx) => {
  if (path.value === undefined) return;
  if ((path.type ?? 'PathPrefix') === 'RegularExpression') compiles(path, ctx);
  else if (!path.value.startsWith('/')) ctx.addIssue({ code: 'custom', path: ['value'], message: `must start with "/" (got ${JSON.stringify(path.value)})` });
});

const headerMatch = kubeObject({
  type: supportedValue(['Exact', 'RegularExpression'], { what: 'header match type' }).optional(),
  name: checkedString(headerNameProblem, 'header name'),
  value: z.string().min(1).max(4096),
}).superRefine(compiles);

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;

const routeMatch = kubeObject(
  {
    path: pathMatch.optional(),
    headers: z.array(headerMatch).optional(),
    method: supportedValue(HTTP_METHODS, { what: 'HTTP method' }).optional(),
  },
  { unsupported: ['queryParams'] },
);

const backendRef = kubeObject(
  {
    group: z.string().optional(),
    kind: supportedValue(['Service', 'AgentgatewayBackend'], { what: 'backendRef kind' }).optional(),
    name: objectName,
    namespace: namespaceName.optional(),
    port: portNumber.optional(),
    weight: z.int().min(0).max(1_000_000).optional(),
  },
  { unsupported: ['filters'] },
).superRefine((ref, ctx) => {
  if ((ref.kind ?? 'Service') === 'Service') {
    if (ref.group !== undefined && ref.group !== '') {
      const hint = ref.group === AGENTGATEWAY_GROUP ? ' (set kind: AgentgatewayBackend for an agentgateway backend)' : '';
      ctx.addIssue({ code: 'custom', path: ['group'], message: `must be "" (the core group, or left out) for kind Service (got "${ref.group}")${hint}` });
    }
    if (ref.port === undefined) ctx.addIssue({ code: 'custom', path: ['port'], message: 'is required for a Service backend' });
    return;
  }
  if (ref.group !== AGENTGATEWAY_GROUP) {
    ctx.addIssue({ code: 'custom', path: ['group'], message: `must be "${AGENTGATEWAY_GROUP}" for kind AgentgatewayBackend${ref.group === undefined ? '' : ` (got "${ref.group}")`}` });
  }
  if (ref.port !== undefined) ctx.addIssue({ code: 'custom', path: ['port'], message: 'must not be set for an AgentgatewayBackend: its targets carry their own ports' });
});

const routeRule = kubeObject(
  {
    name: sectionName.optional(),
    matches: z.array(routeMatch).optional(),
    backendRefs: z.array(backendRef).optional(),
  },
  { unsupported: ['filters', 'timeouts', 'retry', 'sessionPersistence'] },
);

const httpRouteSpec = kubeObject({
  parentRefs: z.array(parentRef).min(1, { error: 'must list at least one parent (a Gateway, or a Service)' }),
  hostnames: z.array(checkedString(hostnameProblem, 'hostname')).optional(),
  rules: z.array(routeRule).min(1, { error: 'must list at least one rule' }),
});

export const httpRouteSchema = kubeObject(
  { apiVersion: z.literal('gateway.networking.k8s.io/v1'), kind: z.literal('HTTPRoute'), metadata: objectMeta(dns1123SubdomainProblem), spec: httpRouteSpec },
  { bookkeeping: OBJECT_BOOKKEEPING },
);

type _HTTPRouteSchemaMatchesType = Expect<SameShape<z.output<typeof httpRouteSchema>, HTTPRoute>>;
