// ztunnel's HBONE: the client that carries captured connections as CONNECT streams, and the inbound server
// (this node's :15008) that presents each destination pod's SVID, learns the caller from its certificate,
// and asks ztunnel whether to deliver.
import type { Duplex } from 'node:stream';
import type { Logger } from '../../core/log.ts';
import type { CertificateAuthority } from '../ca/authority.ts';
import type { SvidRotator } from '../ca/rotator.ts';
import type { Svid } from '../ca/svid.ts';
import { HboneClient, HboneConnectError, HboneServer, SniError, spiffeIdFromSni, type TunnelEvent } from '../hbone/index.ts';
import { authorizeInbound, type InboundRequest } from '../authz/inbound.ts';
import type { ConnectionManager } from '../inbound/connection-manager.ts';
import type { MeshView } from './state.ts';
import type { ConnectionParties } from './telemetry.ts';
import { TunnelRefused, type Endpoint, type HboneDialer, type Ztunnel } from './ztunnel.ts';

export interface HboneTransport extends HboneDialer {
  inboundEndpoint(): Endpoint;
}

export interface HboneTransportOptions {
  ca: CertificateAuthority;
  rotator: SvidRotator;
  view: MeshView;
  ztunnel: Ztunnel;
  log: Logger;
  /** Where the inbound listener's open tunnels are tracked, to be judged again when the policies change. */
  connections: ConnectionManager;
}

/** What the inbound check admitted: who is connecting to whom, and the check to make again. */
interface Admitted {
  parties: ConnectionParties;
  check: InboundRequest;
  /** The trace the source ztunnel said the tunnel belongs to (its CONNECT's traceparent). */
  traceparent?: string;
}

export async function createHboneTransport(options: HboneTransportOptions): Promise<HboneTransport> {
  const { ca, rotator, ztunnel, log, connections, view } = options;
  const trustBundlePem = ca.trustBundlePem();
  const svidOf = (spiffeId: string): Svid => {
    const svid = rotator.current(spiffeId);
    if (!svid) throw new Error(`no SVID issued for ${spiffeId}`);
    return svid;
  };

  // authorize() decides; the server's events then report the same tunnel. Parties wait here, per caller and
  // authority, in the order their streams were authorized.
  const authorized = new Map<string, Admitted[]>();
  const open = new Map<number, Admitted & { authority: string; release(): void }>();
  const take = (peer: string, authority: string): Admitted | undefined => {
    const queue = authorized.get(`${peer} ${authority}`);
    const parties = queue?.shift();
    if (queue && queue.length === 0) authorized.delete(`${peer} ${authority}`);
    return parties;
  };

  const observe = (event: TunnelEvent): void => {
    if (event.kind === 'opened') {
      const admitted = take(event.peerSpiffeId, event.authority);
      if (!admitted) return;
      const { parties, check, traceparent } = admitted;
      const { tunnelId, authority } = event;
      const release = connections.track({
        server: 'ztunnel',
        recheck: () => [authorizeInbound(view.authz, check)],
        revoke: (verdict) => {
          if (!server.closeTunnel(tunnelId)) return false;
          ztunnel.inboundRevoked(parties, authority, verdict.message);
          return true;
        },
      });
      open.set(tunnelId, { parties, check, authority, release, ...(traceparent ? { traceparent } : {}) });
      ztunnel.inboundOpened(parties);
    } else if (event.kind === 'closed') {
      const tunnel = open.get(event.tunnelId);
      if (!tunnel) return;
      open.delete(event.tunnelId);
      tunnel.release();
      ztunnel.inboundClosed(tunnel.parties, tunnel.authority, { toDestination: event.receivedBytes, fromDestination: event.sentBytes }, event.durationMs, tunnel.traceparent);
    } else if (event.kind === 'failed') {
      take(event.peerSpiffeId, event.authority);
      log.warn('inbound tunnel failed', { 'src.identity': event.peerSpiffeId, 'dst.addr': event.authority, status: event.status, error: event.reason });
    } else if (event.kind === 'rejected') {
      log.warn('inbound connection rejected', { remote: event.remoteAddress, error: event.reason });
    }
  };

  const server = new HboneServer({
    trustBundlePem,
    serverIdentity: (serverName) => {
      if (serverName === undefined) throw new Error('HBONE client sent no server name');
      const spiffeId = spiffeIdFromSni(serverName);
      if (spiffeId instanceof SniError) throw spiffeId;
      return svidOf(spiffeId);
    },
    authorize: (request) => {
      const decision = ztunnel.decideInbound(request.peerSpiffeId, request.authority, request.headers);
      if (!decision.allow) return { allow: false, status: decision.status, reason: decision.reason };
      const key = `${request.peerSpiffeId} ${request.authority}`;
      authorized.set(key, [...(authorized.get(key) ?? []), { parties: decision.parties, check: decision.check, ...(decision.traceparent ? { traceparent: decision.traceparent } : {}) }]);
      return { allow: true, target: decision.target };
    },
    observe,
  });
  const inbound = await server.listen(0, '127.0.0.1');
  const client = new HboneClient({ trustBundlePem });

  return {
    inboundEndpoint: () => inbound,
    async open(request): Promise<Duplex> {
      try {
        return await client.connect({
          svid: svidOf(request.source.spiffeId),
          server: request.server,
          serverSpiffeId: request.destination.spiffeId,
          authority: request.authority,
          headers: request.headers,
        });
      } catch (error) {
        if (error instanceof HboneConnectError) throw new TunnelRefused(error.status, error.reason);
        throw error;
      }
    },
    async close(): Promise<void> {
      await client.close();
      await server.close();
    },
  };
}
