// The one door every HTTP server of the stack takes requests through. Node's HTTP parser lets through
// request-targets that `new URL(target, base)` cannot take — `//%5B` or `//x:99999` read as a
// scheme-relative URL with a bad host — or takes wrongly (`//evil/x` has the pathname `/x`). Parsed inside
// a listener but outside its `try`, one such request ended the whole process. Here the target is parsed
// once, against a fixed origin, before any handler runs; a target that is not a path gets a 400 in the
// server's own error shape, a handler that throws gets a 500 in that shape, and a request the parser itself
// refuses (a bad request line, a bad header, too many bytes) gets its 4xx in that shape too.
//
// Where we differ from RFC 9112: only the origin-form (`/path?query`) is served. The absolute-form a
// proxy takes (`GET http://host/path`) is refused, because our servers route by the Host header and a
// second, disagreeing host in the target would be a confusion to exploit, not a feature.
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorMessage } from './errors.ts';
import { BodyTooLargeError, readBody } from './http.ts';
import { SERVER_HEADERS_TIMEOUT_MS, SERVER_KEEP_ALIVE_TIMEOUT_MS } from './http-pool.ts';
import { MAX_JSON_DEPTH, parseBoundedJson } from './json-depth.ts';

/**
 * How a server says "error": `json` is `{"error": "..."}` (the REST APIs, the UIs' APIs, workloads),
 * `jsonrpc` a JSON-RPC 2.0 error with a null id (MCP and A2A endpoints), `text` a plain line (the
 * waypoint, as Envoy answers).
 */
export type ErrorShape = 'json' | 'jsonrpc' | 'text';

/** JSON-RPC 2.0: "the JSON sent is not a valid Request object". */
export const JSONRPC_INVALID_REQUEST = -32600;
/** JSON-RPC 2.0: "internal JSON-RPC error". */
export const JSONRPC_INTERNAL_ERROR = -32603;

/** Fixed origin the target is resolved against: the target can only ever be a path under it. */
const ORIGIN = 'http://request.invalid';

export class BadRequestTargetError extends Error {
  override readonly name = 'BadRequestTargetError';
  constructor(
    readonly target: string,
    readonly reason: string,
  ) {
    super(`bad request-target ${JSON.stringify(target.slice(0, 200))}: ${reason}`);
  }
}

/** Parse a request-target in origin-form. A pure function: the URL, or why the target is not one. */
export function parseRequestTarget(raw: string | undefined): URL | BadRequestTargetError {
  const target = raw ?? '';
  if (!target.startsWith('/')) {
    const reason = target === '*' ? 'the asterisk-form is not served' : /^[a-z][a-z0-9+.-]*:/i.test(target) ? 'the absolute-form is not served; send a path' : 'a request-target must be a path starting with "/"';
    return new BadRequestTargetError(target, reason);
  }
  try {
    // Concatenation, not `new URL(target, base)`: a target starting with `//` stays a path under ORIGIN.
    const url = new URL(ORIGIN + target);
    if (url.origin !== ORIGIN) return new BadRequestTargetError(target, 'the target names another origin');
    return url;
  } catch (error) {
    return new BadRequestTargetError(target, errorMessage(error));
  }
}

const admitted = new WeakMap<IncomingMessage, URL>();

/**
 * The parsed target of a request (a fresh URL per request: a handler may edit its searchParams). Behind a
 * guarded server this never throws; a handler mounted without the guard gets a named error, not a crash
 * of the URL parser.
 */
export function requestTarget(req: IncomingMessage): URL {
  const known = admitted.get(req);
  if (known) return known;
  const parsed = parseRequestTarget(req.url);
  if (parsed instanceof BadRequestTargetError) throw parsed;
  admitted.set(req, parsed);
  return parsed;
}

/** The body and headers of an error in a server's shape. */
export function errorBody(shape: ErrorShape, status: number, message: string): { contentType: string; body: string } {
  switch (shape) {
    case 'json':
      return { contentType: 'application/json; charset=utf-8', body: JSON.stringify({ error: message }) };
    case 'jsonrpc':
      return {
        contentType: 'application/json; charset=utf-8',
        body: JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: status >= 500 ? JSONRPC_INTERNAL_ERROR : JSONRPC_INVALID_REQUEST, message } }),
      };
    case 'text':
      return { contentType: 'text/plain; charset=utf-8', body: `${message}\n` };
  }
}

export function sendError(res: ServerResponse, shape: ErrorShape, status: number, message: string): void {
  const { contentType, body } = errorBody(shape, status, message);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'x-content-type-options': 'nosniff' });
  res.end(body);
}

export interface GuardOptions {
  shape: ErrorShape;
  /** Told about a handler that threw (the guard answers the client). */
  onError?: (error: unknown, req: IncomingMessage) => void;
}

/** Wrap a request listener: the target is admitted first, and nothing the handler throws escapes. */
export function guardRequests(options: GuardOptions, handler: (req: IncomingMessage, res: ServerResponse) => unknown): RequestListener {
  const failed = (error: unknown, req: IncomingMessage, res: ServerResponse): void => {
    if (res.headersSent) {
      options.onError?.(error, req);
      res.destroy();
    } else if (error instanceof BodyTooLargeError) {
      // A handler that read its body with readBody and let the refusal through: still the client's fault.
      refuseBody(res, options.shape, { status: 413, message: error.message });
    } else {
      options.onError?.(error, req);
      sendError(res, options.shape, 500, 'internal error');
    }
  };
  return (req, res) => {
    const parsed = parseRequestTarget(req.url);
    if (parsed instanceof BadRequestTargetError) {
      // The connection is not reused: whatever framing follows a bad target is not to be trusted either.
      res.setHeader('connection', 'close');
      sendError(res, options.shape, 400, parsed.message);
      return;
    }
    admitted.set(req, parsed);
    try {
      const outcome = handler(req, res);
      if (outcome instanceof Promise) outcome.catch((error: unknown) => failed(error, req, res));
    } catch (error) {
      failed(error, req, res);
    }
  };
}

export interface JsonBodyLimits {
  maxBytes: number;
  maxDepth?: number;
}

/** A request's JSON body, or the status and message that refuse it (413 too large; 400 not JSON or too deep). */
export type JsonBody = { ok: true; value: unknown } | { ok: false; status: 400 | 413; message: string };

/**
 * Read and parse a JSON body within limits. An empty body is `undefined`. The limits are checked before
 * anything is built: bytes while reading (a lying or absent content-length does not help), nesting on the
 * text (src/core/json-depth.ts).
 */
export async function readJsonBody(req: IncomingMessage, limits: JsonBodyLimits): Promise<JsonBody> {
  let raw: Buffer;
  try {
    raw = await readBody(req, limits.maxBytes);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return { ok: false, status: 413, message: `the request body is larger than ${limits.maxBytes} bytes` };
    throw error;
  }
  if (raw.length === 0) return { ok: true, value: undefined };
  const parsed = parseBoundedJson(raw.toString('utf8'), limits.maxDepth ?? MAX_JSON_DEPTH);
  if (!parsed.ok) return { ok: false, status: 400, message: `the request body is not acceptable JSON: ${parsed.error.message}` };
  return parsed;
}

/** Answer a refused body in the server's shape; a 413 closes the connection (the rest of the body is unread). */
export function refuseBody(res: ServerResponse, shape: ErrorShape, refusal: { status: number; message: string }): void {
  if (refusal.status === 413) res.setHeader('connection', 'close');
  sendError(res, shape, refusal.status, refusal.message);
}

/** Statuses Node gives the requests its parser refuses (`clientError`), as Node's default answer. */
function clientErrorStatus(error: NodeJS.ErrnoException): { status: number; text: string; message: string } {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, text: 'Request Header Fields Too Large', message: 'request header fields too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, text: 'Request Timeout', message: 'request timeout' };
    default:
      return { status: 400, text: 'Bad Request', message: `malformed HTTP request (${error.code ?? 'parse error'})` };
  }
}

/**
 * Answer what Node's parser refuses in the server's shape (Node's default is an empty 400), then close.
 * With a listener installed, closing the socket is ours to do.
 */
export function answerClientErrors(server: Server, shape: ErrorShape): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const { status, text, message } = clientErrorStatus(error);
    const { contentType, body } = errorBody(shape, status, message);
    socket.end(`HTTP/1.1 ${status} ${text}\r\ncontent-type: ${contentType}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    // A peer that never reads must not hold the socket open.
    setTimeout(() => socket.destroy(), 1000).unref();
  });
}

/** Keep-alive timing every server of the stack shares, so that clients can stay safely below it. */
export function applyServerTimeouts(server: Server): void {
  server.keepAliveTimeout = SERVER_KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = SERVER_HEADERS_TIMEOUT_MS;
}

/** An HTTP server of the stack: guarded requests, parser errors in its shape, the shared keep-alive timing. */
export function createGuardedServer(options: GuardOptions & { server?: ServerOptions }, handler: (req: IncomingMessage, res: ServerResponse) => unknown): Server {
  const server = createServer(options.server ?? {}, guardRequests(options, handler));
  answerClientErrors(server, options.shape);
  applyServerTimeouts(server);
  return server;
}
