// Session pooling, as ztunnel does it: one HTTP/2 session per (source identity, server, expected server identity).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Svid } from '../ca/index.ts';
import { HboneClient } from './client.ts';
import { HboneTransportError } from './errors.ts';
import { allowTo, createTestMesh, echo, readAll, type RunningHboneServer, startHboneServer, startTarget, type TcpTarget, type TestMesh } from './test-fixtures.ts';

describe('HBONE session pool', () => {
  let mesh: TestMesh;
  let supportBot: Svid;
  let fraudBot: Svid;
  let accountMcp: Svid;
  let ticketMcp: Svid;
  let hbone: RunningHboneServer;
  let target: TcpTarget;

  beforeAll(async () => {
    mesh = await createTestMesh();
    [supportBot, fraudBot, accountMcp, ticketMcp] = await Promise.all([
      mesh.issue('trustusbank-bank-agents', 'support-bot'),
      mesh.issue('trustusbank-bank-agents', 'fraud-bot'),
      mesh.issue('trustusbank-bank-mcp', 'account-mcp'),
      mesh.issue('trustusbank-bank-mcp', 'ticket-mcp'),
    ]);
    hbone = await startHboneServer(mesh, [accountMcp, ticketMcp]);
    target = await startTarget(echo);
    hbone.decide = allowTo(target.address);
  });
  afterAll(async () => {
    await hbone.server.close();
    await target.close();
  });

  async function roundTrip(client: HboneClient, svid: Svid, destination: Svid, message: string): Promise<string> {
    const tunnel = await client.connect({ svid, server: hbone.address, serverSpiffeId: destination.spiffeId, authority: `10.244.1.1:${target.address.port}` });
    const answer = readAll(tunnel);
    tunnel.end(message);
    return (await answer).toString();
  }

  it('carries many streams, one after another and at once, on one session', async () => {
    const client = new HboneClient({ trustBundlePem: mesh.ca.trustBundlePem() });
    try {
      for (let i = 0; i < 20; i++) expect(await roundTrip(client, supportBot, accountMcp, `sequential ${i}`)).toBe(`sequential ${i}`);
      const concurrent = await Promise.all(Array.from({ length: 30 }, (_, i) => roundTrip(client, supportBot, accountMcp, `concurrent ${i}`)));
      expect(concurrent).toEqual(Array.from({ length: 30 }, (_, i) => `concurrent ${i}`));
      expect(client.sessionCount()).toBe(1);
      expect(hbone.server.sessionCount()).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('keeps separate sessions per source identity and per expected server identity', async () => {
    const client = new HboneClient({ trustBundlePem: mesh.ca.trustBundlePem() });
    try {
      await roundTrip(client, supportBot, accountMcp, 'a');
      await roundTrip(client, fraudBot, accountMcp, 'b');
      await roundTrip(client, supportBot, ticketMcp, 'c');
      await roundTrip(client, supportBot, accountMcp, 'd');
      await roundTrip(client, fraudBot, accountMcp, 'e');
      expect(client.sessionCount()).toBe(3);
      // Each session's certificate is the one its source presented.
      const peers = hbone.authorizeCalls.slice(-5).map((call) => call.peerSpiffeId);
      expect(peers).toEqual([supportBot.spiffeId, fraudBot.spiffeId, supportBot.spiffeId, supportBot.spiffeId, fraudBot.spiffeId]);
    } finally {
      await client.close();
    }
  });

  it('replaces a session the server closed', async () => {
    const client = new HboneClient({ trustBundlePem: mesh.ca.trustBundlePem() });
    const server = await startHboneServer(mesh, [accountMcp]);
    server.decide = allowTo(target.address);
    try {
      const tunnel = await client.connect({ svid: supportBot, server: server.address, serverSpiffeId: accountMcp.spiffeId, authority: `10.244.1.1:${target.address.port}` });
      const failed = new Promise((resolve) => tunnel.once('close', resolve));
      tunnel.on('error', () => undefined);
      await server.server.close();
      await failed;
      // With the listener gone there is nothing to reconnect to: a transport error, not a hang.
      await expect(
        client.connect({ svid: supportBot, server: server.address, serverSpiffeId: accountMcp.spiffeId, authority: `10.244.1.1:${target.address.port}` }),
      ).rejects.toBeInstanceOf(HboneTransportError);
      expect(client.sessionCount()).toBe(0);
      // The main server is still there, and a fresh session to it works.
      expect(await roundTrip(client, supportBot, accountMcp, 'fresh')).toBe('fresh');
    } finally {
      await client.close();
    }
  });

  it('refuses new tunnels once closed', async () => {
    const client = new HboneClient({ trustBundlePem: mesh.ca.trustBundlePem() });
    await roundTrip(client, supportBot, accountMcp, 'x');
    await client.close();
    expect(client.sessionCount()).toBe(0);
    await expect(roundTrip(client, supportBot, accountMcp, 'y')).rejects.toBeInstanceOf(HboneTransportError);
  });
});

describe('HBONE session lifecycle', () => {
  let mesh: TestMesh;
  let source: Svid;
  let destination: Svid;
  let hbone: RunningHboneServer;
  let target: TcpTarget;

  beforeAll(async () => {
    mesh = await createTestMesh();
    [source, destination] = await Promise.all([mesh.issue('trustusbank-bank-agents', 'triage-bot'), mesh.issue('trustusbank-bank-mcp', 'ticket-mcp')]);
    hbone = await startHboneServer(mesh, [destination]);
    target = await startTarget(echo);
    hbone.decide = allowTo(target.address);
  });
  afterAll(async () => {
    await hbone.server.close();
    await target.close();
  });

  const open = (client: HboneClient) =>
    client.connect({ svid: source, server: hbone.address, serverSpiffeId: destination.spiffeId, authority: `10.244.1.2:${target.address.port}` });
  const echoOnce = async (client: HboneClient, message: string) => {
    const tunnel = await open(client);
    const answer = readAll(tunnel);
    tunnel.end(message);
    return (await answer).toString();
  };

  it('lets an idle session go after the idle timeout', async () => {
    const client = new HboneClient({ trustBundlePem: mesh.ca.trustBundlePem(), idleTimeoutMs: 50 });
    try {
      expect(await echoOnce(client, 'idle soon')).toBe('idle soon');
      expect(client.sessionCount()).toBe(1);
      await vi.waitFor(() => expect(client.sessionCount()).toBe(0));
      expect(await echoOnce(client, 'new session')).toBe('new session');
    } finally {
      await client.close();
    }
  });

  it('keeps a session with an open tunnel past the idle timeout', async () => {
    const client = new HboneClient({ trustBundlePem: mesh.ca.trustBundlePem(), idleTimeoutMs: 20 });
    try {
      const tunnel = await open(client);
      const ended = readAll(tunnel);
      // Another stream opens and closes: the session is not idle while the first tunnel is open.
      expect(await echoOnce(client, 'short')).toBe('short');
      await new Promise((resolve) => setTimeout(resolve, 100)); // five idle timeouts pass
      expect(client.sessionCount()).toBe(1);
      tunnel.end('long-lived');
      expect((await ended).toString()).toBe('long-lived');
    } finally {
      await client.close();
    }
  });

  it('moves to a fresh session when the server drains, retrying a stream the old session refused', async () => {
    const client = new HboneClient({ trustBundlePem: mesh.ca.trustBundlePem() });
    try {
      const longLived = await open(client);
      const longLivedEcho = readAll(longLived);
      const drained = hbone.server.drain();
      // Sent before the GOAWAY can have arrived, so it goes out on the draining session and is refused there.
      const racing = echoOnce(client, 'after goaway');
      expect(await racing).toBe('after goaway');
      longLived.end('drained gracefully');
      expect((await longLivedEcho).toString()).toBe('drained gracefully');
      await drained;
      expect(client.sessionCount()).toBe(1);
      expect(hbone.server.sessionCount()).toBe(1);
    } finally {
      await client.close();
    }
  });
});
