// The capture shim: preloaded (`node --import`) into every pod, before the workload's own code. It is the
// embedded stand-in for ambient's traffic redirection: every outbound TCP connection the pod makes — through
// net, http, https, http2, tls or fetch — goes to the pod's capture socket of the node's ztunnel instead,
// which decides where it may go. Listening sockets become Unix sockets in the pod's socket directory
// (`<port>.sock`), reported to the engine, so every pod can listen on its containerPort (8080) at once and
// nothing of a pod listens on the host's loopback. The node opens every connection to them with a source line
// (protocol.ts), which the shim reads off and turns back into the connection's peer address, as ambient keeps
// the source pod's address: the workload sees who called, not the node.
//
// It fails closed: a connection it cannot capture (a Unix socket path, a TLS socket connected without
// tls.connect) is refused, not let through. Pods run under Node's permission model, which denies child
// processes, worker threads and process.binding(). The shim is JavaScript: code that steps around it (a raw
// handle, UDP, a DNS resolver of its own) is stopped by the kernel where pods run in their own network
// namespace (src/runtime/sandbox.ts), and only there.
import dns from 'node:dns';
import { rmSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { context, trace } from '@opentelemetry/api';
import { CONNECT_ACK, MAX_SOURCE_LINE_BYTES, decodeSourceLine, encodePreamble, listenSocketPath, qualifyServiceName, type CaptureInit, type ToPod } from './protocol.ts';

type ConnectArgs = unknown[];

function refuse(socket: net.Socket, message: string): net.Socket {
  const error = Object.assign(new Error(`${message} (blocked by the mesh capture)`), { code: 'EACCES' });
  process.nextTick(() => socket.destroy(error));
  return socket;
}

const init = await new Promise<CaptureInit>((resolve, reject) => {
  if (typeof process.send !== 'function') {
    reject(new Error('trustusbank capture: no IPC channel; pods are started by the engine'));
    return;
  }
  process.once('message', (message: unknown) => {
    const init = message as CaptureInit;
    if (init?.type === 'tub/capture-init') resolve(init);
    else reject(new Error('trustusbank capture: unexpected first message'));
  });
});

const clusterDns = new Map(Object.entries(init.dns));
process.on('message', (message: ToPod) => {
  if (message?.type === 'tub/dns') for (const [name, ip] of Object.entries(message.dns)) clusterDns.set(name, ip);
});
// The channel must not keep a finished command alive, and its end means the engine is gone.
process.channel?.unref();
// In its own PID namespace a pod is PID 1, which the kernel gives no default signal actions: the engine stops
// it by closing the channel, and the workload's own SIGTERM handler (if it has one) runs as on a signal.
process.on('disconnect', () => {
  if (process.listenerCount('SIGTERM') > 0) process.emit('SIGTERM', 'SIGTERM');
  else process.exit(143);
});

// --- outbound: net.Socket.prototype.connect ------------------------------------------------------------

interface ConnectOptions {
  host?: string;
  port?: number | string;
  path?: string | null;
  timeout?: number;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
}

/** The forms Socket#connect accepts: (options[, cb]), (port[, host][, cb]), (path[, cb]), or Node's normalized [options, cb]. */
function connectOptions(args: ConnectArgs): [ConnectOptions, (() => void) | undefined] {
  if (Array.isArray(args[0])) return [args[0][0] as ConnectOptions, args[0][1] as (() => void) | undefined];
  const callback = args.find((arg) => typeof arg === 'function') as (() => void) | undefined;
  const first = args[0];
  if (typeof first === 'object' && first !== null) return [first as ConnectOptions, callback];
  if (typeof first === 'string' && !/^\d+$/.test(first)) return [{ path: first }, callback];
  return [{ port: first as number | string, host: typeof args[1] === 'string' ? args[1] : undefined }, callback];
}

const originalConnect = net.Socket.prototype.connect;

net.Socket.prototype.connect = function capturedConnect(this: net.Socket, ...args: ConnectArgs): net.Socket {
  const [options, callback] = connectOptions(args);
  if (this instanceof tls.TLSSocket) return refuse(this, 'TLS connections must be made with tls.connect');
  // http.Agent passes `path: null` with a TCP host and port; only a real path is a Unix socket.
  if (options.path !== undefined && options.path !== null) return refuse(this, `connecting to the local socket ${options.path} is not allowed`);
  const port = Number(options.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return refuse(this, `invalid port ${String(options.port)}`);
  const host = options.host ?? 'localhost';
  const redirected: ConnectOptions = { ...init.ztunnel };
  for (const key of ['timeout', 'noDelay', 'keepAlive', 'keepAliveInitialDelay'] as const) {
    if (options[key] !== undefined) (redirected as Record<string, unknown>)[key] = options[key];
  }
  (originalConnect as (options: ConnectOptions, cb?: () => void) => net.Socket).call(this, redirected, callback);
  // Queued before anything the application writes: the socket is still connecting, so order is kept. The
  // request the workload is serving, if it traces (OpenTelemetry's API: one registry per process, whichever
  // copy of the API set it up), names the trace ztunnel's span for this connection joins.
  this.write(encodePreamble(init.token, host, port, activeTraceparent()));
  // Node holds a write made while connecting until the socket emits 'connect', through the listener that
  // write has just registered; that one listener must run when the connection is up, the others not yet.
  const flushPreamble = this.rawListeners('connect').at(-1) as (() => void) | undefined;
  holdConnectUntilAck(this, host, port, flushPreamble);
  return this;
} as typeof net.Socket.prototype.connect;

function activeTraceparent(): string | undefined {
  try {
    const span = trace.getSpanContext(context.active());
    if (!span || !trace.isSpanContextValid(span)) return undefined;
    return `00-${span.traceId}-${span.spanId}-${(span.traceFlags & 1) === 1 ? '01' : '00'}`;
  } catch {
    return undefined;
  }
}

/**
 * The TCP connection to ztunnel completes at once; the application must not see 'connect' (or 'ready') until
 * ztunnel has reached the destination and sent its one-byte ack. Until then the first bytes read are taken
 * off before the stream sees them; a close or reset before the ack is a failed connect.
 */
function holdConnectUntilAck(socket: net.Socket, host: string, port: number, flushPreamble: (() => void) | undefined): void {
  const emit = socket.emit;
  const push = socket.push;
  const held: string[] = [];
  const restore = (): void => {
    socket.emit = emit;
    socket.push = push;
  };
  socket.emit = function heldEmit(this: net.Socket, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'connect' || event === 'ready') {
      if (event === 'connect') {
        flushPreamble?.call(this);
        startReading(this);
      }
      held.push(event);
      return true;
    }
    if (event === 'error' || event === 'close') restore();
    return (emit as (event: string | symbol, ...a: unknown[]) => boolean).call(this, event, ...args);
  } as typeof socket.emit;
  socket.push = function ackPush(this: net.Socket, chunk: Buffer | null, encoding?: BufferEncoding): boolean {
    restore();
    if (chunk === null || chunk.length === 0 || chunk[0] !== CONNECT_ACK) {
      // ztunnel resets a connection it will not carry; on a Unix socket that reset arrives as an end of stream.
      const error = Object.assign(new Error(`read ECONNRESET (${host}:${port} refused by the mesh)`), { code: 'ECONNRESET', address: host, port });
      socket.destroy(error);
      return false;
    }
    for (const event of held) (emit as (event: string) => boolean).call(socket, event);
    return chunk.length > 1 ? push.call(socket, chunk.subarray(1), encoding) : true;
  } as typeof socket.push;
}

/**
 * The ack must be read while 'connect' is held back. Node starts reading on its own after connecting, unless
 * a read was asked for while connecting (a 'data' listener attached before 'connect'): that read waits for
 * the 'connect' event this shim holds until the ack, which would never be read. So start reading here, as
 * Node's own `_read` would (it checks `_handle.reading` and will not start twice).
 */
function startReading(socket: net.Socket): void {
  const handle = (socket as unknown as { _handle?: { reading?: boolean; readStart?: () => number } })._handle;
  if (!handle || handle.reading || typeof handle.readStart !== 'function') return;
  handle.reading = true;
  const error = handle.readStart();
  if (error) socket.destroy(Object.assign(new Error(`read failed (${error})`), { code: 'EIO' }));
}

// --- outbound TLS: give tls.connect an already-captured plain socket ----------------------------------

const originalTlsConnect = tls.connect;

function tlsOptions(args: unknown[]): [tls.ConnectionOptions, (() => void) | undefined] {
  const callback = args.find((arg) => typeof arg === 'function') as (() => void) | undefined;
  if (typeof args[0] === 'object' && args[0] !== null) return [args[0] as tls.ConnectionOptions, callback];
  const extra = args.find((arg, i) => i > 0 && typeof arg === 'object' && arg !== null) as tls.ConnectionOptions | undefined;
  return [{ ...extra, port: Number(args[0]), host: typeof args[1] === 'string' ? args[1] : extra?.host }, callback];
}

tls.connect = function capturedTlsConnect(...args: unknown[]): tls.TLSSocket {
  const [options, callback] = tlsOptions(args);
  if (options.socket) return originalTlsConnect(options, callback);
  const host = options.host ?? 'localhost';
  const socket = net.connect({ host, port: Number(options.port ?? 443) });
  const servername = options.servername ?? (net.isIP(host) ? undefined : host);
  return originalTlsConnect({ ...options, socket, ...(servername ? { servername } : {}) }, callback);
} as typeof tls.connect;

// --- cluster DNS ---------------------------------------------------------------------------------------

function clusterAddress(hostname: string): string | undefined {
  const qualified = qualifyServiceName(hostname, init.namespace);
  return qualified === undefined ? undefined : clusterDns.get(qualified);
}

const originalLookup = dns.lookup;
dns.lookup = function capturedLookup(hostname: string, ...rest: unknown[]): void {
  const address = clusterAddress(hostname);
  const callback = rest.find((arg) => typeof arg === 'function') as ((...a: unknown[]) => void) | undefined;
  if (address === undefined || callback === undefined) return (originalLookup as (...a: unknown[]) => void)(hostname, ...rest);
  const options = rest[0];
  const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true;
  process.nextTick(() => (all ? callback(null, [{ address, family: 4 }]) : callback(null, address, 4)));
} as typeof dns.lookup;

const originalPromisesLookup = dns.promises.lookup;
dns.promises.lookup = async function capturedPromisesLookup(hostname: string, options?: unknown) {
  const address = clusterAddress(hostname);
  if (address === undefined) return (originalPromisesLookup as (h: string, o?: unknown) => Promise<unknown>)(hostname, options);
  const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true;
  return all ? [{ address, family: 4 }] : { address, family: 4 };
} as typeof dns.promises.lookup;

// --- inbound: listen on a Unix socket in the pod's socket directory, report it ---------------------------

const originalListen = net.Server.prototype.listen;
/** Ports for listen(0): what the workload sees as its port, each a socket of its own. */
let nextEphemeralPort = 32768;

net.Server.prototype.listen = function capturedListen(this: net.Server, ...args: unknown[]): net.Server {
  const first = args[0];
  const callback = args.find((arg) => typeof arg === 'function') as (() => void) | undefined;
  let containerPort: number | undefined;
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) containerPort = Number(first);
  else if (typeof first === 'object' && first !== null && 'port' in first) containerPort = Number((first as { port: unknown }).port);
  else if (first === undefined || typeof first === 'function') containerPort = 0;
  if (containerPort === undefined || !Number.isInteger(containerPort) || containerPort < 0 || containerPort > 65535) {
    const error = Object.assign(new Error('only TCP listeners are allowed in the mesh'), { code: 'EACCES' });
    process.nextTick(() => this.emit('error', error));
    return this;
  }
  const port = containerPort === 0 ? nextEphemeralPort++ : containerPort;
  const path = listenSocketPath(init.listenDir, port);
  // A socket file left by the pod's previous run (a restart) would make the bind fail.
  rmSync(path, { force: true });
  // The workload asked for a TCP port and is told it has one.
  this.address = () => ({ address: '0.0.0.0', family: 'IPv4', port });
  capturedServers.add(this);
  this.once('listening', () => process.send?.({ type: 'tub/listening', containerPort: port, path }));
  return (originalListen as (...a: unknown[]) => net.Server).call(this, path, ...(callback ? [callback] : []));
} as typeof net.Server.prototype.listen;

// --- inbound: the source line before the workload sees a connection ----------------------------------------

const capturedServers = new WeakSet<net.Server>();
const SOURCE_LINE_TIMEOUT_MS = 5000;
const originalServerEmit = net.Server.prototype.emit as (this: net.Server, event: string | symbol, ...args: unknown[]) => boolean;

net.Server.prototype.emit = function capturedEmit(this: net.Server, event: string | symbol, ...args: unknown[]): boolean {
  if (event !== 'connection' || !capturedServers.has(this)) return originalServerEmit.call(this, event, ...args);
  const socket = args[0] as net.Socket;
  readSourceLine(socket, (source) => {
    // A Unix socket has no peer address: the one the node vouched for takes its place (none for UNKNOWN).
    if (source) {
      Object.defineProperty(socket, 'remoteAddress', { value: source.address, configurable: true });
      Object.defineProperty(socket, 'remotePort', { value: source.port, configurable: true });
      Object.defineProperty(socket, 'remoteFamily', { value: source.address.includes(':') ? 'IPv6' : 'IPv4', configurable: true });
    }
    originalServerEmit.call(this, 'connection', socket);
  });
  return true;
} as unknown as typeof net.Server.prototype.emit;

/** Read the node's source line off a fresh connection, leave the bytes after it unread, then call `done`. */
function readSourceLine(socket: net.Socket, done: (source: { address: string; port: number } | null) => void): void {
  let buffered = Buffer.alloc(0);
  const fail = (): void => {
    cleanup();
    // Not from the node: nothing vouches for the peer, and the workload never sees the connection.
    socket.destroy();
  };
  const timer = setTimeout(fail, SOURCE_LINE_TIMEOUT_MS);
  const onData = (chunk: Buffer): void => {
    buffered = Buffer.concat([buffered, chunk]);
    const end = buffered.indexOf('\r\n');
    if (end === -1) {
      if (buffered.length > MAX_SOURCE_LINE_BYTES) fail();
      return;
    }
    const source = decodeSourceLine(buffered.subarray(0, end).toString('latin1'));
    if (source === undefined) return fail();
    cleanup();
    socket.pause();
    const rest = buffered.subarray(end + 2);
    if (rest.length > 0) socket.unshift(rest);
    done(source);
    socket.resume();
  };
  const cleanup = (): void => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('error', fail);
    socket.off('end', fail);
  };
  socket.on('data', onData);
  socket.once('error', fail);
  socket.once('end', fail);
}
