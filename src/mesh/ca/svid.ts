// The X.509-SVID as the mesh hands it around: everything a TLS endpoint needs to present one identity.

export interface Svid {
  /** spiffe://<trust-domain>/ns/<namespace>/sa/<service-account> */
  spiffeId: string;
  /** The leaf, then the intermediate that signed it: what a TLS endpoint sends as its certificate chain. */
  certificateChainPem: string;
  /** PKCS#8 PEM of the leaf's ECDSA P-256 key. */
  privateKeyPem: string;
  /** Hex serial number of the leaf: tells two SVIDs of the same identity apart in logs and tests. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
}

export interface SvidRequest {
  namespace: string;
  serviceAccount: string;
  /** Lifetime from now; one hour when not given. */
  ttlMs?: number;
}

/** Whatever issues SVIDs: the CA itself, or a test double. */
export interface SvidIssuer {
  issueSvid(request: SvidRequest): Promise<Svid>;
}
