// The engine's admin API: JSON over HTTP on a Unix socket in the data directory (mode 0600), the channel the
// CLI (`apply`, `get`, `status`, `exec`, `policies`, …) uses to reach a running stack. It answers only the
// CLI's user: every request must carry the bearer token `up` writes beside the socket (`admin.token`, mode
// 0600). Pods never see either: a kernel-isolated pod has neither file in its view; a shim-only pod may
// still find the socket through a raw handle, but cannot read the token (the permission model keeps it out
// of the data directory), so the API still refuses it.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { UserError, errorMessage } from '../core/errors.ts';
import { sendJson } from '../core/http.ts';
import { createGuardedServer, readJsonBody, refuseBody, requestTarget } from '../core/request-guard.ts';
import { ManifestError } from '../manifests/errors.ts';

export type AdminHandler = (body: unknown, query: URLSearchParams) => Promise<unknown> | unknown;

/** The largest body the admin API reads: `apply` of the whole manifest tree is well under 1 MB. */
export const ADMIN_MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface AdminRoutes {
  [route: string]: AdminHandler;
}

export class AdminApiError extends UserError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** The admin API's bearer token lives beside its socket. */
export function adminTokenPath(socketPath: string): string {
  return join(dirname(socketPath), 'admin.token');
}

function authorized(header: string | undefined, token: Buffer): boolean {
  const presented = Buffer.from(/^Bearer (\S+)$/.exec(header ?? '')?.[1] ?? '');
  return presented.length === token.length && timingSafeEqual(presented, token);
}

export async function serveAdminApi(socketPath: string, routes: AdminRoutes): Promise<Server> {
  mkdirSync(dirname(socketPath), { recursive: true, mode: 0o700 });
  rmSync(socketPath, { force: true });
  // A new token per start: a token read by anyone during an earlier run opens nothing now.
  const token = Buffer.from(randomBytes(32).toString('base64url'));
  const tokenFile = adminTokenPath(socketPath);
  rmSync(tokenFile, { force: true });
  writeFileSync(tokenFile, token, { mode: 0o600, flag: 'wx' });
  const server = createGuardedServer({ shape: 'json' }, async (req, res) => {
    if (!authorized(req.headers.authorization, token)) return sendJson(res, 401, { error: `not authorized: the admin API answers only requests with the token in ${tokenFile}` });
    const url = requestTarget(req);
    const found = findRoute(routes, req.method ?? 'GET', url);
    if (found === 'malformed') return sendJson(res, 400, { error: `malformed percent-encoding in ${url.pathname}` });
    const handler = found;
    if (!handler) return sendJson(res, 404, { error: `no such admin route: ${req.method} ${url.pathname}` });
    try {
      const body = req.method === 'GET' ? { ok: true as const, value: undefined } : await readJsonBody(req, { maxBytes: ADMIN_MAX_BODY_BYTES });
      if (!body.ok) return refuseBody(res, 'json', body);
      // Every route takes named fields: a body that is JSON but not an object is as malformed as one that is not JSON.
      if (body.value !== undefined && (typeof body.value !== 'object' || body.value === null || Array.isArray(body.value))) {
        return sendJson(res, 400, { error: `the request body must be a JSON object, got ${body.value === null ? 'null' : Array.isArray(body.value) ? 'an array' : typeof body.value}` });
      }
      sendJson(res, 200, (await handler(body.value ?? {}, url.searchParams)) ?? {});
    } catch (error) {
      if (error instanceof ManifestError) sendJson(res, 422, { error: error.message, issues: error.issues });
      else if (error instanceof UserError) sendJson(res, 400, { error: error.message });
      else sendJson(res, 500, { error: `engine error: ${errorMessage(error)}` });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  chmodSync(socketPath, 0o600);
  // Closing must not wait on connections: one that never sends a request (a raw handle from a shim-only pod,
  // say) would otherwise hold `down` open.
  const close = server.close.bind(server);
  server.close = ((callback?: (error?: Error) => void) => {
    const closing = close(callback);
    server.closeAllConnections();
    return closing;
  }) as typeof server.close;
  return server;
}

/**
 * The handler for a request: exact routes first; a route ending in `/*` takes the rest of the path (decoded),
 * which it finds as the query's `rest`. The socket server and the control room's in-process client share it.
 */
export function findRoute(routes: AdminRoutes, method: string, url: URL): AdminRoutes[string] | undefined | 'malformed' {
  const exact = routes[`${method} ${url.pathname}`];
  if (exact) return exact;
  const prefix = Object.keys(routes).find((key) => key.endsWith('/*') && `${method} ${url.pathname}`.startsWith(key.slice(0, -1)));
  if (!prefix) return undefined;
  try {
    url.searchParams.set('rest', decodeURIComponent(url.pathname.slice(prefix.length - 1 - method.length - 1)));
  } catch {
    return 'malformed';
  }
  return routes[prefix];
}

/** The running stack as its clients see it: its data directory and its admin routes (over the socket, or in-process). */
export interface StackClient {
  dataDir: string;
  call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T>;
}

/** Call the admin API of the stack running from a data directory. */
export function callAdminApi<T>(socketPath: string, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let token: string;
    try {
      token = readFileSync(adminTokenPath(socketPath), 'utf8').trim();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') reject(new UserError('TrustUsBank is not running from this data directory; start it with `npm start` or `trustusbank up --detach`', 3));
      else reject(new UserError(`cannot read the admin token ${adminTokenPath(socketPath)} (${code}): run trustusbank as the user who started the stack`));
      return;
    }
    const headers: Record<string, string | number> = { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) };
    const req = httpRequest({ socketPath, method, path, headers }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        let parsed: { error?: string } & Record<string, unknown>;
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof parsed;
        } catch {
          reject(new UserError(`the engine answered ${res.statusCode} with no JSON`));
          return;
        }
        if ((res.statusCode ?? 500) >= 400) reject(new AdminApiError(parsed.error ?? `engine answered ${res.statusCode}`, res.statusCode ?? 500));
        else resolve(parsed as T);
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') reject(new UserError('TrustUsBank is not running from this data directory; start it with `npm start` or `trustusbank up --detach`', 3));
      else reject(error);
    });
    req.end(payload);
  });
}
