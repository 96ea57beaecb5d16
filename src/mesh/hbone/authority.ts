// The `:authority` of an HBONE CONNECT: where the client wants its bytes to go, as "ip:port" (or
// "[ipv6]:port", or "host:port" when a gateway forwards by name).
import { isIP } from 'node:net';

export interface HostPort {
  host: string;
  port: number;
}

/**
 * Where a tunnel's bytes are delivered: a TCP address, or the Unix socket a pod listens on; `preface` is
 * written to it before the tunnel's first byte (the source line a pod's listener expects).
 */
export type TunnelTarget = (HostPort | { path: string }) & { preface?: string };

export function describeTarget(target: TunnelTarget): string {
  return 'path' in target ? `unix:${target.path}` : formatAuthority(target);
}

export class AuthorityError extends Error {
  override readonly name = 'AuthorityError';
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

export function parseAuthority(authority: string): HostPort | AuthorityError {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(authority);
  if (!match) return new AuthorityError(`authority ${JSON.stringify(authority)} is not host:port`);
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return new AuthorityError(`authority ${JSON.stringify(authority)} has port ${port} outside 1-65535`);
  if (match[1] !== undefined) {
    if (isIP(match[1]) !== 6) return new AuthorityError(`authority ${JSON.stringify(authority)} brackets something that is not an IPv6 address`);
    return { host: match[1], port };
  }
  const host = match[2]!;
  if (isIP(host) === 4 || HOSTNAME.test(host)) return { host, port };
  return new AuthorityError(`authority ${JSON.stringify(authority)} has an invalid host`);
}

export function formatAuthority(target: HostPort): string {
  return isIP(target.host) === 6 ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}
