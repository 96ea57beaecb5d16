// Which agent a request to `/api/a2a/<namespace>/<agent>/...` may reach, decided on the raw request target
// before anything is parsed or normalised. The chatbot calls agents as itself, with its own mesh identity, so
// a loose proxy here would lend that identity to anyone who can reach the page: the answer is A2A to an agent
// of an allowed namespace, and nothing else — no other host, port or path (an MCP server's /mcp is not
// reachable through it), no query, no percent-encoding or dot segments that a later layer could reinterpret.

export const A2A_PREFIX = '/api/a2a/';
export const AGENT_CARD_PATH = '/.well-known/agent-card.json';
/** The port every agent's A2A Service listens on (kagent's convention). */
export const AGENT_PORT = 8080;
/** Kubernetes names are DNS-1123 labels: what `<agent>.<namespace>.svc.cluster.local` can be built from safely. */
const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;

export type A2aRoute =
  | { ok: true; namespace: string; agent: string; path: '/' | typeof AGENT_CARD_PATH; method: 'GET' | 'POST'; url: string }
  | { ok: false; status: 400 | 403 | 404 | 405; message: string; allow?: string };

export interface RouteOptions {
  /** Namespaces whose agents the chatbot may call. */
  namespaces: readonly string[];
  /** The agent's base URL; the cluster's Service DNS name by default. */
  upstream?: (namespace: string, agent: string) => string;
}

export const clusterUpstream = (namespace: string, agent: string): string => `http://${agent}.${namespace}.svc.cluster.local:${AGENT_PORT}`;

/** The decision for one request: an upstream URL, or the refusal with its status. Checks run top to bottom. */
export function routeA2a(method: string | undefined, rawTarget: string, options: RouteOptions): A2aRoute {
  const refuse = (status: 400 | 403 | 404, message: string): A2aRoute => ({ ok: false, status, message });
  if (!rawTarget.startsWith(A2A_PREFIX)) return refuse(404, 'not an A2A route');
  if (/[?#]/.test(rawTarget)) return refuse(400, 'A2A routes take no query string');
  if (/[%\\]/.test(rawTarget)) return refuse(400, 'A2A routes take no percent-encoding or backslashes');
  const segments = rawTarget.slice(A2A_PREFIX.length).split('/');
  if (segments.some((segment) => segment === '.' || segment === '..')) return refuse(400, 'A2A routes take no dot segments');
  const [namespace = '', agent = '', ...rest] = segments;
  if (!DNS_LABEL.test(namespace)) return refuse(400, `"${printable(namespace)}" is not a namespace name (lower-case letters, digits and '-', at most 63)`);
  if (!DNS_LABEL.test(agent)) return refuse(400, `"${printable(agent)}" is not an agent name (lower-case letters, digits and '-', at most 63)`);
  if (!options.namespaces.includes(namespace)) return refuse(403, `the chatbot does not call agents in namespace ${namespace} (it calls ${options.namespaces.join(', ')})`);
  const tail = `/${rest.join('/')}`;
  const path = tail === '/' ? '/' : tail === AGENT_CARD_PATH ? AGENT_CARD_PATH : undefined;
  if (path === undefined) return refuse(404, `${printable(tail)} is not an A2A path (POST ${A2A_PREFIX}<namespace>/<agent>/ or GET …${AGENT_CARD_PATH})`);
  const allowed = path === '/' ? 'POST' : 'GET';
  if (method !== allowed) return { ok: false, status: 405, message: `${path === '/' ? 'A2A JSON-RPC' : 'the agent card'} takes ${allowed}`, allow: allowed };
  const base = (options.upstream ?? clusterUpstream)(namespace, agent);
  return { ok: true, namespace, agent, path, method: allowed, url: `${base}${path}` };
}

/** A name as it may be echoed in an error: bounded, and without control characters. */
function printable(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 80 ? `${clean.slice(0, 80)}…` : clean;
}

/** W3C trace context: `00-<trace id>-<parent id>-<flags>`, ids not all zero. */
const TRACEPARENT = /^00-(?!0{32})([0-9a-f]{32})-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

export function isTraceparent(value: string | undefined): value is string {
  return value !== undefined && TRACEPARENT.test(value);
}

export function traceIdOf(traceparent: string): string {
  return traceparent.split('-')[1] ?? '';
}

/** A fresh sampled traceparent from the given random bytes (16 for the trace id, 8 for the span id). */
export function newTraceparent(random: (bytes: number) => Uint8Array): string {
  const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  // An all-zero id is invalid; the chance is nil, but the check is cheap.
  let trace = hex(random(16));
  let span = hex(random(8));
  if (/^0+$/.test(trace)) trace = `${trace.slice(0, 31)}1`;
  if (/^0+$/.test(span)) span = `${span.slice(0, 15)}1`;
  return `00-${trace}-${span}-01`;
}
