// The inbound side of HBONE, as a destination ztunnel runs it: mutual TLS with the mesh root as the only trust,
// the certificate presented chosen per connection by SNI, and one HTTP/2 CONNECT stream per tunnelled TCP
// connection. The caller's identity comes from its verified certificate and nowhere else; a callback decides,
// and the tunnel is answered 200 only once the target has accepted the TCP connection (as ztunnel does).
import type { X509Certificate } from 'node:crypto';
import {
  constants,
  createSecureServer,
  type Http2SecureServer,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { connect as connectTcp, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { PeerIdentityError, type Svid, spiffeIdOfPeerCertificate } from '../ca/index.ts';
import { describeTarget, type HostPort, parseAuthority, AuthorityError, type TunnelTarget } from './authority.ts';
import { DENY_REASON_HEADER } from './protocol.ts';
import { secureContextFor } from './secure-context.ts';
import { asByteStream } from './byte-stream.ts';
import { abortTcp, splice } from './splice.ts';
import { DEFAULT_HTTP2_TUNING, type Http2Tuning, http2Settings } from './tuning.ts';

export interface AuthorizeRequest {
  /** The client's SPIFFE id, read from the certificate it proved in the TLS handshake. */
  peerSpiffeId: string;
  peerCertificate: X509Certificate;
  /** The CONNECT's `:authority`, as sent and as parsed. */
  authority: string;
  destination: HostPort;
  /** Every request header, pseudo-headers included. Informational only: nothing here proves anything. */
  headers: IncomingHttpHeaders;
  /** The TCP peer of the HBONE connection (the source ztunnel). */
  remoteAddress: string;
  /** The SNI the client sent: which of our identities it asked for. */
  serverName: string | undefined;
}

export type AuthorizeDecision =
  | { allow: true; target: TunnelTarget }
  /**
   * Terminate the tunnel here: answer 200 and hand `accept` the stream as plain bytes (a waypoint does this),
   * with the id `closeTunnel` takes.
   */
  | { allow: true; accept: (stream: Duplex, tunnelId: number) => void }
  | { allow: false; status?: number; reason: string };

/** As nginx's 499: the client closed the stream before the tunnel opened. */
const CLIENT_GONE = 499;

class ClientGoneError extends Error {
  constructor() {
    super('the client closed the stream before the tunnel opened');
  }
}

interface TunnelBase {
  /** Unique per server, to join the events of one tunnel. */
  tunnelId: number;
  peerSpiffeId: string;
  authority: string;
  remoteAddress: string;
}

/** What happened to a tunnel, for metrics and logs. `received` is from the HBONE client, `sent` is to it. */
export type TunnelEvent =
  | (TunnelBase & { kind: 'denied'; status: number; reason: string })
  | (TunnelBase & { kind: 'failed'; status: number; reason: string; target: TunnelTarget; connectMs: number })
  | (TunnelBase & { kind: 'opened'; target: TunnelTarget; connectMs: number; openedAt: Date })
  | (TunnelBase & {
      kind: 'closed';
      target: TunnelTarget;
      openedAt: Date;
      durationMs: number;
      receivedBytes: number;
      sentBytes: number;
      error: string | undefined;
    })
  /** A connection refused before any stream: failed TLS handshake, or a certificate without one SPIFFE id. */
  | { kind: 'rejected'; remoteAddress: string | undefined; reason: string };

export interface HboneServerOptions {
  /** The mesh root(s): the only issuers whose client certificates are accepted. */
  trustBundlePem: string;
  /** The SVID to present for a connection, by the SNI it asked for (undefined without SNI). May throw to refuse. */
  serverIdentity: (serverName: string | undefined) => Svid;
  authorize: (request: AuthorizeRequest) => AuthorizeDecision | Promise<AuthorizeDecision>;
  /** Called for every tunnel outcome. Must not throw; exceptions are swallowed to protect the data path. */
  observe?: (event: TunnelEvent) => void;
  /** How long to wait for the target's TCP accept before answering 503; 10 s by default. */
  targetConnectTimeoutMs?: number;
  tuning?: Partial<Http2Tuning>;
}

interface PeerIdentity {
  spiffeId: string;
  certificate: X509Certificate;
}

export class HboneServer {
  private readonly server: Http2SecureServer;
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly peers = new WeakMap<ServerHttp2Session, PeerIdentity>();
  private readonly targets = new Set<Socket>();
  /** Open tunnels by id, so that one can be closed when it is no longer allowed. */
  private readonly tunnels = new Map<number, { stream: ServerHttp2Stream; socket?: Socket }>();
  private readonly tuning: Http2Tuning;
  private nextTunnelId = 1;

  constructor(private readonly options: HboneServerOptions) {
    this.tuning = { ...DEFAULT_HTTP2_TUNING, ...options.tuning };
    const fallback = this.defaultIdentity();
    this.server = createSecureServer({
      ca: options.trustBundlePem,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.3',
      allowHTTP1: false,
      ...(fallback ? { cert: fallback.certificateChainPem, key: fallback.privateKeyPem } : {}),
      SNICallback: (serverName, done) => {
        try {
          done(null, secureContextFor(options.serverIdentity(serverName), options.trustBundlePem));
        } catch (error) {
          done(error as Error, undefined);
        }
      },
      settings: http2Settings(this.tuning),
      maxSessionMemory: this.tuning.maxSessionMemoryMiB,
    });
    this.server.on('connection', (socket: Socket) => socket.setNoDelay(true)); // as the client side, see there
    this.server.on('session', (session) => this.onSession(session));
    this.server.on('stream', (stream, headers) => void this.onStream(stream, headers));
    this.server.on('tlsClientError', (error, socket) => {
      // When the client's chain does not verify, Node drops the connection itself and reports only a hang-up;
      // the verification error it recorded on the socket is the useful part.
      const verifyError = (socket as { authorizationError?: Error | string }).authorizationError;
      const reason = verifyError ? `client certificate refused: ${describe(verifyError)}` : describe(error);
      this.emit({ kind: 'rejected', remoteAddress: socket.remoteAddress, reason });
    });
  }

  listen(port = 0, host = '127.0.0.1'): Promise<HostPort> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.address());
      });
    });
  }

  address(): HostPort {
    const address = this.server.address() as AddressInfo | null;
    if (!address) throw new Error('HboneServer is not listening');
    return { host: address.address, port: address.port };
  }

  /** Open HTTP/2 sessions (one per connected client ztunnel identity, if clients pool as they should). */
  sessionCount(): number {
    return this.sessions.size;
  }

  /** Tunnels whose target connection is open. */
  tunnelCount(): number {
    return this.targets.size;
  }

  /**
   * Ask every connected client to move on (HTTP/2 GOAWAY) while the listener keeps accepting: open tunnels run
   * to their end, new ones arrive on fresh sessions (and so fresh handshakes, e.g. after our SVID was renewed).
   * Resolves once the sessions that existed have closed.
   */
  drain(): Promise<void> {
    const sessions = [...this.sessions];
    const closed = sessions.map((session) => new Promise<void>((resolve) => (session.destroyed ? resolve() : session.once('close', () => resolve()))));
    for (const session of sessions) session.close();
    return Promise.all(closed).then(() => undefined);
  }

  /** Stop listening and tear down every session and tunnel; resolves once the listener has closed. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // One turn for HTTP/2 writes already scheduled (see HboneClient.close: Node 20 can loop forever when a
    // session is destroyed with a write queued for a stream it has just dropped).
    await new Promise((resolve) => setImmediate(resolve));
    for (const session of this.sessions) session.destroy();
    for (const socket of this.targets) socket.destroy();
    await closed;
  }

  private defaultIdentity(): Svid | undefined {
    // Without SNI there is no name to choose by; a ztunnel that has no default identity refuses such clients.
    try {
      return this.options.serverIdentity(undefined);
    } catch {
      return undefined;
    }
  }

  private onSession(session: ServerHttp2Session): void {
    this.sessions.add(session);
    session.once('close', () => this.sessions.delete(session));
    // A session error (peer vanished mid-frame) closes the session; the streams report their own fate.
    session.on('error', () => undefined);
    const socket = session.socket as unknown as { getPeerX509Certificate(): X509Certificate | undefined; remoteAddress?: string };
    const certificate = socket.getPeerX509Certificate();
    const spiffeId = certificate ? spiffeIdOfPeerCertificate(certificate) : new PeerIdentityError('no client certificate');
    if (spiffeId instanceof PeerIdentityError) {
      // The chain verified (it is one of ours) but names no single workload: there is no one to authorize.
      this.emit({ kind: 'rejected', remoteAddress: socket.remoteAddress, reason: spiffeId.message });
      session.destroy();
      return;
    }
    this.peers.set(session, { spiffeId, certificate: certificate! });
    session.setLocalWindowSize(this.tuning.connectionWindowBytes);
  }

  private async onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): Promise<void> {
    stream.on('error', () => undefined); // failures are reported through the tunnel's events
    if (headers[':method'] !== 'CONNECT') {
      answer(stream, 405, 'HBONE accepts only CONNECT', { allow: 'CONNECT' });
      return;
    }
    const peer = this.peers.get(stream.session as ServerHttp2Session);
    if (!peer) {
      stream.close(constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    const authority = headers[':authority'] ?? '';
    const remoteAddress = stream.session?.socket?.remoteAddress ?? '';
    const base: TunnelBase = { tunnelId: this.nextTunnelId++, peerSpiffeId: peer.spiffeId, authority, remoteAddress };

    const destination = parseAuthority(authority);
    if (destination instanceof AuthorityError) {
      this.deny(stream, base, 400, destination.message);
      return;
    }
    let decision: AuthorizeDecision;
    try {
      decision = await this.options.authorize({
        peerSpiffeId: peer.spiffeId,
        peerCertificate: peer.certificate,
        authority,
        destination,
        headers,
        remoteAddress,
        serverName: (stream.session?.socket as { servername?: string | false } | undefined)?.servername || undefined,
      });
    } catch (error) {
      this.deny(stream, base, 500, `authorization failed: ${describe(error)}`);
      return;
    }
    if (stream.closed || stream.destroyed) {
      // The client gave up while we were deciding. An allowed stream still ends in an event, so an observer
      // that recorded the decision (ztunnel queues the parties until `opened`) can forget it.
      if (decision.allow) this.emit({ ...base, kind: 'failed', status: CLIENT_GONE, reason: 'the client closed the stream before the tunnel opened', target: 'target' in decision ? decision.target : { host: 'local', port: 0 }, connectMs: 0 });
      return;
    }
    if (!decision.allow) {
      const status = decision.status ?? 401;
      // A deny must never read as success to the client: anything but 4xx/5xx is the callback's bug.
      if (!Number.isInteger(status) || status < 400 || status > 599) this.deny(stream, base, 500, `authorize denied with invalid status ${status}: ${decision.reason}`);
      else this.deny(stream, base, status, decision.reason);
      return;
    }
    if ('accept' in decision) {
      stream.respond({ ':status': 200 });
      this.emit({ ...base, kind: 'opened', target: { host: 'local', port: 0 }, connectMs: 0, openedAt: new Date() });
      this.tunnels.set(base.tunnelId, { stream });
      stream.once('close', () => this.tunnels.delete(base.tunnelId));
      decision.accept(asByteStream(stream), base.tunnelId);
      return;
    }
    this.openTunnel(stream, base, decision.target);
  }

  private deny(stream: ServerHttp2Stream, base: TunnelBase, status: number, reason: string): void {
    answer(stream, status, reason);
    this.emit({ ...base, kind: 'denied', status, reason });
  }

  private openTunnel(stream: ServerHttp2Stream, base: TunnelBase, target: TunnelTarget): void {
    const started = performance.now();
    const socket = 'path' in target ? connectTcp({ path: target.path, allowHalfOpen: true }) : connectTcp({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true });
    if (target.preface) socket.write(target.preface);
    this.targets.add(socket);
    socket.once('close', () => this.targets.delete(socket));
    const timeoutMs = this.options.targetConnectTimeoutMs ?? 10_000;
    const timer = setTimeout(() => socket.destroy(new Error(`no answer from ${describeTarget(target)} within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    const onConnectError = (error: Error): void => {
      clearTimeout(timer);
      const gone = error instanceof ClientGoneError;
      const reason = gone ? error.message : `connect to ${describeTarget(target)} failed: ${describe(error)}`;
      if (!stream.closed && !stream.destroyed) answer(stream, 503, reason);
      this.emit({ ...base, kind: 'failed', status: gone ? CLIENT_GONE : 503, reason, target, connectMs: performance.now() - started });
    };
    // If the client resets the stream while we are still connecting, the target connection is not wanted.
    const onEarlyClose = (): void => void socket.destroy(new ClientGoneError());
    stream.once('close', onEarlyClose);
    socket.once('error', onConnectError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onConnectError);
      stream.off('close', onEarlyClose);
      const connectMs = performance.now() - started;
      if (stream.closed || stream.destroyed) {
        socket.destroy();
        this.emit({ ...base, kind: 'failed', status: CLIENT_GONE, reason: 'the client closed the stream before the tunnel opened', target, connectMs });
        return;
      }
      stream.respond({ ':status': 200 });
      const openedAt = new Date();
      this.tunnels.set(base.tunnelId, { stream, socket });
      this.emit({ ...base, kind: 'opened', target, connectMs, openedAt });
      splice(stream, socket, (outcome) => {
        this.tunnels.delete(base.tunnelId);
        this.emit({
          ...base,
          kind: 'closed',
          target,
          openedAt,
          durationMs: Date.now() - openedAt.getTime(),
          receivedBytes: outcome.receivedBytes,
          sentBytes: outcome.sentBytes,
          error: outcome.error ? describe(outcome.error) : undefined,
        });
      });
    });
  }

  /**
   * Tear down an open tunnel (ztunnel does this when a policy change denies a connection already open): the
   * target sees a reset (a tunnel terminated here: its byte stream ends), the client's stream is cancelled.
   * A forwarded tunnel's 'closed' event follows, carrying the error. Returns false when no such tunnel is open.
   */
  closeTunnel(tunnelId: number): boolean {
    const tunnel = this.tunnels.get(tunnelId);
    if (!tunnel) return false;
    this.tunnels.delete(tunnelId);
    if (tunnel.socket) abortTcp(tunnel.socket);
    if (!tunnel.stream.closed && !tunnel.stream.destroyed) tunnel.stream.close(constants.NGHTTP2_CANCEL);
    return true;
  }

  private emit(event: TunnelEvent): void {
    try {
      this.options.observe?.(event);
    } catch {
      // An observer's bug must not break tunnels.
    }
  }
}

function answer(stream: ServerHttp2Stream, status: number, reason: string, extra: Record<string, string> = {}): void {
  if (stream.headersSent || stream.closed || stream.destroyed) return;
  stream.respond({ ':status': status, [DENY_REASON_HEADER]: headerSafe(reason), ...extra }, { endStream: true });
}

/** Header values may not hold control characters; keep reasons short and printable. */
function headerSafe(reason: string): string {
  const printable = reason.replace(/[^\x20-\x7e]+/g, ' ').trim();
  return printable.length > 200 ? printable.slice(0, 197) + '...' : printable;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}
