// Where a pod may not go outside the mesh, whatever policy says: the node itself. A pod's loopback is the
// node's here (pods share the machine), and the node runs the engine, ztunnel's own listeners and every
// pod's real socket, so a connection "to localhost" would step around every layer of the mesh. ztunnel
// refuses them, as it refuses addresses that name the node in any other way: the unspecified address, the
// node's own interface addresses, link-local addresses (where clouds answer metadata requests), and names
// that resolve to any of these. Checked on the addresses a name resolves to, and the connection then goes to
// the address checked (never resolved twice), so DNS cannot answer one thing to the check and another to
// the connect.
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { blockContains, parseIpAddress, parseIpBlock } from '../authz/ip.ts';

export interface NodeAddresses {
  /** Every address of the node's interfaces, as written by `os.networkInterfaces()`. */
  own: ReadonlySet<string>;
}

export function nodeAddresses(): NodeAddresses {
  const own = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const entry of list ?? []) own.add(normalizeIp(entry.address));
  return { own };
}

/** Why an address is the node's own (and so refused), or undefined when it is not. */
export function nodeLocalReason(address: string, node: NodeAddresses): string | undefined {
  const ip = normalizeIp(address);
  const family = isIP(ip);
  if (family === 4) {
    const [a, b] = ip.split('.').map(Number) as [number, number];
    if (a === 127) return 'a loopback address';
    if (a === 0) return 'the unspecified address';
    if (a === 169 && b === 254) return 'a link-local address';
  } else if (family === 6) {
    if (ip === '::1') return 'a loopback address';
    if (ip === '::') return 'the unspecified address';
    if (/^fe[89ab][0-9a-f]:/i.test(ip)) return 'a link-local address';
  } else return undefined;
  return node.own.has(ip) ? "one of the node's own addresses" : undefined;
}

/** Names that are the node whatever a resolver says. */
export function isNodeLocalName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost') || name === 'localhost.localdomain';
}

/**
 * One spelling per address: IPv6 in its canonical text (lower case, longest zero run compressed, no brackets),
 * and an IPv4 address carried in IPv6 (`::ffff:127.0.0.1`, `::ffff:7f00:1`, the deprecated `::127.0.0.1`) as
 * the IPv4 address it reaches. Anything that is not an address comes back as given, in lower case.
 */
export function normalizeIp(address: string): string {
  const bare = address.replace(/^\[|\]$/g, '').toLowerCase();
  const parsed = isIP(bare) === 6 ? parseIpAddress(bare) : undefined;
  if (!parsed) return bare;
  const [w0, w1, w2, w3] = parsed.words;
  const embedsIpv4 = w0 === 0 && w1 === 0 && (w2 === 0xffff || (w2 === 0 && w3 > 1));
  if (embedsIpv4) return [w3 >>> 24, (w3 >>> 16) & 0xff, (w3 >>> 8) & 0xff, w3 & 0xff].join('.');
  return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
}

// --- outboundTrafficPolicy ---------------------------------------------------------------------------------

export type OutboundMode = 'ALLOW_ANY' | 'REGISTRY_ONLY';

/** What a ServiceEntry contributes to the egress check (see src/manifests/kinds/service-entry.ts). */
export interface RegisteredHost {
  /** `<namespace>/<name>`, for messages. */
  entry: string;
  namespace: string;
  /** Exact names, or `*.suffix` wildcards; lower case. */
  hosts: string[];
  /** IPs and CIDRs. */
  addresses: string[];
  ports: number[];
  /** Visible to every namespace, or only its own (`exportTo: ["."]`). */
  exportedToAll: boolean;
}

export interface EgressRequest {
  sourceNamespace: string;
  /** What the pod dialled: a name, or an address. */
  host: string;
  port: number;
}

/**
 * Istio's outboundTrafficPolicy for a destination outside the mesh: ALLOW_ANY lets it through; REGISTRY_ONLY
 * only where a ServiceEntry visible to the source's namespace names the port and what the pod dialled: the
 * name among its hosts, or the address within its addresses.
 */
export function egressDecision(mode: OutboundMode, registry: readonly RegisteredHost[], request: EgressRequest): { allow: true; entry?: string } | { allow: false; reason: string } {
  if (mode === 'ALLOW_ANY') return { allow: true };
  const name = request.host.toLowerCase().replace(/\.$/, '');
  const address = isIP(normalizeIp(name)) === 0 ? undefined : parseIpAddress(normalizeIp(name));
  for (const entry of registry) {
    if (!entry.exportedToAll && entry.namespace !== request.sourceNamespace) continue;
    if (!entry.ports.includes(request.port)) continue;
    const byName = address === undefined && entry.hosts.some((host) => (host.startsWith('*.') ? name.endsWith(host.slice(1)) : host === name));
    const byAddress = address !== undefined && entry.addresses.some((text) => {
      const block = parseIpBlock(text);
      return block !== undefined && blockContains(block, address);
    });
    if (byName || byAddress) return { allow: true, entry: entry.entry };
  }
  return { allow: false, reason: `outbound to ${request.host}:${request.port} refused: outboundTrafficPolicy is REGISTRY_ONLY and no ServiceEntry visible to ${request.sourceNamespace} names it` };
}
