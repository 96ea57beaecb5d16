// DNS-rebinding protection for every MCP endpoint (the servers and the agent gateway), as the MCP transport
// spec asks: a present Origin that is not allowed is answered 403, and so is a Host that a rebinding page could
// have sent. A rebinding needs a public DNS name the attacker controls that resolves to our address; so the
// Host check allows what cannot be such a name (IP literals, localhost, single-label and cluster names) and
// refuses any other name unless configured. Origins are stricter: a browser page on a cluster name is no more
// ours than one on the internet, so only loopback origins and configured ones pass. Pure: headers in, verdict out.

export interface RebindingPolicy {
  /** Extra Origin hostnames allowed besides loopback (no scheme, no port; `[::1]` style for IPv6). */
  allowedOrigins: readonly string[];
  /** Extra Host hostnames allowed besides loopback, IP literals and cluster names. */
  allowedHosts: readonly string[];
  /** The namespace the server runs in: `<name>.<namespace>` is a cluster name there. */
  namespace?: string;
}

export type RebindingVerdict = { ok: true } | { ok: false; header: 'Origin' | 'Host'; message: string };

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** A comma- or space-separated list from the environment (hostnames; an origin URL is reduced to its hostname). */
export function parseHostList(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(/[\s,]+/)
    .filter((item) => item !== '')
    .map((item) => {
      if (!item.includes('://')) return item.toLowerCase();
      try {
        return new URL(item).hostname.toLowerCase();
      } catch {
        return item.toLowerCase();
      }
    });
}

export function rebindingPolicyFromEnv(env: NodeJS.ProcessEnv, prefix: string): RebindingPolicy {
  return {
    allowedOrigins: parseHostList(env[`${prefix}ALLOWED_ORIGINS`]),
    allowedHosts: parseHostList(env[`${prefix}ALLOWED_HOSTS`]),
    ...(env.POD_NAMESPACE ? { namespace: env.POD_NAMESPACE } : {}),
  };
}

export function checkRebinding(headers: { origin?: string | undefined; host?: string | undefined }, policy: RebindingPolicy): RebindingVerdict {
  if (headers.origin !== undefined && headers.origin !== '') {
    const hostname = originHostname(headers.origin);
    if (hostname === undefined) return { ok: false, header: 'Origin', message: `Forbidden: Origin ${JSON.stringify(headers.origin)} is not a valid origin` };
    if (!LOOPBACK.has(hostname) && !policy.allowedOrigins.includes(hostname)) {
      return { ok: false, header: 'Origin', message: `Forbidden: Origin ${headers.origin} is not allowed (DNS-rebinding protection; allowed: loopback${policy.allowedOrigins.length ? `, ${policy.allowedOrigins.join(', ')}` : ''})` };
    }
  }
  // HTTP/1.1 requires Host; a request without one was not sent by a browser.
  if (headers.host === undefined || headers.host === '') return { ok: true };
  const hostname = hostHostname(headers.host);
  if (hostname === undefined) return { ok: false, header: 'Host', message: `Forbidden: Host ${JSON.stringify(headers.host)} is not a valid host` };
  if (hostAllowed(hostname, policy)) return { ok: true };
  return { ok: false, header: 'Host', message: `Forbidden: Host ${headers.host} is not allowed (DNS-rebinding protection)` };
}

function originHostname(origin: string): string | undefined {
  // The opaque origin ("null") of sandboxed frames and file pages is refused: it proves nothing.
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return url.hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

function hostHostname(host: string): string | undefined {
  try {
    const url = new URL(`http://${host}`);
    // Anything beyond host[:port] (a path, credentials) is not a Host header.
    if (url.username || url.password || `${url.host}` !== host.toLowerCase().replace(/:80$/, '')) return undefined;
    return url.hostname;
  } catch {
    return undefined;
  }
}

function hostAllowed(hostname: string, policy: RebindingPolicy): boolean {
  if (LOOPBACK.has(hostname) || hostname.endsWith('.localhost') || policy.allowedHosts.includes(hostname)) return true;
  // IP literals: no DNS is involved, so nothing was rebound (URL normalises IPv4 forms and brackets IPv6).
  if (/^\d+\.\d+\.\d+\.\d+$/.test(hostname) || hostname.startsWith('[')) return true;
  const name = hostname.replace(/\.$/, '');
  if (!name.includes('.')) return true;
  if (name.endsWith('.cluster.local') || name.endsWith('.svc')) return true;
  return policy.namespace !== undefined && name.split('.').length === 2 && name.endsWith(`.${policy.namespace}`);
}

/** The spec's answer: 403, with a JSON-RPC error that has no id. */
export function rebindingErrorBody(verdict: Extract<RebindingVerdict, { ok: false }>): { jsonrpc: '2.0'; error: { code: number; message: string }; id: null } {
  return { jsonrpc: '2.0', error: { code: -32000, message: verdict.message }, id: null };
}
