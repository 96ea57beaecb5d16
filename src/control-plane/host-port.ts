// Host ports: a Service (or an agent Gateway) annotated with `trustusbank.io/host-port` is also reachable on the
// host's loopback, straight to a ready pod as `kubectl port-forward` reaches it (not through the mesh).
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { UserError } from '../core/errors.ts';
import { encodeSourceLine } from '../mesh/capture/protocol.ts';
import type { MeshView } from '../mesh/ztunnel/state.ts';

/** A Service (or an agent Gateway) annotated with this is also reachable on that port of the host's loopback. */
export const HOST_PORT_ANNOTATION = 'trustusbank.io/host-port';

export interface HostForward {
  namespace: string;
  service: string;
  port: number;
  url: string;
}

/** Like `kubectl port-forward`: a host port straight to a ready pod of the service (not through the mesh). */
export async function forwardHostPort(view: Pick<MeshView, 'service' | 'endpoints' | 'containerPort'>, namespace: string, name: string, port: number, flag?: string): Promise<{ server: Server; forward: HostForward }> {
  const connections = new Set<Socket>();
  const server = createServer((client) => {
    connections.add(client);
    client.once('close', () => connections.delete(client));
    const service = view.service(`${name}.${namespace}`, namespace);
    const servicePort = service?.ports[0];
    const pod = service ? view.endpoints(service)[0] : undefined;
    const containerPort = service && servicePort && pod ? view.containerPort(service, servicePort, pod) : undefined;
    const target = containerPort !== undefined ? pod?.listeners.get(containerPort) : undefined;
    if (target === undefined) {
      client.destroy();
      return;
    }
    const upstream = tcpConnect(target);
    // The pod sees the host client's address, as behind `kubectl port-forward`; a line the client sends
    // itself comes after this one, as application data.
    upstream.write(encodeSourceLine(client.remoteAddress ? { address: client.remoteAddress.replace(/^::ffff:/, ''), port: client.remotePort ?? 0 } : undefined));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new UserError(`port ${port} on 127.0.0.1 (for ${namespace}/${name}) is already in use; choose another with ${flag ?? `--host-port ${namespace}/${name}=N`}`)
          : error,
      ),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as { port: number }).port;
  // server.close() waits for open connections: end them, or a kept-alive browser would hold shutdown.
  const close = server.close.bind(server);
  server.close = ((callback?: (error?: Error) => void) => {
    for (const connection of connections) connection.destroy();
    return close(callback);
  }) as typeof server.close;
  return { server, forward: { namespace, service: name, port: bound, url: `http://127.0.0.1:${bound}/` } };
}
