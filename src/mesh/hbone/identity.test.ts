// Mutual TLS between SPIFFE identities: who may connect, which certificate the server presents, and what a
// client insists on seeing; renewed SVIDs reach new connections.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CertificateAuthority, type Svid, SvidRotator } from '../ca/index.ts';
import { HboneClient } from './client.ts';
import { HbonePeerIdentityError, HboneTransportError } from './errors.ts';
import { allowTo, createTestMesh, echo, readAll, type RunningHboneServer, startHboneServer, startTarget, type TcpTarget, type TestMesh } from './test-fixtures.ts';

describe('HBONE identities', () => {
  let mesh: TestMesh;
  let source: Svid;
  let accountMcp: Svid;
  let ticketMcp: Svid;
  let hbone: RunningHboneServer;
  let target: TcpTarget;
  const clients: HboneClient[] = [];
  const newClient = (trustBundlePem = mesh.ca.trustBundlePem()) => {
    const client = new HboneClient({ trustBundlePem });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    mesh = await createTestMesh();
    [source, accountMcp, ticketMcp] = await Promise.all([
      mesh.issue('trustusbank-bank-agents', 'support-bot'),
      mesh.issue('trustusbank-bank-mcp', 'account-mcp'),
      mesh.issue('trustusbank-bank-mcp', 'ticket-mcp'),
    ]);
    hbone = await startHboneServer(mesh, [accountMcp, ticketMcp]);
    target = await startTarget(echo);
    hbone.decide = allowTo(target.address);
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await hbone.server.close();
    await target.close();
  });

  const authority = () => `10.244.2.4:${target.address.port}`;

  it('presents the destination workload’s SVID chosen by SNI', async () => {
    const client = newClient();
    for (const destination of [accountMcp, ticketMcp]) {
      const tunnel = await client.connect({ svid: source, server: hbone.address, serverSpiffeId: destination.spiffeId, authority: authority() });
      const session = (tunnel as unknown as { session: { socket: { getPeerX509Certificate(): { serialNumber: string } } } }).session;
      expect(session.socket.getPeerX509Certificate().serialNumber.toLowerCase()).toBe(destination.serialNumber);
      tunnel.end();
      await readAll(tunnel);
    }
  });

  it('refuses, at the TLS layer, a client whose certificate another CA issued', async () => {
    const rogueCa = await CertificateAuthority.open();
    // Same name as a real workload: only the issuer differs.
    const rogue = await rogueCa.issueSvid({ namespace: 'trustusbank-bank-agents', serviceAccount: 'support-bot' });
    const rejected = hbone.nextEvent('rejected');
    const calls = hbone.authorizeCalls.length;
    const error = await newClient()
      .connect({ svid: rogue, server: hbone.address, serverSpiffeId: accountMcp.spiffeId, authority: authority() })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HboneTransportError);
    expect((error as Error).message).toMatch(/closed before the server answered/);
    // The server refused during the handshake, on the chain, before any stream or authorize call.
    expect((await rejected).reason).toMatch(/^client certificate refused: .*(ISSUER|SELF_SIGNED)/);
    expect(hbone.authorizeCalls.length).toBe(calls);
  });

  it('refuses a client that presents no certificate at all', async () => {
    const { connect } = await import('node:http2');
    const session = connect(`https://127.0.0.1:${hbone.address.port}`, {
      ca: mesh.ca.trustBundlePem(),
      servername: 'account-mcp.sa.trustusbank-bank-mcp.ns.cluster.local',
      checkServerIdentity: () => undefined,
    });
    session.on('error', () => undefined);
    const rejected = hbone.nextEvent('rejected');
    const failure = new Promise<NodeJS.ErrnoException>((resolve) => session.request({ ':method': 'CONNECT', ':authority': authority() }).once('error', resolve));
    expect((await failure).code).toBe('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
    expect((await rejected).reason).toMatch(/PEER_DID_NOT_RETURN_A_CERTIFICATE/);
    session.destroy();
  });

  it('refuses a server that proves an identity other than the one expected', async () => {
    // A listener that shows account-mcp's certificate whatever the client asked for.
    const impostor = await startHboneServer(mesh, [], { serverIdentity: () => accountMcp });
    impostor.decide = allowTo(target.address);
    try {
      const error = await newClient()
        .connect({ svid: source, server: impostor.address, serverSpiffeId: ticketMcp.spiffeId, authority: authority() })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HbonePeerIdentityError);
      expect(error).toMatchObject({ expected: ticketMcp.spiffeId, presented: accountMcp.spiffeId });
      expect(impostor.authorizeCalls).toEqual([]);
    } finally {
      await impostor.server.close();
    }
  });

  it('refuses a server whose certificate chains to another root', async () => {
    const client = newClient((await CertificateAuthority.open()).trustBundlePem());
    const error = await client.connect({ svid: source, server: hbone.address, serverSpiffeId: accountMcp.spiffeId, authority: authority() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HboneTransportError);
    expect((error as HboneTransportError).code).toMatch(/CERT|SIGNATURE|ISSUER/);
  });

  it('uses a renewed SVID for new connections while tunnels on the old session drain', async () => {
    const rotator = new SvidRotator(mesh.ca, { ttlMs: 60_000, scheduler: { schedule: () => ({ cancel: () => undefined }) } });
    const account = { namespace: 'trustusbank-bank-agents', serviceAccount: 'fraud-bot' };
    const client = newClient();
    const connectNow = async () =>
      client.connect({ svid: await rotator.ensure(account), server: hbone.address, serverSpiffeId: accountMcp.spiffeId, authority: authority() });

    const first = await rotator.ensure(account);
    const oldTunnel = await connectNow();
    const renewed = await rotator.renew(first.spiffeId);
    expect(renewed.serialNumber).not.toBe(first.serialNumber);

    hbone.authorizeCalls.length = 0;
    const newTunnel = await connectNow();
    expect(hbone.authorizeCalls.map((call) => call.peerCertificate.serialNumber.toLowerCase())).toEqual([renewed.serialNumber]);
    expect(client.sessionCount()).toBe(2);

    // The old tunnel still works on its draining session…
    const oldEcho = readAll(oldTunnel);
    oldTunnel.end('still here');
    expect((await oldEcho).toString()).toBe('still here');
    // …which closes once its last stream is done, leaving the session with the new certificate.
    await vi.waitFor(() => expect(client.sessionCount()).toBe(1));
    const newEcho = readAll(newTunnel);
    newTunnel.end('renewed');
    expect((await newEcho).toString()).toBe('renewed');
    rotator.stop();
  });
});
