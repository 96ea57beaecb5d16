// The connection manager over real HBONE: tunnels terminated by the server (as a gateway's or a waypoint's are)
// and tunnels forwarded to a target (as the node's inbound listener's are) are judged again with the inbound
// check when the policies change; the denied caller's tunnel is closed, the allowed caller's keeps carrying bytes.
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthorizationPolicyEngine } from '../authz/engine.ts';
import { authorizeInbound, type InboundRequest, type InboundVerdict } from '../authz/inbound.ts';
import type { Svid } from '../ca/index.ts';
import { HboneClient } from '../hbone/client.ts';
import { createTestMesh, echo, startHboneServer, startTarget, type RunningHboneServer, type TcpTarget, type TestMesh } from '../hbone/test-fixtures.ts';
import { ConnectionManager, type Denied } from './connection-manager.ts';

const GATEWAY = { namespace: 'trustusbank-platform', labels: { 'gateway.networking.k8s.io/gateway-name': 'trustusbank-agentgw' } };
const denyAttacker = [{ namespace: 'trustusbank-platform', name: 'deny-attacker', spec: { action: 'DENY' as const, rules: [{ from: [{ source: { namespaces: ['external-attacker'] } }] }] } }];

/** Resolves once the stream has ended or failed; rejects if it is still open after `ms`. */
function ended(stream: Duplex, ms = 5_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stream.destroyed) return resolve();
    const timer = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms);
    stream.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** One echo round trip on a tunnel. */
function roundTrip(stream: Duplex, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    stream.once('data', (chunk: Buffer) => resolve(chunk.toString()));
    stream.once('error', reject);
    stream.write(text);
  });
}

describe('the connection manager over real HBONE servers', () => {
  let mesh: TestMesh;
  let gatewaySvid: Svid;
  let podSvid: Svid;
  let agent: Svid;
  let attacker: Svid;
  let gateway: RunningHboneServer;
  let node: RunningHboneServer;
  let target: TcpTarget;
  let client: HboneClient;
  const policies = new AuthorizationPolicyEngine();
  const manager = new ConnectionManager();
  const revokedEvidence: string[] = [];

  const checkOf = (peerSpiffeId: string): InboundRequest => ({ peerSpiffeId, at: { kind: 'workload', workload: GATEWAY }, destination: { port: 8080 } });
  const tracked = (name: string, running: RunningHboneServer, peerSpiffeId: string, tunnelId: number) =>
    manager.track({
      server: name,
      recheck: () => [authorizeInbound(policies, checkOf(peerSpiffeId))],
      revoke: (denied) => {
        if (!running.server.closeTunnel(tunnelId)) return false;
        revokedEvidence.push(`${name} ${peerSpiffeId}: ${denied.message}`);
        return true;
      },
    });

  /** As a gateway: the inbound check at open, the tunnel terminated here (an echo) and tracked until it closes. */
  function terminating(running: RunningHboneServer, name: string): void {
    running.decide = (request) => {
      const verdict = authorizeInbound(policies, checkOf(request.peerSpiffeId));
      if (!verdict.allowed) return { allow: false, status: 401, reason: verdict.message };
      return {
        allow: true,
        accept: (stream, tunnelId) => {
          stream.pipe(stream);
          stream.once('close', tracked(name, running, request.peerSpiffeId, tunnelId));
        },
      };
    };
  }

  /** As the node's inbound listener: the check at open, the tunnel forwarded, tracked from 'opened' to 'closed'. */
  function forwarding(running: RunningHboneServer, name: string): void {
    running.decide = (request) => {
      const verdict = authorizeInbound(policies, checkOf(request.peerSpiffeId));
      return verdict.allowed ? { allow: true, target: target.address } : { allow: false, status: 401, reason: verdict.message };
    };
    const releases = new Map<number, () => void>();
    void (async () => {
      for (;;) {
        const opened = await running.nextEvent('opened');
        releases.set(opened.tunnelId, tracked(name, running, opened.peerSpiffeId, opened.tunnelId));
      }
    })();
    void (async () => {
      for (;;) {
        const closed = await running.nextEvent('closed');
        releases.get(closed.tunnelId)?.();
        releases.delete(closed.tunnelId);
      }
    })();
  }

  beforeAll(async () => {
    mesh = await createTestMesh();
    [gatewaySvid, podSvid, agent, attacker] = await Promise.all([
      mesh.issue('trustusbank-platform', 'trustusbank-agentgw'),
      mesh.issue('trustusbank-platform', 'some-pod'),
      mesh.issue('trustusbank-bank-agents', 'support-bot'),
      mesh.issue('external-attacker', 'mock-attacker'),
    ]);
    target = await startTarget(echo);
    gateway = await startHboneServer(mesh, [gatewaySvid]);
    node = await startHboneServer(mesh, [podSvid]);
    terminating(gateway, 'gateway');
    forwarding(node, 'ztunnel');
    client = new HboneClient({ trustBundlePem: mesh.ca.trustBundlePem() });
  });
  afterAll(async () => {
    await client.close();
    await gateway.server.close();
    await node.server.close();
    await target.close();
  });

  const tunnel = (svid: Svid, server: RunningHboneServer, serverSvid: Svid) => client.connect({ svid, server: server.address, serverSpiffeId: serverSvid.spiffeId, authority: '10.244.0.9:8080' });

  it('closes the denied caller’s tunnels into both servers on a policy change and keeps the allowed caller’s', async () => {
    const attackerAtGateway = await tunnel(attacker, gateway, gatewaySvid);
    const agentAtGateway = await tunnel(agent, gateway, gatewaySvid);
    const attackerAtNode = await tunnel(attacker, node, podSvid);
    const agentAtNode = await tunnel(agent, node, podSvid);
    for (const stream of [attackerAtGateway, agentAtGateway, attackerAtNode, agentAtNode]) expect(await roundTrip(stream, 'hello')).toBe('hello');
    expect(manager.count()).toBe(4);

    // The clean run first: a change that allows everyone closes nothing.
    policies.setPolicies([]);
    expect(manager.revokeDenied()).toEqual([]);

    policies.setPolicies(denyAttacker);
    const revoked = manager.revokeDenied();
    expect(revoked.map((r) => [r.server, r.verdict.policy]).sort()).toEqual([
      ['gateway', 'trustusbank-platform/deny-attacker'],
      ['ztunnel', 'trustusbank-platform/deny-attacker'],
    ]);
    await Promise.all([ended(attackerAtGateway), ended(attackerAtNode)]);
    expect(revokedEvidence).toEqual(
      expect.arrayContaining([
        'gateway spiffe://cluster.local/ns/external-attacker/sa/mock-attacker: explicitly denied by: trustusbank-platform/deny-attacker',
        'ztunnel spiffe://cluster.local/ns/external-attacker/sa/mock-attacker: explicitly denied by: trustusbank-platform/deny-attacker',
      ]),
    );
    expect(await roundTrip(agentAtGateway, 'still here')).toBe('still here');
    expect(await roundTrip(agentAtNode, 'still here')).toBe('still here');
    expect(manager.count()).toBe(2);
    // Judged again, nothing more to close.
    expect(manager.revokeDenied()).toEqual([]);
    // And a new tunnel is refused at open by the same check.
    await expect(tunnel(attacker, gateway, gatewaySvid)).rejects.toThrow(/401/);
    agentAtGateway.destroy();
    agentAtNode.destroy();
  });
});

describe('the connection manager', () => {
  const denied: Denied = { allowed: false, reason: 'denied-by-policy', policy: 'ns/p', message: 'explicitly denied by: ns/p' };
  const allowed: InboundVerdict = { allowed: true, caller: { spiffeId: 's', principal: 'p', trustDomain: 't', namespace: 'n', serviceAccount: 'a' }, reason: 'allow-no-policies', message: 'ok' };

  it('closes a tunnel when any check on it is denied (a waypoint with several requests in flight), and none while idle', () => {
    const manager = new ConnectionManager();
    const closed: string[] = [];
    manager.track({ server: 'waypoint', recheck: () => [allowed, denied], revoke: () => (closed.push('busy'), true) });
    manager.track({ server: 'waypoint', recheck: () => [], revoke: () => (closed.push('idle'), true) });
    expect(manager.pendingChecks('waypoint')).toBe(2);
    expect(manager.revokeDenied()).toEqual([{ server: 'waypoint', verdict: denied }]);
    expect(closed).toEqual(['busy']);
    expect(manager.count('waypoint')).toBe(1);
  });

  it('fails closed when a check throws, and does not count a tunnel that had already gone', () => {
    const manager = new ConnectionManager();
    manager.track({
      server: 'gateway',
      recheck: () => {
        throw new Error('policies unreadable');
      },
      revoke: () => true,
    });
    manager.track({ server: 'gateway', recheck: () => [denied], revoke: () => false });
    const revoked = manager.revokeDenied();
    expect(revoked).toHaveLength(1);
    expect(revoked[0]!.verdict.message).toBe('authorization failed: policies unreadable');
    expect(manager.count()).toBe(0);
  });

  it('forgets a tunnel once it is released', () => {
    const manager = new ConnectionManager();
    let revokes = 0;
    const release = manager.track({ server: 'ztunnel', recheck: () => [denied], revoke: () => (revokes++, true) });
    release();
    expect(manager.revokeDenied()).toEqual([]);
    expect(revokes).toBe(0);
  });
});
