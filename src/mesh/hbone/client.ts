// The outbound side of HBONE, as a source ztunnel runs it: for each captured connection, a CONNECT stream on an
// HTTP/2 session over mutual TLS, presenting the source workload's SVID and insisting on the destination's.
// Sessions are pooled like ztunnel's: keyed by (source identity, server address, expected server identity),
// reused for every stream with that key, replaced when they close, error, are told to go away, or when the
// source's SVID has been renewed (the old session drains: its open tunnels carry on, new ones go to the new).
import { constants, connect as connectHttp2, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { PeerCertificate } from 'node:tls';
import { PeerIdentityError, type Svid, spiffeIdOfPeerCertificate } from '../ca/index.ts';
import { AuthorityError, formatAuthority, type HostPort, parseAuthority } from './authority.ts';
import { HboneConnectError, HbonePeerIdentityError, HboneTransportError } from './errors.ts';
import { DENY_REASON_HEADER } from './protocol.ts';
import { secureContextFor } from './secure-context.ts';
import { sniForSpiffeId, SniError } from './sni.ts';
import { DEFAULT_HTTP2_TUNING, type Http2Tuning, http2Settings } from './tuning.ts';

export interface HboneClientOptions {
  /** The mesh root(s): the only issuers whose server certificates are accepted. */
  trustBundlePem: string;
  tuning?: Partial<Http2Tuning>;
  /** Close a pooled session this long after its last stream ended; 5 minutes by default, as ztunnel. */
  idleTimeoutMs?: number;
  /** Give up on a connect() that has no answer within this; 10 s by default. */
  connectTimeoutMs?: number;
}

export interface HboneConnectRequest {
  /** The source workload's SVID, presented as the client certificate. */
  svid: Svid;
  /** Where the destination ztunnel's HBONE listener is. */
  server: HostPort;
  /** The identity the server must prove; anything else fails with HbonePeerIdentityError. */
  serverSpiffeId: string;
  /** The CONNECT target, "ip:port" of the destination workload. */
  authority: string;
  /** Extra request headers (ztunnel sends baggage, forwarded, traceparent). Not proof of anything. */
  headers?: Record<string, string>;
}

interface PooledSession {
  key: string;
  svid: Svid;
  session: ClientHttp2Session;
  /** Settles when TLS and the HTTP/2 preface are done; rejects with the reason the session never came up. */
  ready: Promise<void>;
  established: boolean;
  activeStreams: number;
  idleTimer: NodeJS.Timeout | undefined;
  retired: boolean;
}

export class HboneClient {
  private readonly pool = new Map<string, PooledSession>();
  private readonly sessions = new Set<PooledSession>();
  private readonly tuning: Http2Tuning;
  private readonly idleTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private closed = false;

  constructor(private readonly options: HboneClientOptions) {
    this.tuning = { ...DEFAULT_HTTP2_TUNING, ...options.tuning };
    this.idleTimeoutMs = options.idleTimeoutMs ?? 5 * 60 * 1000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  }

  /**
   * Open a tunnel to `authority` through the server. Resolves with the stream (a Duplex carrying the tunnelled
   * bytes) once the server has answered 200; rejects with HboneConnectError (non-200), HbonePeerIdentityError
   * (wrong server identity) or HboneTransportError (TCP/TLS/HTTP/2 failure, timeout).
   */
  async connect(request: HboneConnectRequest): Promise<Duplex> {
    if (this.closed) throw new HboneTransportError('HboneClient is closed');
    const destination = parseAuthority(request.authority);
    if (destination instanceof AuthorityError) throw destination;
    const serverName = sniForSpiffeId(request.serverSpiffeId);
    if (serverName instanceof SniError) throw serverName;
    for (const name of Object.keys(request.headers ?? {})) {
      if (name.startsWith(':')) throw new TypeError(`HBONE request headers may not set the pseudo-header ${name}`);
    }

    const abort = new AbortController();
    const timer = setTimeout(
      () => abort.abort(new HboneTransportError(`no HBONE answer from ${formatAuthority(request.server)} for ${request.authority} within ${this.connectTimeoutMs} ms`)),
      this.connectTimeoutMs,
    );
    timer.unref();
    try {
      const entry = this.sessionFor(request, serverName);
      const reused = entry.established;
      try {
        return await this.openStream(entry, request, abort.signal);
      } catch (error) {
        // A reused session may have been told to go away as we used it; the server has then not acted on the
        // stream (REFUSED_STREAM), so trying once on a fresh session is safe.
        if (!(reused && error instanceof RetryOnFreshSession)) throw unwrap(error);
        this.retire(entry);
        return await this.openStream(this.sessionFor(request, serverName), request, abort.signal).catch((e: unknown) => {
          throw unwrap(e);
        });
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Open sessions, including ones draining after a renewal or GOAWAY. */
  sessionCount(): number {
    return this.sessions.size;
  }

  /** Tear down every session (and so every tunnel on them). */
  async close(): Promise<void> {
    this.closed = true;
    // Let HTTP/2 writes already scheduled for this turn go out first. Destroying a session in the same turn as
    // one of its streams was refused (GOAWAY race) sends Node 20's nghttp2 binding into an endless loop of empty
    // DATA frames: the refused stream's final write is still queued for a stream the binding has forgotten.
    await new Promise((resolve) => setImmediate(resolve));
    const closing = [...this.sessions].map(
      (entry) => new Promise<void>((resolve) => (entry.session.closed && entry.session.destroyed ? resolve() : entry.session.once('close', () => resolve()))),
    );
    for (const entry of this.sessions) {
      clearTimeout(entry.idleTimer);
      entry.session.destroy();
    }
    await Promise.all(closing);
  }

  private sessionFor(request: HboneConnectRequest, serverName: string): PooledSession {
    const key = JSON.stringify([request.svid.spiffeId, request.server.host, request.server.port, request.serverSpiffeId]);
    const pooled = this.pool.get(key);
    if (pooled && !pooled.retired && !pooled.session.closed && !pooled.session.destroyed) {
      if (pooled.svid.serialNumber === request.svid.serialNumber) return pooled;
      // The source's SVID was renewed: new streams must present the new certificate.
      this.retire(pooled);
    }
    const entry = this.createSession(key, request, serverName);
    this.pool.set(key, entry);
    return entry;
  }

  private createSession(key: string, request: HboneConnectRequest, serverName: string): PooledSession {
    const expected = request.serverSpiffeId;
    const session = connectHttp2(`https://${formatAuthority(request.server)}`, {
      secureContext: secureContextFor(request.svid, this.options.trustBundlePem),
      servername: serverName,
      minVersion: 'TLSv1.3',
      // Called only after the chain verified against the trust bundle; replaces hostname checks, which mean
      // nothing here, with the one check that matters: the server is the workload we meant to reach.
      checkServerIdentity: (_host: string, certificate: PeerCertificate) => {
        const presented = spiffeIdOfPeerCertificate(certificate);
        if (presented instanceof PeerIdentityError) return new HbonePeerIdentityError(expected, undefined, presented.problem);
        return presented === expected ? undefined : new HbonePeerIdentityError(expected, presented);
      },
      settings: http2Settings(this.tuning),
      maxSessionMemory: this.tuning.maxSessionMemoryMiB,
    });
    const entry: PooledSession = {
      key,
      svid: request.svid,
      session,
      ready: undefined as unknown as Promise<void>,
      established: false,
      activeStreams: 0,
      idleTimer: undefined,
      retired: false,
    };
    entry.ready = new Promise<void>((resolve, reject) => {
      session.once('connect', (_session: ClientHttp2Session, socket: Socket) => {
        // As ztunnel does: no Nagle on HBONE connections, so small writes (a request line, a WINDOW_UPDATE)
        // are not held back waiting for an ACK.
        socket.setNoDelay(true);
        entry.established = true;
        session.setLocalWindowSize(this.tuning.connectionWindowBytes);
        resolve();
      });
      session.once('error', (error) => reject(classify(error)));
      session.once('close', () => reject(new HboneTransportError(`HBONE session to ${formatAuthority(request.server)} closed before it was established`)));
    });
    entry.ready.catch(() => undefined); // whoever awaits it sees the error; an unused rejection is not a crash
    this.sessions.add(entry);
    session.on('error', () => this.retire(entry));
    session.on('goaway', () => this.retire(entry));
    session.once('close', () => {
      this.sessions.delete(entry);
      this.retire(entry);
    });
    return entry;
  }

  private async openStream(entry: PooledSession, request: HboneConnectRequest, signal: AbortSignal): Promise<Duplex> {
    await untilAborted(entry.ready, signal);
    let stream: ClientHttp2Stream;
    try {
      stream = entry.session.request({ ...request.headers, ':method': 'CONNECT', ':authority': request.authority }, { endStream: false });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ERR_HTTP2_GOAWAY_SESSION' || code === 'ERR_HTTP2_INVALID_SESSION') throw new RetryOnFreshSession(error);
      throw error;
    }
    this.streamOpened(entry, stream);
    return new Promise<Duplex>((resolve, reject) => {
      const settle = (): void => {
        stream.off('response', onResponse);
        stream.off('error', onError);
        stream.off('close', onClose);
        signal.removeEventListener('abort', onAbort);
      };
      const onResponse = (headers: IncomingHttpHeaders): void => {
        settle();
        const status = Number(headers[':status']);
        if (status === 200) return resolve(stream);
        stream.close(constants.NGHTTP2_NO_ERROR);
        const reason = headers[DENY_REASON_HEADER];
        reject(new HboneConnectError(status, Array.isArray(reason) ? reason.join(', ') : (reason ?? ''), request.authority));
      };
      const onError = (error: Error): void => {
        settle();
        if (stream.rstCode === constants.NGHTTP2_REFUSED_STREAM) refused(error);
        else reject(classify(error));
      };
      // Answered a turn later, for the same reason close() waits a turn: nothing may destroy this session while
      // the refused stream's last write is still queued.
      const refused = (cause: unknown): void => void setImmediate(() => reject(new RetryOnFreshSession(cause)));
      const onClose = (): void => {
        settle();
        if (stream.rstCode === constants.NGHTTP2_REFUSED_STREAM) refused(undefined);
        else if (entry.session.closed || entry.session.destroyed) {
          // With TLS 1.3 the server checks our certificate after we think the handshake is done; a server that
          // refuses it just drops the connection, and this is how that looks from here.
          reject(new HboneTransportError(`HBONE session to ${formatAuthority(request.server)} closed before the server answered (was our certificate refused?)`));
        } else reject(new HboneTransportError(`HBONE stream for ${request.authority} closed before an answer (HTTP/2 code ${stream.rstCode})`));
      };
      const onAbort = (): void => {
        settle();
        stream.close(constants.NGHTTP2_CANCEL);
        reject(signal.reason);
      };
      stream.once('response', onResponse);
      stream.once('error', onError);
      stream.once('close', onClose);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private streamOpened(entry: PooledSession, stream: ClientHttp2Stream): void {
    entry.activeStreams++;
    clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    entry.session.ref();
    stream.once('close', () => {
      if (--entry.activeStreams > 0 || entry.retired) return;
      // An idle pooled session must not keep the process alive, and is let go after a while, as ztunnel does.
      entry.session.unref();
      entry.idleTimer = setTimeout(() => this.retire(entry), this.idleTimeoutMs);
      entry.idleTimer.unref();
    });
  }

  /** Take a session out of the pool; it closes gracefully once its open streams are done. */
  private retire(entry: PooledSession): void {
    if (this.pool.get(entry.key) === entry) this.pool.delete(entry.key);
    if (entry.retired) return;
    entry.retired = true;
    clearTimeout(entry.idleTimer);
    if (!entry.session.closed && !entry.session.destroyed) entry.session.close();
  }
}

/** A stream the server never acted on because its session was going away: safe to repeat elsewhere. */
class RetryOnFreshSession extends Error {
  override readonly name = 'RetryOnFreshSession';
  constructor(cause: unknown) {
    super('HBONE session went away before the stream was accepted', { cause });
  }
}

function unwrap(error: unknown): unknown {
  return error instanceof RetryOnFreshSession ? new HboneTransportError(error.message, { cause: error.cause }) : error;
}

/** Our own errors pass through; anything Node raises becomes an HboneTransportError carrying it as cause. */
function classify(error: unknown): Error {
  let inner = error;
  // Streams pending when a session dies are cancelled with the session's error as cause.
  if ((inner as NodeJS.ErrnoException)?.code === 'ERR_HTTP2_STREAM_CANCEL' && (inner as Error).cause) inner = (inner as Error).cause;
  if (inner instanceof HbonePeerIdentityError || inner instanceof HboneTransportError || inner instanceof HboneConnectError) return inner;
  const message = inner instanceof Error ? inner.message : String(inner);
  return new HboneTransportError(`HBONE transport failed: ${message}`, { cause: inner });
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
