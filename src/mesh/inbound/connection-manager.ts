// ztunnel's connection manager, for every HBONE server of the node: the node's inbound listener in front of the
// pods, each agent gateway's and each waypoint's. Each server registers the tunnels it opens with what it needs
// to judge them again (the inbound check with what was known at open) and to close them (with the same evidence
// a refusal at open leaves). On a policy change every open tunnel is judged again, and the ones no longer
// allowed are closed, so a kept-alive connection cannot outlive its permission whichever server it entered by.
import type { InboundVerdict } from '../authz/inbound.ts';

export type Denied = Extract<InboundVerdict, { allowed: false }>;

export interface TrackedTunnel {
  /** The server that holds it (`ztunnel`, `<namespace>/<gateway>`), for what the manager reports. */
  readonly server: string;
  /**
   * The inbound check again, against the policies in force now: one verdict for a tunnel judged at L4, one per
   * request in flight at a waypoint (none while it is idle: its next request is judged when it comes).
   */
  recheck(): readonly InboundVerdict[];
  /** Close the tunnel because `verdict` denies it, and leave the evidence; false when it had already closed. */
  revoke(verdict: Denied): boolean;
}

export interface Revocation {
  server: string;
  verdict: Denied;
}

export class ConnectionManager {
  private readonly open = new Set<TrackedTunnel>();

  /** Track an open tunnel; call the returned function once it has closed. */
  track(tunnel: TrackedTunnel): () => void {
    this.open.add(tunnel);
    return () => void this.open.delete(tunnel);
  }

  /** Open tunnels, of one server or of all. */
  count(server?: string): number {
    let n = 0;
    for (const tunnel of this.open) if (server === undefined || tunnel.server === server) n++;
    return n;
  }

  /** What a policy change would judge now: open L4 tunnels, and requests in flight at waypoints. */
  pendingChecks(server?: string): number {
    let n = 0;
    for (const tunnel of this.open) if (server === undefined || tunnel.server === server) n += tunnel.recheck().length;
    return n;
  }

  /** Judge every open tunnel again; close and forget the ones the policies in force deny. */
  revokeDenied(): Revocation[] {
    const revoked: Revocation[] = [];
    for (const tunnel of [...this.open]) {
      let verdict: Denied | undefined;
      try {
        verdict = tunnel.recheck().find((v): v is Denied => !v.allowed);
      } catch (error) {
        // A check that cannot be made fails closed, as it would at open.
        verdict = { allowed: false, reason: 'no-allow-policy-matched', message: `authorization failed: ${error instanceof Error ? error.message : String(error)}` };
      }
      if (verdict === undefined) continue;
      this.open.delete(tunnel);
      if (tunnel.revoke(verdict)) revoked.push({ server: tunnel.server, verdict });
    }
    return revoked;
  }
}
