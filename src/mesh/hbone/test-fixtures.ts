// Shared pieces for the HBONE tests: a CA with workload SVIDs, TCP targets that count their connections, and an
// HBONE server whose authorize callback and events the test can inspect. Every listener is on 127.0.0.1:0.
import { createHash } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { CertificateAuthority, type Svid } from '../ca/index.ts';
import type { HostPort } from './authority.ts';
import { type AuthorizeDecision, type AuthorizeRequest, HboneServer, type HboneServerOptions, type TunnelEvent } from './server.ts';
import { spiffeIdFromSni, SniError } from './sni.ts';

export interface TcpTarget {
  address: HostPort;
  /** TCP connections the target has accepted. */
  connections: number;
  sockets: Set<Socket>;
  close(): Promise<void>;
}

export type TargetBehaviour = (socket: Socket) => void;

/** Sends back every byte it receives, and ends its side when the client ends its side. */
export const echo: TargetBehaviour = (socket) => socket.pipe(socket);

/** Reads until the client half-closes, then answers "<bytes> <sha256>" and ends: proves FIN crossed the tunnel. */
export const digestAfterEnd: TargetBehaviour = (socket) => {
  const hash = createHash('sha256');
  let bytes = 0;
  socket.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    hash.update(chunk);
  });
  socket.on('end', () => socket.end(`${bytes} ${hash.digest('hex')}`));
};

export async function startTarget(behaviour: TargetBehaviour): Promise<TcpTarget> {
  const sockets = new Set<Socket>();
  const target: TcpTarget = { address: { host: '127.0.0.1', port: 0 }, connections: 0, sockets, close: () => Promise.resolve() };
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    target.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    behaviour(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  target.address.port = (server.address() as { port: number }).port;
  target.close = () => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return target;
}

/** A port nothing listens on: bound, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export function readAll(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

export interface TestMesh {
  ca: CertificateAuthority;
  issue(namespace: string, serviceAccount: string, ttlMs?: number): Promise<Svid>;
}

export async function createTestMesh(): Promise<TestMesh> {
  const ca = await CertificateAuthority.open();
  return { ca, issue: (namespace, serviceAccount, ttlMs) => ca.issueSvid({ namespace, serviceAccount, ttlMs }) };
}

export interface RunningHboneServer {
  server: HboneServer;
  address: HostPort;
  events: TunnelEvent[];
  authorizeCalls: AuthorizeRequest[];
  /** Replace the decision the server's authorize callback returns. */
  decide: (request: AuthorizeRequest) => AuthorizeDecision | Promise<AuthorizeDecision>;
  /** Resolves with the next event of this kind. */
  nextEvent<K extends TunnelEvent['kind']>(kind: K): Promise<Extract<TunnelEvent, { kind: K }>>;
}

/** An HBONE server presenting, by SNI, whichever of `identities` the client asked for. */
export async function startHboneServer(
  mesh: TestMesh,
  identities: Svid[],
  options: Partial<Pick<HboneServerOptions, 'serverIdentity' | 'targetConnectTimeoutMs'>> = {},
): Promise<RunningHboneServer> {
  const bySpiffeId = new Map(identities.map((svid) => [svid.spiffeId, svid]));
  const waiters: { kind: string; resolve: (event: TunnelEvent) => void }[] = [];
  const running: RunningHboneServer = {
    server: undefined as unknown as HboneServer,
    address: { host: '', port: 0 },
    events: [],
    authorizeCalls: [],
    decide: () => ({ allow: false, reason: 'no decision configured' }),
    nextEvent: (kind) => new Promise((resolve) => waiters.push({ kind, resolve: resolve as (event: TunnelEvent) => void })),
  };
  running.server = new HboneServer({
    trustBundlePem: mesh.ca.trustBundlePem(),
    serverIdentity:
      options.serverIdentity ??
      ((serverName) => {
        const spiffeId = serverName === undefined ? undefined : spiffeIdFromSni(serverName);
        const svid = typeof spiffeId === 'string' ? bySpiffeId.get(spiffeId) : undefined;
        if (!svid) throw new SniError(`no identity here for server name ${serverName} (${spiffeId instanceof SniError ? spiffeId.message : spiffeId})`);
        return svid;
      }),
    authorize: (request) => {
      running.authorizeCalls.push(request);
      return running.decide(request);
    },
    observe: (event) => {
      running.events.push(event);
      const index = waiters.findIndex((waiter) => waiter.kind === event.kind);
      if (index >= 0) waiters.splice(index, 1)[0]!.resolve(event);
    },
    targetConnectTimeoutMs: options.targetConnectTimeoutMs,
  });
  running.address = await running.server.listen(0, '127.0.0.1');
  return running;
}

export const allowTo =
  (target: HostPort) =>
  (): AuthorizeDecision => ({ allow: true, target });
