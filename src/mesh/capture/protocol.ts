// The contract between a pod's capture shim and its node's ztunnel. Kept free of Node internals so both sides
// (and tests) share one definition.
//
// Every outbound TCP connection a pod makes is redirected to the pod's own capture socket of ztunnel (a Unix
// socket in the pod's socket directory, the only thing a kernel-isolated pod can reach). The shim writes one
// line before any application byte:
//   TUB-CAPTURE/1 <pod token> <original host> <original port>\r\n
// The socket says which pod is speaking, and the token must agree; it reached the pod over its private IPC
// channel at start, never through argv or the environment. A fifth field, when the pod was serving a traced
// request as it connected, is that request's W3C traceparent: ztunnel's span for the connection joins the
// trace. It is a claim of the pod's, for correlation only; nothing is decided on it. ztunnel answers one byte, CONNECT_ACK, once the connection to the
// destination is established, then proxies; or it resets the connection (a deny, no route). The shim holds
// back the application's 'connect' until the ack, so a denied connection fails while connecting, exactly
// like a refused one, and never after the application believes it is connected.

export const PREAMBLE_MAGIC = 'TUB-CAPTURE/1';
export const MAX_PREAMBLE_BYTES = 512;
export const CONNECT_ACK = 0x00;

/** Where a stream socket is: TCP, or a Unix socket path (both are what `net.connect` takes). */
export type SocketAddress = { host: string; port: number } | { path: string };

export interface CaptureInit {
  type: 'tub/capture-init';
  token: string;
  /** The pod's own capture socket of the node's ztunnel (a Unix socket in the pod's socket directory). */
  ztunnel: SocketAddress;
  /** Where the pod's listeners go: `<dir>/<containerPort>.sock`; nothing in a pod listens on TCP. */
  listenDir: string;
  namespace: string;
  /** Cluster DNS: fully qualified service names to their cluster IPs. */
  dns: Record<string, string>;
}

export interface DnsUpdate {
  type: 'tub/dns';
  dns: Record<string, string>;
}

export interface ListeningReport {
  type: 'tub/listening';
  /** The port the workload asked for (its containerPort). */
  containerPort: number;
  /** The Unix socket it really listens on, in the pod's socket directory. */
  path: string;
}

/** The socket file a pod listens on for a container port. */
export function listenSocketPath(listenDir: string, containerPort: number): string {
  return `${listenDir}/${containerPort}.sock`;
}

/**
 * A batch of the pod's spans, OTLP/JSON (an ExportTraceServiceRequest), for the node's trace collector. The
 * channel says which pod sent it; the collector stamps that on the spans' resource, whatever they claim.
 */
export interface SpanReport {
  /** SPAN_REPORT_TYPE of src/core/trace-export.ts. */
  type: 'tub/otlp';
  body: string;
}

/** The largest span batch the node takes from a pod (a bigger one is dropped and counted). */
export const MAX_SPAN_REPORT_BYTES = 1024 * 1024;

export type ToPod = CaptureInit | DnsUpdate;
export type FromPod = ListeningReport | SpanReport;

export interface CapturedDestination {
  token: string;
  host: string;
  port: number;
  /** The trace the pod said the connection belongs to (W3C traceparent), if it said one. */
  traceparent?: string;
}

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export function encodePreamble(token: string, host: string, port: number, traceparent?: string): string {
  return `${PREAMBLE_MAGIC} ${token} ${host} ${port}${traceparent && TRACEPARENT.test(traceparent) ? ` ${traceparent}` : ''}\r\n`;
}

/** Parse one preamble line (without its CRLF); undefined when it is not one. */
export function decodePreamble(line: string): CapturedDestination | undefined {
  const parts = line.split(' ');
  if ((parts.length !== 4 && parts.length !== 5) || parts[0] !== PREAMBLE_MAGIC) return undefined;
  const [, token, host, portText, traceparent] = parts as [string, string, string, string, string | undefined];
  const port = Number(portText);
  if (!/^[A-Za-z0-9_-]{16,128}$/.test(token) || host.length === 0 || host.length > 253 || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  // A malformed trace context is dropped, not the connection: it decides nothing.
  return { token, host, port, ...(traceparent !== undefined && TRACEPARENT.test(traceparent) ? { traceparent } : {}) };
}

/**
 * The line the node writes first on every connection it makes to a pod's listener, saying who is on the other
 * end, in the PROXY protocol's v1 form (haproxy's). Ambient's ztunnel keeps the source pod's address as the
 * connection's peer address; pods here listen on Unix sockets, which have none, so the node says it and the
 * shim gives it back to the workload as `socket.remoteAddress`. Every connector writes one (ztunnel inbound,
 * the probes, host ports), so a client cannot put its own first: its line would be application data.
 * `PROXY UNKNOWN` is the node itself (a probe).
 */
export const MAX_SOURCE_LINE_BYTES = 107;

export interface ConnectionSource {
  address: string;
  port: number;
}

export function encodeSourceLine(source: ConnectionSource | undefined, destination: ConnectionSource = { address: '0.0.0.0', port: 0 }): string {
  if (!source) return 'PROXY UNKNOWN\r\n';
  const family = source.address.includes(':') ? 'TCP6' : 'TCP4';
  const destinationAddress = family === 'TCP6' && !destination.address.includes(':') ? '::' : destination.address;
  return `PROXY ${family} ${source.address} ${destinationAddress} ${source.port} ${destination.port}\r\n`;
}

/** Parse one source line (without its CRLF): the source, `null` for UNKNOWN, undefined when it is not one. */
export function decodeSourceLine(line: string): ConnectionSource | null | undefined {
  if (line === 'PROXY UNKNOWN' || line.startsWith('PROXY UNKNOWN ')) return null;
  const match = /^PROXY (TCP4|TCP6) (\S+) (\S+) (\d{1,5}) (\d{1,5})$/.exec(line);
  if (!match) return undefined;
  const [, family, address, destination, portText, destinationPort] = match as unknown as [string, string, string, string, string, string];
  const ipv4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
  const valid = (ip: string): boolean => (family === 'TCP4' ? ipv4.test(ip) : /^[0-9a-f:.]{2,45}$/i.test(ip) && ip.includes(':'));
  const port = Number(portText);
  return valid(address) && valid(destination) && port <= 65535 && Number(destinationPort) <= 65535 ? { address, port } : undefined;
}

/**
 * Resolve a name the way a pod's resolver would in its namespace: `svc`, `svc.ns`, `svc.ns.svc`,
 * `svc.ns.svc.cluster.local` (with or without a trailing dot). Returns the fully qualified name to look up.
 */
export function qualifyServiceName(name: string, podNamespace: string, clusterDomain = 'cluster.local'): string | undefined {
  const host = name.endsWith('.') ? name.slice(0, -1) : name;
  const parts = host.toLowerCase().split('.');
  const suffix = `svc.${clusterDomain}`.split('.');
  if (parts.length === 1) return [parts[0], podNamespace, ...suffix].join('.');
  if (parts.length === 2) return [...parts, ...suffix].join('.');
  if (parts.length === 3 && parts[2] === 'svc') return [...parts, ...clusterDomain.split('.')].join('.');
  if (parts.length === 2 + suffix.length && parts.slice(2).join('.') === suffix.join('.')) return parts.join('.');
  return undefined;
}
