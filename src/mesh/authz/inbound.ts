// The one inbound check of the mesh: every HBONE server (the node's inbound listener in front of the pods, an
// agent gateway's, a waypoint's) asks this, at open and again whenever the policies change, so an open tunnel
// is judged exactly as a new one would be. The caller is the SPIFFE id its certificate proved and nothing else;
// the Istio principal is derived from it here and nowhere else. Pure: data and the policies in force in, a
// decision with the deciding policy out.
import { SpiffeIdError, istioPrincipal, parseSpiffeId } from '../ca/spiffe-id.ts';
import type { AuthorizationPolicyEngine } from './engine.ts';
import type { DecisionReason, HttpAttributes, PolicyTarget, WorkloadRef } from './types.ts';

/** Who is calling, as its certificate proved it. */
export interface Caller {
  spiffeId: string;
  /** Istio's form of the identity: `<trust-domain>/ns/<namespace>/sa/<service-account>`. */
  principal: string;
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

/** The caller a SPIFFE id names, or undefined when it is not a Kubernetes workload identity. */
export function callerOf(spiffeId: string): Caller | undefined {
  const parsed = parseSpiffeId(spiffeId);
  if (parsed instanceof SpiffeIdError) return undefined;
  return { spiffeId, principal: istioPrincipal(spiffeId), trustDomain: parsed.trustDomain, namespace: parsed.namespace, serviceAccount: parsed.serviceAccount };
}

/** Where the check is made, which decides which policies apply. */
export type InboundPoint =
  /** ztunnel in front of a workload (a pod, or a proxy that terminates HBONE itself): its selector and namespace policies, at L4. */
  | { kind: 'workload'; workload: WorkloadRef }
  /** A waypoint: the policies bound to its targets (the Service called, its own Gateway), on the request when it has one. */
  | { kind: 'waypoint'; targets: readonly PolicyTarget[]; http?: HttpAttributes };

export interface InboundRequest {
  /** From the verified client certificate. */
  peerSpiffeId: string;
  at: InboundPoint;
  destination: { ip?: string; port: number };
  /** The source pod's address, only when that pod really holds `peerSpiffeId` (else unknown, and omitted). */
  sourceIp?: string;
}

export type InboundVerdict =
  | { allowed: true; caller: Caller; reason: DecisionReason; policy?: string; message: string }
  | { allowed: false; caller?: Caller; reason: DecisionReason | 'no-workload-identity'; policy?: string; message: string };

/** The policies in force, as the check reads them. */
export type PoliciesInForce = Pick<AuthorizationPolicyEngine, 'evaluate' | 'evaluateAtWaypoint'>;

export const NO_WORKLOAD_IDENTITY = 'client certificate has no workload identity';

export function authorizeInbound(policies: PoliciesInForce, request: InboundRequest): InboundVerdict {
  const caller = callerOf(request.peerSpiffeId);
  if (!caller) return { allowed: false, reason: 'no-workload-identity', message: NO_WORKLOAD_IDENTITY };
  const attributes = {
    // Namespace and service account are read from the principal by the engine, so they cannot disagree.
    source: { principal: caller.principal, ...(request.sourceIp !== undefined ? { ip: request.sourceIp } : {}) },
    destination: request.destination,
  };
  const decision =
    request.at.kind === 'workload'
      ? policies.evaluate(request.at.workload, attributes)
      : policies.evaluateAtWaypoint(request.at.targets, { ...attributes, ...(request.at.http ? { http: request.at.http } : {}) });
  return { allowed: decision.allowed, caller, reason: decision.reason, ...(decision.policy !== undefined ? { policy: decision.policy } : {}), message: decision.message } as InboundVerdict;
}
