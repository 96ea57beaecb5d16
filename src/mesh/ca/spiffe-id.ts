// SPIFFE ids in Istio's form: spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>.
// Parsing returns an error value rather than throwing, because a malformed id usually arrives from the wire
// (a peer certificate, a manifest) and the caller decides whether that is a deny, a log line or a user error.

export const DEFAULT_TRUST_DOMAIN = 'cluster.local';

/** The identity a workload certificate carries: who, in which namespace, under which trust domain. */
export interface WorkloadIdentity {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

/** A string that is not a well-formed Istio SPIFFE id, and what was wrong with it. */
export class SpiffeIdError extends Error {
  override readonly name = 'SpiffeIdError';
  constructor(
    readonly id: string,
    readonly problem: string,
  ) {
    super(`malformed SPIFFE id ${JSON.stringify(id.length > 200 ? id.slice(0, 200) + '…' : id)}: ${problem}`);
  }
}

// From the SPIFFE-ID specification: trust domains are lowercase letters, digits, '.', '-', '_';
// path segments add uppercase letters; ids are at most 2048 bytes.
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const PATH_SEGMENT = /^[A-Za-z0-9._-]+$/;
const MAX_ID_LENGTH = 2048;
const MAX_TRUST_DOMAIN_LENGTH = 255;
const SCHEME = 'spiffe://';

export function parseSpiffeId(id: string): WorkloadIdentity | SpiffeIdError {
  if (id.length > MAX_ID_LENGTH) return new SpiffeIdError(id, `longer than ${MAX_ID_LENGTH} characters`);
  if (!id.startsWith(SCHEME)) return new SpiffeIdError(id, `scheme must be "${SCHEME}" (lowercase)`);
  const rest = id.slice(SCHEME.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return new SpiffeIdError(id, 'no path: expected /ns/<namespace>/sa/<service-account>');
  const trustDomain = rest.slice(0, slash);
  const trustDomainProblem = checkTrustDomain(trustDomain);
  if (trustDomainProblem) return new SpiffeIdError(id, trustDomainProblem);
  const segments = rest.slice(slash + 1).split('/');
  for (const segment of segments) {
    const problem = checkSegment(segment);
    if (problem) return new SpiffeIdError(id, problem);
  }
  if (segments.length !== 4 || segments[0] !== 'ns' || segments[2] !== 'sa') {
    return new SpiffeIdError(id, 'path must be exactly /ns/<namespace>/sa/<service-account>');
  }
  return { trustDomain, namespace: segments[1]!, serviceAccount: segments[3]! };
}

/** The SPIFFE id for a service account. Throws SpiffeIdError: callers pass names they already validated. */
export function spiffeIdFor(namespace: string, serviceAccount: string, trustDomain: string = DEFAULT_TRUST_DOMAIN): string {
  const id = `${SCHEME}${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
  const parsed = parseSpiffeId(id);
  if (parsed instanceof SpiffeIdError) throw parsed;
  return id;
}

export function formatSpiffeId(identity: WorkloadIdentity): string {
  return spiffeIdFor(identity.namespace, identity.serviceAccount, identity.trustDomain);
}

/** Istio's principal form, as AuthorizationPolicy `principals` spell it: the id without its scheme. Throws on a malformed id. */
export function istioPrincipal(id: string): string {
  const parsed = parseSpiffeId(id);
  if (parsed instanceof SpiffeIdError) throw parsed;
  return id.slice(SCHEME.length);
}

function checkTrustDomain(trustDomain: string): string | undefined {
  if (trustDomain.length === 0) return 'empty trust domain';
  if (trustDomain.length > MAX_TRUST_DOMAIN_LENGTH) return `trust domain longer than ${MAX_TRUST_DOMAIN_LENGTH} characters`;
  // A port, userinfo, or uppercase letters all land here: the spec allows none of them.
  if (!TRUST_DOMAIN.test(trustDomain)) return `trust domain ${JSON.stringify(trustDomain)} may only hold a-z, 0-9, '.', '-', '_'`;
  return undefined;
}

function checkSegment(segment: string): string | undefined {
  if (segment.length === 0) return 'empty path segment';
  if (segment === '.' || segment === '..') return `path segment ${JSON.stringify(segment)} is not allowed`;
  if (!PATH_SEGMENT.test(segment)) return `path segment ${JSON.stringify(segment)} may only hold A-Z, a-z, 0-9, '.', '-', '_'`;
  return undefined;
}
