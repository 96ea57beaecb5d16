// A stream the client abandons after it was authorized still ends in one event. ztunnel queues each allowed
// stream's parties until its `opened` or `failed` event; without one, every abandoned stream (a pod can open
// and reset streams in a loop) stayed queued for ever and the next stream with the same caller and authority
// was reported with the stale parties.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Svid } from '../ca/index.ts';
import { HboneClient } from './client.ts';
import { createTestMesh, echo, type RunningHboneServer, startHboneServer, startTarget, type TcpTarget, type TestMesh } from './test-fixtures.ts';
import type { AuthorizeDecision } from './server.ts';

describe('an abandoned HBONE stream', () => {
  let mesh: TestMesh;
  let source: Svid;
  let destination: Svid;
  let hbone: RunningHboneServer;
  let target: TcpTarget;

  beforeAll(async () => {
    mesh = await createTestMesh();
    [source, destination] = await Promise.all([mesh.issue('trustusbank-bank-agents', 'support-bot'), mesh.issue('trustusbank-bank-mcp', 'account-mcp')]);
    hbone = await startHboneServer(mesh, [destination]);
    target = await startTarget(echo);
  });
  afterAll(async () => {
    await hbone.server.close();
    await target.close();
  });

  it('ends in a failed event (499) when the client leaves while the decision is pending, and in opened otherwise', async () => {
    let allow!: (decision: AuthorizeDecision) => void;
    hbone.decide = () => new Promise<AuthorizeDecision>((resolve) => (allow = resolve));
    hbone.events.length = 0;
    const client = new HboneClient({ trustBundlePem: mesh.ca.trustBundlePem() });
    const connecting = client.connect({ svid: source, server: hbone.address, serverSpiffeId: destination.spiffeId, authority: `10.244.0.7:${target.address.port}` }).catch((e: unknown) => e);
    await vi.waitFor(() => expect(hbone.authorizeCalls.length).toBeGreaterThan(0));
    await client.close();
    expect(await connecting).toBeInstanceOf(Error);
    await vi.waitFor(() => expect(hbone.server.sessionCount()).toBe(0));

    allow({ allow: true, target: target.address });
    const failed = await hbone.nextEvent('failed');
    expect(failed).toMatchObject({ status: 499, reason: 'the client closed the stream before the tunnel opened' });
    expect(hbone.events.filter((e) => e.kind === 'opened')).toEqual([]);

    // The clean run: a client that waits gets its tunnel, and one opened event.
    hbone.decide = () => ({ allow: true, target: target.address });
    hbone.events.length = 0;
    const patient = new HboneClient({ trustBundlePem: mesh.ca.trustBundlePem() });
    const tunnel = await patient.connect({ svid: source, server: hbone.address, serverSpiffeId: destination.spiffeId, authority: `10.244.0.7:${target.address.port}` });
    expect(hbone.events.map((e) => e.kind)).toEqual(['opened']);
    tunnel.destroy();
    await patient.close();
  });
});
