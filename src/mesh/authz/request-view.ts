// One connection (or request) as the matchers read it. Every derived attribute is computed at most once and only
// if some policy asks for it, so a decision that needs only the principal never parses an IP or a path.
import { parseIpAddress, type IpAddress } from './ip.ts';
import { istioPrincipal, parsePeerIdentity, type PeerIdentity } from './principal.ts';
import type { ConnectionAttributes, HttpAttributes } from './types.ts';

const NOT_YET = Symbol('not computed');
type Lazy<T> = T | typeof NOT_YET;

export class RequestView {
  readonly http: HttpAttributes | undefined;
  readonly destinationPort: number;
  readonly principal: string | undefined;
  #identity: Lazy<PeerIdentity | undefined> = NOT_YET;
  #serviceAccount: Lazy<string | undefined> = NOT_YET;
  #sourceIp: Lazy<IpAddress | undefined> = NOT_YET;
  #destinationIp: Lazy<IpAddress | undefined> = NOT_YET;
  #remoteIp: Lazy<IpAddress | undefined> = NOT_YET;
  #path: Lazy<string | undefined> = NOT_YET;

  constructor(private readonly attributes: ConnectionAttributes) {
    this.http = attributes.http;
    this.destinationPort = attributes.destination.port;
    this.principal = istioPrincipal(attributes.source.principal);
  }

  get identity(): PeerIdentity | undefined {
    if (this.#identity === NOT_YET) this.#identity = this.principal === undefined ? undefined : parsePeerIdentity(this.principal);
    return this.#identity;
  }

  /** The source namespace proven by the peer certificate; absent for plaintext, as in ztunnel. */
  get sourceNamespace(): string | undefined {
    return this.identity?.namespace;
  }

  /** `<namespace>/<service-account>` of the peer, the form `serviceAccounts` entries compile to. */
  get serviceAccount(): string | undefined {
    if (this.#serviceAccount === NOT_YET) {
      const identity = this.identity;
      this.#serviceAccount = identity === undefined ? undefined : `${identity.namespace}/${identity.serviceAccount}`;
    }
    return this.#serviceAccount;
  }

  get sourceIp(): IpAddress | undefined {
    if (this.#sourceIp === NOT_YET) this.#sourceIp = connectionIp(this.attributes.source.ip);
    return this.#sourceIp;
  }

  get destinationIp(): IpAddress | undefined {
    if (this.#destinationIp === NOT_YET) this.#destinationIp = connectionIp(this.attributes.destination.ip);
    return this.#destinationIp;
  }

  get remoteIp(): IpAddress | undefined {
    if (this.#remoteIp === NOT_YET) {
      const remote = this.http?.remoteIp;
      this.#remoteIp = remote === undefined ? this.sourceIp : connectionIp(remote);
    }
    return this.#remoteIp;
  }

  get host(): string | undefined {
    return this.http?.host;
  }

  get method(): string | undefined {
    return this.http?.method;
  }

  get path(): string | undefined {
    if (this.#path === NOT_YET) this.#path = this.http === undefined ? undefined : normalizePath(this.http.path);
    return this.#path;
  }

  get requestPrincipal(): string | undefined {
    const principal = this.http?.requestPrincipal;
    return principal === '' ? undefined : principal;
  }

  /** A header's value; repeated headers are joined with commas, as Envoy presents them to its matchers. */
  header(lowerCaseName: string): string | undefined {
    const headers = this.http?.headers;
    if (headers === undefined) return undefined;
    let value = headers[lowerCaseName];
    if (value === undefined) {
      // Tolerate callers that kept the sender's capitalisation.
      for (const name of Object.keys(headers)) {
        if (name.toLowerCase() === lowerCaseName) {
          value = headers[name];
          break;
        }
      }
    }
    if (value === undefined) return undefined;
    return typeof value === 'string' ? value : value.join(',');
  }

  /** The string values of a JWT claim (a string or a list of strings), following nested claim names. */
  claimValues(path: readonly string[]): readonly string[] {
    let value: unknown = this.http?.claims;
    for (const name of path) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
      value = (value as Record<string, unknown>)[name];
    }
    if (typeof value === 'string') return [value];
    if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
    return [];
  }
}

function connectionIp(text: string | undefined): IpAddress | undefined {
  return text === undefined ? undefined : parseIpAddress(text, { fromConnection: true });
}

/**
 * The path as Envoy's `url_path` matcher sees it with Istio's default (BASE) normalisation: no query or fragment,
 * and `.`/`..` segments resolved (RFC 3986 §5.2.4), so `/public/../admin` cannot slip past a rule on `/admin*`.
 */
export function normalizePath(target: string): string {
  const end = target.search(/[?#]/);
  const raw = end < 0 ? target : target.slice(0, end);
  const path = raw.startsWith('/') ? raw : `/${raw}`;
  if (!path.includes('.') && !/%2e/i.test(path)) return path;
  const output: string[] = [];
  const segments = path.split('/');
  for (const [index, written] of segments.entries()) {
    const last = index === segments.length - 1;
    // Browsers and Envoy's canonicaliser treat an encoded dot like a dot in a dot-segment.
    const segment = written.replace(/%2e/gi, '.');
    if (segment === '.') {
      if (last) output.push('');
    } else if (segment === '..') {
      if (output.length > 1) output.pop();
      if (last) output.push('');
    } else {
      output.push(written);
    }
  }
  return output.join('/');
}
