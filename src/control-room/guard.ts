// Who may use the control room. It binds 127.0.0.1, but a port on loopback is reachable from every web page the
// operator has open, so that alone is no door: every request must name a loopback Host (a DNS-rebinding page
// sends its own name), and every API request (reading the live stream included, since it carries the loot and
// the SOC's mail) must carry the stack's random token in a header. A browser lets another origin send neither
// a custom header without a CORS preflight (which the control room never grants) nor read the answer, and the
// token lives in the URL's fragment, which is sent to no server and appears in no Referer. Origin and
// Sec-Fetch-Site are checked as well, so a request a browser marks as cross-site is refused even with the token.
// Pure: the request's method, path and headers in, a verdict out.
import { timingSafeEqual } from 'node:crypto';

export const TOKEN_HEADER = 'x-trustusbank-token';

export interface RequestFacts {
  method: string;
  headers: { host?: string | undefined; origin?: string | undefined; 'sec-fetch-site'?: string | undefined; [TOKEN_HEADER]?: string | string[] | undefined };
}

export type GuardVerdict = { ok: true } | { ok: false; status: 403 | 405; error: string };

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** The page's own files: no token needed (they hold none), but only under a loopback Host. */
export function checkPageRequest(request: RequestFacts, port: number): GuardVerdict {
  return checkHost(request.headers.host, port);
}

/** The API: the live stream (GET) and the actions (POST); both need the token, actions a same-origin POST. */
export function checkApiRequest(request: RequestFacts, port: number, token: Buffer, kind: 'read' | 'action'): GuardVerdict {
  const host = checkHost(request.headers.host, port);
  if (!host.ok) return host;
  const expectedMethod = kind === 'action' ? 'POST' : 'GET';
  if (request.method !== expectedMethod) return { ok: false, status: 405, error: `method not allowed: ${kind === 'action' ? 'actions are POST' : 'the event stream is GET'}` };
  const site = request.headers['sec-fetch-site'];
  // A browser marks every request with where it came from; only the control room's own page may drive it.
  if (site !== undefined && site !== 'same-origin') return { ok: false, status: 403, error: `forbidden: a ${site} request (only the control room's own page may use its API)` };
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== `http://${request.headers.host}`) return { ok: false, status: 403, error: `forbidden: Origin ${JSON.stringify(origin)} is not the control room's own` };
  if (!tokenMatches(request.headers[TOKEN_HEADER], token)) {
    return { ok: false, status: 403, error: 'forbidden: missing or wrong control-room token (open the URL `trustusbank up` printed, or run `trustusbank open`)' };
  }
  return { ok: true };
}

function checkHost(host: string | undefined, port: number): GuardVerdict {
  if (host === undefined) return { ok: false, status: 403, error: 'forbidden: no Host header' };
  const match = /^(\[::1\]|[^:[\]]+)(?::(\d+))?$/.exec(host.toLowerCase());
  // A Host that is not a loopback name at our port is a page reaching us under another name (DNS rebinding).
  if (!match || !LOOPBACK_HOSTS.has(match[1]!) || Number(match[2] ?? 80) !== port) {
    return { ok: false, status: 403, error: `forbidden: Host ${JSON.stringify(host)} is not this control room's loopback address (DNS-rebinding protection)` };
  }
  return { ok: true };
}

function tokenMatches(presented: string | string[] | undefined, token: Buffer): boolean {
  if (typeof presented !== 'string') return false;
  const bytes = Buffer.from(presented);
  return bytes.length === token.length && timingSafeEqual(bytes, token);
}
