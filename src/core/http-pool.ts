// Keep-alive connections that are never handed out as they close. A pooled connection goes idle on both
// ends; the server closes it after its keepAliveTimeout (Node's default: 5 s), and a client that reuses it
// in the instant before that close reaches it loses the request ("socket hang up", ECONNRESET) — through the
// mesh, where the close travels through two ztunnels, that instant is milliseconds wide. So:
// - every server of the stack keeps an idle connection SERVER_KEEP_ALIVE_TIMEOUT_MS (and says so in its
//   Keep-Alive header);
// - the pool checks a free connection's age when it hands it out, and drops it once it has been idle for
//   the server's announced timeout minus KEEP_ALIVE_MARGIN_MS (at most CLIENT_IDLE_TIMEOUT_MS; a server that
//   announces nothing is assumed to be Node's 5 s), or once the server has closed its side;
// - a request that still fails on a reused connection before any answer is retried once, on a fresh one,
//   when that is safe: an idempotent method (RFC 9110 §9.2.2), or one the caller declares replayable.
// Timers alone would not do: a busy event loop fires them late, which is exactly when the race is lost.
import { Agent, request as httpRequest, type AgentOptions, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import net from 'node:net';
import { Readable, type Duplex } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

/** How long every server of the stack keeps an idle keep-alive connection. */
export const SERVER_KEEP_ALIVE_TIMEOUT_MS = 30_000;
/** Above the keep-alive timeout, as Node advises, so a slow client's headers are not cut by the idle timer. */
export const SERVER_HEADERS_TIMEOUT_MS = SERVER_KEEP_ALIVE_TIMEOUT_MS + 5_000;
/** How much sooner than the server a client lets an idle connection go: the close's trip across the mesh. */
export const KEEP_ALIVE_MARGIN_MS = 2_000;
/** The longest a client keeps an idle connection, whatever the server announces. */
export const CLIENT_IDLE_TIMEOUT_MS = SERVER_KEEP_ALIVE_TIMEOUT_MS - KEEP_ALIVE_MARGIN_MS;
/** What a server that announces no timeout is assumed to keep (Node's default). */
const UNANNOUNCED_SERVER_TIMEOUT_MS = 5_000;

/** Methods a client may send twice (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Errors of a connection the server had already closed (or closed as the request arrived). */
const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED']);

export interface KeepAlivePoolOptions extends Omit<AgentOptions, 'keepAlive'> {
  /** The longest a connection stays idle in the pool (default CLIENT_IDLE_TIMEOUT_MS). */
  maxIdleMs?: number;
  /** Subtracted from a server's announced keep-alive timeout (default KEEP_ALIVE_MARGIN_MS). */
  marginMs?: number;
  now?: () => number;
}

interface IdleRecord {
  since: number;
  limitMs: number;
  timer: NodeJS.Timeout;
}

type FreeSocket = Duplex & { destroyed: boolean; writable: boolean; readableEnded: boolean; _httpMessage?: { res?: IncomingMessage } | null };

/** A keep-alive http.Agent that cannot hand out a connection the server may be closing. */
export class KeepAlivePool extends Agent {
  private readonly idle = new WeakMap<object, IdleRecord>();
  private readonly watched = new WeakSet<object>();
  private readonly maxIdleMs: number;
  private readonly marginMs: number;
  private readonly now: () => number;

  constructor(options: KeepAlivePoolOptions = {}) {
    const { maxIdleMs, marginMs, now, ...agent } = options;
    super({ maxSockets: 64, ...agent, keepAlive: true });
    this.maxIdleMs = maxIdleMs ?? CLIENT_IDLE_TIMEOUT_MS;
    this.marginMs = marginMs ?? KEEP_ALIVE_MARGIN_MS;
    this.now = now ?? Date.now;
  }

  /** How long this connection may idle: the server's announced timeout less the margin, within our maximum. */
  idleLimitMs(keepAliveHeader: string | undefined): number {
    const announced = /(?:^|[\s,])timeout=(\d+)/i.exec(keepAliveHeader ?? '')?.[1];
    const serverMs = announced !== undefined ? Number(announced) * 1000 : UNANNOUNCED_SERVER_TIMEOUT_MS;
    return Math.min(this.maxIdleMs, serverMs - this.marginMs);
  }

  // Node's Agent reads a boolean from keepSocketAlive (false: close the connection); its typings say void.
  override keepSocketAlive(duplex: Duplex): void {
    return this.keepIdle(duplex as FreeSocket) as unknown as void;
  }

  private keepIdle(socket: FreeSocket): boolean {
    const header = socket._httpMessage?.res?.headers['keep-alive'];
    const limitMs = this.idleLimitMs(Array.isArray(header) ? header[0] : header);
    if (limitMs <= 0 || socket.readableEnded || !socket.writable) return false;
    if ((super.keepSocketAlive(socket) as unknown as boolean) === false) return false;
    this.forget(socket);
    // The timer only frees resources early; the check in addRequest is what guarantees the age.
    const timer = setTimeout(() => socket.destroy(), limitMs);
    timer.unref();
    this.idle.set(socket, { since: this.now(), limitMs, timer });
    if (!this.watched.has(socket)) {
      this.watched.add(socket);
      socket.once('close', () => this.forget(socket));
    }
    return true;
  }

  override reuseSocket(socket: Duplex, req: ClientRequest): void {
    this.forget(socket);
    super.reuseSocket(socket, req);
  }

  /** Node's Agent picks a free socket here: drop every one that is too old or already closing first. */
  addRequest(req: ClientRequest, options: RequestOptions): void {
    this.prune();
    (Agent.prototype as unknown as { addRequest(req: ClientRequest, options: RequestOptions): void }).addRequest.call(this, req, options);
  }

  /** Remove and destroy free connections that must not be reused. */
  prune(): void {
    const now = this.now();
    for (const list of Object.values(this.freeSockets as Record<string, FreeSocket[] | undefined>)) {
      if (!list) continue;
      for (let i = list.length - 1; i >= 0; i--) {
        const socket = list[i]!;
        const record = this.idle.get(socket);
        const stale = !record || now - record.since >= record.limitMs || socket.destroyed || socket.readableEnded || !socket.writable;
        if (!stale) continue;
        list.splice(i, 1);
        this.forget(socket);
        socket.destroy();
      }
    }
  }

  private forget(socket: object): void {
    const record = this.idle.get(socket);
    if (!record) return;
    clearTimeout(record.timer);
    this.idle.delete(socket);
  }
}

/** A connection factory that dials TCP itself (`host`/`port` only: a null `path` is not passed on). */
export function tcpConnection(options: { host?: string | null; hostname?: string | null; port?: number | string | null }): net.Socket {
  return net.connect({ host: options.hostname ?? options.host ?? 'localhost', port: Number(options.port ?? 80) });
}

/** Whether a request may be sent again after it failed (the caller's say, else the method's). */
export function isReplayable(method: string, replayable?: boolean): boolean {
  return replayable ?? IDEMPOTENT.has(method.toUpperCase());
}

/** A failure of a reused keep-alive connection before any answer: the server closed it under us. */
export function isStaleConnectionFailure(error: unknown, req: ClientRequest, answered: boolean): boolean {
  if (answered || !req.reusedSocket) return false;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && STALE_CONNECTION_CODES.has(code);
}

export interface PooledRequest {
  options: RequestOptions;
  body?: string | Buffer;
  /** Safe to send twice (default: by method). */
  replayable?: boolean;
  /** Called with each attempt's request (a caller's timer must destroy the current one). */
  onAttempt?: (req: ClientRequest) => void;
}

/**
 * Send a request on a pooled agent; on a stale reused connection, send it once more when replayable. A
 * fresh connection is never retried: its failure is a real one.
 */
export function sendPooled(request: PooledRequest): Promise<IncomingMessage> {
  const method = request.options.method ?? 'GET';
  const attempt = (retried: boolean): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      let answered = false;
      const req = httpRequest(request.options, (res) => {
        answered = true;
        resolve(res);
      });
      request.onAttempt?.(req);
      req.on('error', (error) => {
        if (!retried && isStaleConnectionFailure(error, req, answered) && isReplayable(method, request.replayable) && !request.options.signal?.aborted) {
          resolve(attempt(true));
          return;
        }
        reject(error);
      });
      req.end(request.body);
    });
  return attempt(false);
}

type FetchInput = string | URL | Request;

/** A KeepAlivePool over plain TCP. */
export function tcpPool(options: KeepAlivePoolOptions = {}): KeepAlivePool {
  const pool = new KeepAlivePool(options);
  pool.createConnection = tcpConnection as unknown as Agent['createConnection'];
  return pool;
}

/**
 * A web `fetch` over a KeepAlivePool for plain http:// (other schemes, and bodies other than text and bytes,
 * go to the global fetch). Node's own fetch pools connections with fixed timers and never retries.
 */
export function createPooledFetch(pool: Agent = tcpPool()): typeof fetch & { close(): void } {
  const pooled = (async (input: FetchInput, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const rawBody = init.body;
    const body = rawBody === undefined || rawBody === null ? undefined : typeof rawBody === 'string' ? rawBody : rawBody instanceof Uint8Array ? Buffer.from(rawBody) : rawBody instanceof ArrayBuffer ? Buffer.from(rawBody) : null;
    if (url.protocol !== 'http:' || input instanceof Request || body === null) return fetch(input, init);
    const method = (init.method ?? 'GET').toUpperCase();
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => (headers[name] = value));
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const res = await sendPooled({
      options: { agent: pool, host: url.hostname, port: url.port || 80, method, path: `${url.pathname}${url.search}`, headers, ...(init.signal ? { signal: init.signal } : {}) },
      ...(body !== undefined ? { body } : {}),
    });
    const status = res.statusCode ?? 502;
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (value === undefined) continue;
      for (const one of Array.isArray(value) ? value : [value]) responseHeaders.append(name, one);
    }
    const bodyless = method === 'HEAD' || status === 204 || status === 304;
    if (bodyless) res.resume();
    return new Response(bodyless ? null : (Readable.toWeb(res) as WebReadableStream<Uint8Array> as unknown as ReadableStream<Uint8Array>), { status, statusText: res.statusMessage ?? '', headers: responseHeaders });
  }) as typeof fetch & { close(): void };
  pooled.close = () => pool.destroy();
  return pooled;
}
