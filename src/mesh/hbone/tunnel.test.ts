// Bytes through an allowed tunnel: both ways, large, with half-close, resets, and the closed event's counts.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as connectTcp, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Svid } from '../ca/index.ts';
import { HboneClient } from './client.ts';
import { type SpliceOutcome, spliceTunnel } from './splice.ts';
import {
  allowTo,
  createTestMesh,
  digestAfterEnd,
  echo,
  readAll,
  type RunningHboneServer,
  startHboneServer,
  startTarget,
  type TcpTarget,
  type TestMesh,
} from './test-fixtures.ts';

describe('HBONE tunnel', () => {
  let mesh: TestMesh;
  let source: Svid;
  let destination: Svid;
  let hbone: RunningHboneServer;
  let client: HboneClient;
  const targets: TcpTarget[] = [];

  beforeAll(async () => {
    mesh = await createTestMesh();
    [source, destination] = await Promise.all([
      mesh.issue('trustusbank-bank-agents', 'support-bot'),
      mesh.issue('trustusbank-bank-mcp', 'account-mcp'),
    ]);
    hbone = await startHboneServer(mesh, [destination]);
    client = new HboneClient({ trustBundlePem: mesh.ca.trustBundlePem() });
  });
  afterAll(async () => {
    await client.close();
    await hbone.server.close();
    await Promise.all(targets.map((target) => target.close()));
  });

  async function tunnelTo(target: TcpTarget): Promise<Duplex> {
    hbone.decide = allowTo(target.address);
    return client.connect({
      svid: source,
      server: hbone.address,
      serverSpiffeId: destination.spiffeId,
      authority: `10.244.0.7:${target.address.port}`,
    });
  }

  it('carries a large payload both ways and ends cleanly when both sides end', async () => {
    const target = await startTarget(echo);
    targets.push(target);
    const payload = randomBytes(16 * 1024 * 1024);
    const tunnel = await tunnelTo(target);
    const echoed = readAll(tunnel);
    tunnel.end(payload);
    const received = await echoed;
    expect(received.length).toBe(payload.length);
    expect(received.equals(payload)).toBe(true);
    expect(target.connections).toBe(1);
  });

  it('carries a half-close: the target sees FIN, and its answer still comes back', async () => {
    const target = await startTarget(digestAfterEnd);
    targets.push(target);
    const payload = randomBytes(3 * 1024 * 1024 + 17);
    const tunnel = await tunnelTo(target);
    const answer = readAll(tunnel);
    // Write in pieces, honouring backpressure, then close only our sending side.
    for (let offset = 0; offset < payload.length; offset += 256 * 1024) {
      if (!tunnel.write(payload.subarray(offset, offset + 256 * 1024))) await new Promise((resolve) => tunnel.once('drain', resolve));
    }
    tunnel.end();
    expect((await answer).toString()).toBe(`${payload.length} ${createHash('sha256').update(payload).digest('hex')}`);
  });

  it('reports byte counts and duration when a tunnel closes', async () => {
    const target = await startTarget((socket) => {
      socket.once('data', () => socket.end(Buffer.alloc(5000, 1)));
      socket.resume();
    });
    targets.push(target);
    const closed = hbone.nextEvent('closed');
    const opened = hbone.nextEvent('opened');
    const tunnel = await tunnelTo(target);
    expect(await opened).toMatchObject({ peerSpiffeId: source.spiffeId, target: target.address, authority: `10.244.0.7:${target.address.port}` });
    const answer = readAll(tunnel);
    tunnel.end(Buffer.alloc(1234, 2));
    expect((await answer).length).toBe(5000);
    const event = await closed;
    expect(event).toMatchObject({ kind: 'closed', peerSpiffeId: source.spiffeId, receivedBytes: 1234, sentBytes: 5000, error: undefined });
    expect(event.durationMs).toBeGreaterThanOrEqual(0);
    expect(event.tunnelId).toBe((await opened).tunnelId);
  });

  it('ends the target connection, and reports an error, when the client resets the stream', async () => {
    let accepted!: (socket: Socket) => void;
    const targetSocket = new Promise<Socket>((resolve) => (accepted = resolve));
    const target = await startTarget((socket) => {
      socket.resume();
      accepted(socket);
    });
    targets.push(target);
    const closed = hbone.nextEvent('closed');
    const tunnel = await tunnelTo(target);
    tunnel.write('hello');
    const socket = await targetSocket;
    // The server aborts its TCP leg with RST where the kernel lets it (a FIN if a write was still in flight);
    // either way the target learns the connection is over, and the server's TCP leg is gone.
    const targetSawEnd = new Promise<string>((resolve) => {
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      socket.once('end', () => resolve('FIN'));
    });
    tunnel.destroy();
    expect(['ECONNRESET', 'FIN']).toContain(await targetSawEnd);
    const event = await closed;
    expect(event.error).toMatch(/reset .* before both sides ended/);
    expect(event.receivedBytes).toBe(5);
    expect(hbone.server.tunnelCount()).toBe(0);
  });

  it('ends a Unix-socket target’s connection (a pod’s listener) when the client resets the stream, and keeps serving', async () => {
    // A Unix socket has no reset; asking Node for one throws, which out of the splice's handler once took the
    // whole node down (the demo's Act 3, where the mesh refuses the converter).
    const dir = mkdtempSync(join(tmpdir(), 'tub-hbone-'));
    const path = join(dir, '8080.sock');
    let accepted!: (socket: Socket) => void;
    const targetSocket = new Promise<Socket>((resolve) => (accepted = resolve));
    const server = createServer((socket) => {
      socket.resume();
      accepted(socket);
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      hbone.decide = () => ({ allow: true, target: { path } });
      const closed = hbone.nextEvent('closed');
      const tunnel = await client.connect({ svid: source, server: hbone.address, serverSpiffeId: destination.spiffeId, authority: '10.244.0.7:8080' });
      tunnel.write('hello');
      const socket = await targetSocket;
      const targetSawEnd = new Promise<string>((resolve) => {
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
        socket.once('end', () => resolve('end'));
      });
      tunnel.destroy();
      expect(await targetSawEnd).toBe('end');
      expect((await closed).error).toMatch(/reset .* before both sides ended/);
      expect(hbone.server.tunnelCount()).toBe(0);
      // Still serving: a new tunnel to the same target carries bytes.
      const echoTarget = await startTarget(echo);
      targets.push(echoTarget);
      const again = await tunnelTo(echoTarget);
      const echoed = readAll(again);
      again.end('still up');
      expect((await echoed).toString()).toBe('still up');
    } finally {
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('resets the stream with CONNECT_ERROR when the target resets its connection', async () => {
    const target = await startTarget((socket) => socket.once('data', () => socket.resetAndDestroy()));
    targets.push(target);
    const tunnel = await tunnelTo(target);
    const outcome = new Promise<{ rstCode: number | undefined; error: unknown }>((resolve) => {
      let error: unknown;
      tunnel.on('error', (e) => (error = e));
      tunnel.once('close', () => resolve({ rstCode: (tunnel as unknown as { rstCode?: number }).rstCode, error }));
    });
    tunnel.write('trigger');
    tunnel.resume();
    const { rstCode, error } = await outcome;
    expect(rstCode).toBe(0xa); // NGHTTP2_CONNECT_ERROR
    expect(String(error)).toMatch(/NGHTTP2_CONNECT_ERROR|code 10/);
  });

  it('gives the target an ordinary TCP connection: the same echo answers direct and tunnelled callers', async () => {
    // The tunnel's TCP leg is an ordinary connection from the HBONE server to the target; a direct
    // connection to the same target works the same way, which is what lets workloads stay mesh-unaware.
    const target = await startTarget(echo);
    targets.push(target);
    const direct = connectTcp(target.address.port, target.address.host);
    const directEcho = readAll(direct);
    direct.end('direct');
    const tunnel = await tunnelTo(target);
    const tunnelEcho = readAll(tunnel);
    tunnel.end('tunnel');
    expect([(await directEcho).toString(), (await tunnelEcho).toString()]).toEqual(['direct', 'tunnel']);
  });

  it('carries an application connection end to end: app → capture → HBONE → server → target', async () => {
    const target = await startTarget(digestAfterEnd);
    targets.push(target);
    hbone.decide = allowTo(target.address);
    // What a source ztunnel's outbound listener does with each captured connection.
    const outcomes: SpliceOutcome[] = [];
    const capture = createServer({ allowHalfOpen: true }, (socket) => {
      socket.pause();
      void client
        .connect({ svid: source, server: hbone.address, serverSpiffeId: destination.spiffeId, authority: `10.244.0.7:${target.address.port}` })
        .then((tunnel) => spliceTunnel(tunnel, socket, (outcome) => outcomes.push(outcome)), () => socket.destroy());
    });
    await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
    try {
      const payload = randomBytes(2 * 1024 * 1024 + 3);
      const app = connectTcp({ host: '127.0.0.1', port: (capture.address() as { port: number }).port, allowHalfOpen: true });
      const answer = readAll(app);
      app.end(payload);
      expect((await answer).toString()).toBe(`${payload.length} ${createHash('sha256').update(payload).digest('hex')}`);
      await vi.waitFor(() => expect(outcomes).toHaveLength(1));
      expect(outcomes[0]).toMatchObject({ sentBytes: payload.length, error: undefined });
      expect(outcomes[0]!.receivedBytes).toBe(`${payload.length} `.length + 64);
    } finally {
      await new Promise((resolve) => capture.close(resolve));
    }
  });
});
