// The decision point: who is asking (from the certificate only), what the callback says, and what the client
// and the target see for each outcome.
import { connect as connectHttp2, constants } from 'node:http2';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Svid } from '../ca/index.ts';
import { HboneClient } from './client.ts';
import { HboneConnectError, HboneTransportError } from './errors.ts';
import type { AuthorizeDecision } from './server.ts';
import { allowTo, closedPort, createTestMesh, echo, readAll, type RunningHboneServer, startHboneServer, startTarget, type TcpTarget, type TestMesh } from './test-fixtures.ts';

describe('HBONE authorization', () => {
  let mesh: TestMesh;
  let converter: Svid;
  let attacker: Svid;
  let hbone: RunningHboneServer;
  let client: HboneClient;
  let target: TcpTarget;

  beforeAll(async () => {
    mesh = await createTestMesh();
    [converter, attacker] = await Promise.all([
      mesh.issue('trustusbank-bank-vendors', 'currency-converter'),
      mesh.issue('external-attacker', 'mock-attacker'),
    ]);
    hbone = await startHboneServer(mesh, [attacker]);
    client = new HboneClient({ trustBundlePem: mesh.ca.trustBundlePem() });
    target = await startTarget(echo);
  });
  beforeEach(() => {
    hbone.authorizeCalls.length = 0;
    hbone.events.length = 0;
  });
  afterAll(async () => {
    await client.close();
    await hbone.server.close();
    await target.close();
  });

  const connectAs = (svid: Svid, headers?: Record<string, string>) =>
    client.connect({ svid, server: hbone.address, serverSpiffeId: attacker.spiffeId, authority: `10.244.3.9:${target.address.port}`, headers });

  it('answers a denied CONNECT with 401 and the reason; the target never sees a connection', async () => {
    hbone.decide = () => ({ allow: false, reason: 'RBAC: access denied by policy deny-bank-to-attacker' });
    const before = target.connections;
    const error = await connectAs(converter).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HboneConnectError);
    expect(error).toMatchObject({ status: 401, reason: 'RBAC: access denied by policy deny-bank-to-attacker', authority: `10.244.3.9:${target.address.port}` });
    expect(target.connections).toBe(before);
    expect(hbone.events).toEqual([
      expect.objectContaining({ kind: 'denied', status: 401, peerSpiffeId: converter.spiffeId, reason: 'RBAC: access denied by policy deny-bank-to-attacker' }),
    ]);
  });

  it('uses the status the callback chose, and keeps reasons printable', async () => {
    hbone.decide = () => ({ allow: false, status: 403, reason: 'line one\r\nline two\u0000' });
    await expect(connectAs(converter)).rejects.toMatchObject({ status: 403, reason: 'line one line two' });
  });

  it('takes the caller identity from its certificate, never from a header it sent', async () => {
    hbone.decide = allowTo(target.address);
    const forged = {
      'x-spiffe-id': 'spiffe://cluster.local/ns/trustusbank-platform/sa/admin',
      'x-forwarded-client-cert': 'URI=spiffe://cluster.local/ns/trustusbank-platform/sa/admin',
      forwarded: 'for=10.244.1.23',
      baggage: 'k8s.namespace.name=trustusbank-platform',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    };
    const tunnel = await connectAs(converter, forged);
    tunnel.end();
    await readAll(tunnel);
    expect(hbone.authorizeCalls).toHaveLength(1);
    const call = hbone.authorizeCalls[0]!;
    expect(call.peerSpiffeId).toBe(converter.spiffeId);
    expect(call.peerCertificate.serialNumber.toLowerCase()).toBe(converter.serialNumber);
    // The headers arrive for logging and tracing, untouched and unbelieved.
    expect(call.headers).toMatchObject(forged);
    expect(call).toMatchObject({
      authority: `10.244.3.9:${target.address.port}`,
      destination: { host: '10.244.3.9', port: target.address.port },
      remoteAddress: '127.0.0.1',
      serverName: 'mock-attacker.sa.external-attacker.ns.cluster.local',
    });
  });

  it('answers 503 when the target refuses the TCP connection, and never 200 first', async () => {
    const port = await closedPort();
    hbone.decide = () => ({ allow: true, target: { host: '127.0.0.1', port } });
    const error = await connectAs(converter).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HboneConnectError);
    expect((error as HboneConnectError).status).toBe(503);
    expect((error as HboneConnectError).reason).toMatch(/ECONNREFUSED/);
    expect(hbone.events.map((event) => event.kind)).toEqual(['failed']);
  });

  it('answers 400 to an authority that is not host:port, without asking the callback', async () => {
    hbone.decide = allowTo(target.address);
    const session = connectHttp2(`https://127.0.0.1:${hbone.address.port}`, {
      ca: mesh.ca.trustBundlePem(),
      cert: converter.certificateChainPem,
      key: converter.privateKeyPem,
      servername: 'mock-attacker.sa.external-attacker.ns.cluster.local',
      checkServerIdentity: () => undefined,
    });
    try {
      const status = (headers: Record<string, string>) =>
        new Promise<number>((resolve, reject) => {
          const stream = session.request(headers, { endStream: headers[':method'] !== 'CONNECT' });
          stream.once('response', (response) => {
            resolve(Number(response[':status']));
            stream.close(constants.NGHTTP2_NO_ERROR);
          });
          stream.once('error', reject);
        });
      expect(await status({ ':method': 'CONNECT', ':authority': 'no-port-here' })).toBe(400);
      expect(await status({ ':method': 'GET', ':path': '/', ':authority': 'x' })).toBe(405);
      expect(hbone.authorizeCalls).toEqual([]);
    } finally {
      session.destroy();
    }
  });

  it('answers 500 when the callback throws, or denies with a status that is not an error', async () => {
    hbone.decide = () => {
      throw new Error('policy store unavailable');
    };
    await expect(connectAs(converter)).rejects.toMatchObject({ status: 500, reason: 'authorization failed: policy store unavailable' });
    hbone.decide = () => ({ allow: false, status: 200, reason: 'oops' });
    await expect(connectAs(converter)).rejects.toMatchObject({ status: 500 });
  });

  it('gives up after the connect timeout; what a late allow starts is torn down', async () => {
    let decideLater!: (decision: AuthorizeDecision) => void;
    hbone.decide = () => new Promise<AuthorizeDecision>((resolve) => (decideLater = resolve));
    const impatient = new HboneClient({ trustBundlePem: mesh.ca.trustBundlePem(), connectTimeoutMs: 100 });
    const before = target.connections;
    try {
      const error = await impatient
        .connect({ svid: converter, server: hbone.address, serverSpiffeId: attacker.spiffeId, authority: `10.244.3.9:${target.address.port}` })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HboneTransportError);
      expect((error as Error).message).toMatch(/within 100 ms/);
      await vi.waitFor(() => expect(hbone.server.sessionCount()).toBeGreaterThan(0));
      decideLater({ allow: true, target: target.address });
      // The server cannot know the client gave up until the reset arrives; whatever it started for the late
      // allow is torn down then, and it carries on serving: the next request gets its tunnel.
      await vi.waitFor(() => expect(hbone.server.tunnelCount()).toBe(0));
      for (const event of hbone.events.filter((e) => e.kind === 'closed')) expect(event.error).toMatch(/reset/);
      hbone.decide = allowTo(target.address);
      const tunnel = await connectAs(converter);
      tunnel.end('next');
      expect((await readAll(tunnel)).toString()).toBe('next');
      expect(target.connections).toBeGreaterThan(before);
    } finally {
      await impatient.close();
    }
  });
});
