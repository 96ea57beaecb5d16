// The mesh's identity library: the CA, X.509-SVIDs, their renewal, and SPIFFE id helpers.
export { CertificateAuthority, type CertificateAuthorityOptions, DEFAULT_SVID_TTL_MS, SVID_BACKDATE_MS, SvidRequestError } from './authority.ts';
export { CA_FILES, CaStoreError } from './ca-store.ts';
export { type DerCertificate, PeerIdentityError, spiffeIdOfPeerCertificate } from './peer-identity.ts';
export {
  type RenewalScheduler,
  type SvidRenewal,
  SvidRenewalError,
  SvidRotator,
  type SvidRotatorOptions,
  timerScheduler,
  type WorkloadAccount,
} from './rotator.ts';
export { DEFAULT_TRUST_DOMAIN, formatSpiffeId, istioPrincipal, parseSpiffeId, spiffeIdFor, SpiffeIdError, type WorkloadIdentity } from './spiffe-id.ts';
export type { Svid, SvidIssuer, SvidRequest } from './svid.ts';
