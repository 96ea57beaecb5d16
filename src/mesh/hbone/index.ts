// HBONE: TCP connections carried as HTTP/2 CONNECT streams over mutual TLS between SPIFFE identities.
export { AuthorityError, describeTarget, formatAuthority, type HostPort, parseAuthority, type TunnelTarget } from './authority.ts';
export { HboneClient, type HboneClientOptions, type HboneConnectRequest } from './client.ts';
export { HboneConnectError, HbonePeerIdentityError, HboneTransportError } from './errors.ts';
export {
  type AuthorizeDecision,
  type AuthorizeRequest,
  HboneServer,
  type HboneServerOptions,
  type TunnelEvent,
} from './server.ts';
export { DENY_REASON_HEADER } from './protocol.ts';
export { SniError, sniForSpiffeId, spiffeIdFromSni } from './sni.ts';
export { abortSocket, type SpliceOutcome, spliceTunnel } from './splice.ts';
export { DEFAULT_HTTP2_TUNING, type Http2Tuning } from './tuning.ts';
export { asByteStream } from './byte-stream.ts';
