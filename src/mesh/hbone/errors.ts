// What can go wrong opening an HBONE tunnel, each a named value the caller can tell apart and count.

/** The far ztunnel answered the CONNECT with something other than 200: a deny (401), no target (503), … */
export class HboneConnectError extends Error {
  override readonly name = 'HboneConnectError';
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly authority: string,
  ) {
    super(`HBONE CONNECT to ${authority} answered ${status}${reason ? `: ${reason}` : ''}`);
  }
}

/** The server proved an identity other than the one the client expected (or none usable). */
export class HbonePeerIdentityError extends Error {
  override readonly name = 'HbonePeerIdentityError';
  constructor(
    readonly expected: string,
    readonly presented: string | undefined,
    readonly problem: string = presented === undefined ? 'no SPIFFE identity' : `presented ${presented}`,
  ) {
    super(`HBONE server identity mismatch: expected ${expected}, ${problem}`);
  }
}

/** TCP, TLS or HTTP/2 failed before the server answered: refused, reset, handshake alert, timeout, GOAWAY. */
export class HboneTransportError extends Error {
  override readonly name = 'HboneTransportError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }

  /** The Node error code of the underlying failure, e.g. ECONNREFUSED or ERR_SSL_TLSV1_ALERT_UNKNOWN_CA. */
  get code(): string | undefined {
    return (this.cause as NodeJS.ErrnoException | undefined)?.code;
  }
}
