// The engine's vocabulary: what goes in (policies, the workload or waypoint target, the connection) and what
// comes out (decisions and warnings). Everything is plain data so the mesh, the CLI and tests share it.
import type { AuthorizationPolicySpec } from '../../manifests/types.ts';

/** One AuthorizationPolicy as applied: where it lives and what it says. */
export interface PolicyRef {
  namespace: string;
  name: string;
  spec: AuthorizationPolicySpec;
}

/** The workload whose ztunnel enforces policy: its namespace and pod labels. */
export interface WorkloadRef {
  namespace: string;
  labels: Readonly<Record<string, string>>;
}

/** The kinds a policy's `targetRefs` may name to bind to a waypoint (GatewayClass only from the root namespace). */
export type PolicyTargetKind = 'Service' | 'ServiceEntry' | 'Gateway' | 'GatewayClass';

/** A resource a waypoint serves: the waypoint's own Gateway, the Service being called, or the GatewayClass. */
export interface PolicyTarget {
  kind: PolicyTargetKind;
  namespace: string;
  name: string;
}

export interface SourceAttributes {
  /**
   * The peer identity proven by mTLS, in Istio's form without scheme: `cluster.local/ns/<ns>/sa/<sa>`
   * (a leading `spiffe://` is tolerated). Absent for plaintext. The source namespace and service account are
   * read from this, as ztunnel does, so they can never disagree with what the certificate proved.
   */
  principal?: string;
  /** The peer address of the connection (IPv4 or IPv6; IPv4-mapped IPv6 counts as IPv4). */
  ip?: string;
}

export interface DestinationAttributes {
  ip?: string;
  port: number;
}

/** What a waypoint knows once it has parsed an HTTP request. */
export interface HttpAttributes {
  /** The Host / :authority header as sent, port included if the client sent one. */
  host: string;
  method: string;
  /** The request target; any query string or fragment is ignored for matching, as Envoy's path matcher does. */
  path: string;
  /** Header names in lower case, as Node gives them; repeated headers as a list. */
  headers?: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** `<iss>/<sub>` of a JWT the waypoint validated; absent when the request carried none. */
  requestPrincipal?: string;
  /** The claims of that validated JWT. */
  claims?: Readonly<Record<string, unknown>>;
  /** The original client address (from X-Forwarded-For behind trusted proxies); defaults to `source.ip`. */
  remoteIp?: string;
}

export interface ConnectionAttributes {
  source: SourceAttributes;
  destination: DestinationAttributes;
  http?: HttpAttributes;
}

export type DecisionReason =
  | 'allow-no-policies'
  | 'allowed-by-policy'
  | 'denied-by-policy'
  | 'no-allow-policy-matched'
  | 'denied-by-custom';

export interface Decision {
  readonly allowed: boolean;
  readonly reason: DecisionReason;
  /** `<namespace>/<name>` of the policy that decided, when one did. */
  readonly policy?: string;
  /** ztunnel's wording, for access logs (ztunnel prefixes it with "connection closed due to policy rejection: "). */
  readonly message: string;
  /** `<namespace>/<name>` of every AUDIT policy that matched; they never change the decision. */
  readonly audited: readonly string[];
}

export type PolicyWarningCode =
  /** ztunnel cannot see HTTP; the policy is enforced at L4 in a reduced (or no) form. */
  | 'http-attributes-at-ztunnel'
  /** CUSTOM has no external authorizer here: a match denies. */
  | 'custom-action-fails-closed'
  /** A value or attribute the engine cannot evaluate; the rule holding it fails closed. */
  | 'invalid-rule'
  /** The policy can never change a decision (e.g. DENY without rules). */
  | 'ineffective-policy'
  /** A `targetRefs` entry that binds to nothing the engine knows; that entry is ignored. */
  | 'unsupported-target'
  /** Both `selector` and `targetRefs` are set; Istio rejects this, the targetRefs win. */
  | 'selector-with-target'
  /** `serviceAccounts` mixed with `principals`/`namespaces` in one source; Istio rejects this, all are ANDed. */
  | 'conflicting-source-fields'
  /** Two policies share a namespace and name; the later one replaces the earlier. */
  | 'duplicate-policy';

export interface PolicyWarning {
  readonly code: PolicyWarningCode;
  /** `<namespace>/<name>` of the policy concerned. */
  readonly policy: string;
  /** The spec fields or condition keys concerned, when the warning is about fields. */
  readonly fields: readonly string[];
  readonly message: string;
}
