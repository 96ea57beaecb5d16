// HTTP from the control plane as a mesh workload: each connection is opened through the node's capture socket
// with a workload's token, exactly as a pod's capture shim opens it, so ztunnel resolves, routes (waypoints
// included), authorizes and reports it as that workload. `trustusbank chat` speaks as the chatbot this way.
import { connect, type Socket } from 'node:net';
import { CONNECT_ACK, encodePreamble, type SocketAddress } from '../mesh/capture/protocol.ts';
import { requestOnce } from '../core/http-fetch.ts';
import type { FetchLike } from '../core/fetch.ts';
import { DialAgent } from './mesh-fetch.ts';
import { activeTraceparent } from '../core/tracing.ts';

/** One captured connection: resolves once ztunnel has reached the destination (its one-byte ack). */
export function capturedConnect(ztunnel: SocketAddress, token: string, host: string, port: number, traceparent?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(ztunnel);
    const fail = (error: Error): void => {
      socket.destroy();
      reject(error);
    };
    socket.once('error', fail);
    socket.once('connect', () => socket.write(encodePreamble(token, host, port, traceparent)));
    socket.once('close', () => reject(Object.assign(new Error(`connect ECONNREFUSED ${host}:${port} (refused by the mesh)`), { code: 'ECONNREFUSED' })));
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      socket.removeAllListeners('close');
      socket.off('error', fail);
      if (chunk[0] !== CONNECT_ACK) return fail(Object.assign(new Error(`connect ECONNREFUSED ${host}:${port} (refused by the mesh)`), { code: 'ECONNREFUSED' }));
      if (chunk.length > 1) socket.unshift(chunk.subarray(1));
      resolve(socket);
      // Paused until the HTTP client has attached its reader (it does so once the promise has settled): an
      // explicitly paused socket does not resume when a 'data' listener is added, so resume it then.
      setImmediate(() => socket.resume());
    });
  });
}

/** A fetch whose every connection is a captured one (no keep-alive: each exchange is short and one-off). */
export function createCapturedFetch(ztunnel: () => SocketAddress, token: string): FetchLike {
  return (url, init) => {
    const target = new URL(url);
    const port = Number(target.port || 80);
    // The trace the caller is in goes with the connection, as a pod's shim sends it: ztunnel's span joins it.
    const traceparent = activeTraceparent();
    const agent = new DialAgent(() => capturedConnect(ztunnel(), token, target.hostname, port, traceparent), false);
    return requestOnce(target, init, agent);
  };
}
