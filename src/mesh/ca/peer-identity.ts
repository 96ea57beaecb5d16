// The identity a peer proved in the TLS handshake: the one SPIFFE URI SAN of its certificate. This is the only
// source of a caller's identity the mesh trusts; headers can be forged, a verified certificate cannot.
import type { X509Certificate } from 'node:crypto';
import { uriSubjectAltNames } from './san.ts';
import { parseSpiffeId, SpiffeIdError } from './spiffe-id.ts';

/** Anything that holds a DER certificate: Node's X509Certificate, or the PeerCertificate of `getPeerCertificate()`. */
export type DerCertificate = Pick<X509Certificate, 'raw'> | { raw: Buffer };

/** A certificate that does not name exactly one well-formed SPIFFE identity. */
export class PeerIdentityError extends Error {
  override readonly name = 'PeerIdentityError';
  constructor(readonly problem: string) {
    super(`peer certificate has no usable SPIFFE identity: ${problem}`);
  }
}

/**
 * The SPIFFE id in the certificate's URI SAN. The X.509-SVID specification demands exactly one URI SAN, so a
 * certificate with none, or with several (even if only one is a SPIFFE id), is refused rather than guessed at.
 */
export function spiffeIdOfPeerCertificate(certificate: DerCertificate): string | PeerIdentityError {
  let uris: string[];
  try {
    // Read from the DER rather than from Node's `subjectAltName` text, whose quoting of unusual characters is a
    // presentation format, not something to split on in security code.
    uris = uriSubjectAltNames(certificate.raw);
  } catch (error) {
    return new PeerIdentityError(`certificate does not parse (${error instanceof Error ? error.message : String(error)})`);
  }
  if (uris.length === 0) return new PeerIdentityError('no URI subject alternative name');
  if (uris.length > 1) return new PeerIdentityError(`${uris.length} URI subject alternative names; an SVID has exactly one`);
  const parsed = parseSpiffeId(uris[0]!);
  if (parsed instanceof SpiffeIdError) return new PeerIdentityError(parsed.message);
  return uris[0]!;
}
