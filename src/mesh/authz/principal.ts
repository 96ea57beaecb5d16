// Istio principals (`<trust-domain>/ns/<namespace>/sa/<service-account>`): the only place a source's namespace
// and service account come from, because only the certificate proves them.

export interface PeerIdentity {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

const SPIFFE_SCHEME = 'spiffe://';

/** The principal in Istio's scheme-less form; empty means none. */
export function istioPrincipal(principal: string | undefined): string | undefined {
  if (principal === undefined) return undefined;
  const bare = principal.startsWith(SPIFFE_SCHEME) ? principal.slice(SPIFFE_SCHEME.length) : principal;
  return bare === '' ? undefined : bare;
}

/** The parts of a principal, or undefined when it is not a Kubernetes workload identity. */
export function parsePeerIdentity(principal: string): PeerIdentity | undefined {
  // Scanned rather than split: this runs on the decision path for every namespace or service-account check.
  const domainEnd = principal.indexOf('/');
  if (domainEnd <= 0 || !principal.startsWith('ns/', domainEnd + 1)) return undefined;
  const namespaceStart = domainEnd + 4;
  const namespaceEnd = principal.indexOf('/', namespaceStart);
  if (namespaceEnd <= namespaceStart || !principal.startsWith('sa/', namespaceEnd + 1)) return undefined;
  const accountStart = namespaceEnd + 4;
  if (accountStart >= principal.length || principal.indexOf('/', accountStart) >= 0) return undefined;
  return {
    trustDomain: principal.slice(0, domainEnd),
    namespace: principal.slice(namespaceStart, namespaceEnd),
    serviceAccount: principal.slice(accountStart),
  };
}
