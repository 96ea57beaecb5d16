// Small HTTP helpers shared by every server we run: listening with a useful error, bounded body reads,
// JSON answers.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UserError } from './errors.ts';

export interface ListenOptions {
  host: string;
  port: number;
  /** How the user moves this listener to another port, e.g. "--port N" or "--attacker-port N". */
  portHint: string;
}

export interface BoundAddress {
  host: string;
  port: number;
  url: string;
}

/** Listen, turning "address in use" and "permission denied" into errors that name the port and the fix. */
export function listen(server: Server, options: ListenOptions): Promise<BoundAddress> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE') {
        reject(new UserError(`port ${options.port} on ${options.host} is already in use; choose another with ${options.portHint}`));
      } else if (error.code === 'EACCES') {
        reject(new UserError(`not allowed to listen on port ${options.port} on ${options.host}; choose another with ${options.portHint}`));
      } else if (error.code === 'EADDRNOTAVAIL') {
        reject(new UserError(`address ${options.host} is not available on this machine`));
      } else {
        reject(error);
      }
    };
    const onListening = (): void => {
      server.off('error', onError);
      const address = server.address() as AddressInfo;
      resolve({ host: options.host, port: address.port, url: `http://${hostForUrl(options.host)}:${address.port}` });
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(options.port, options.host);
  });
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Close a server and every connection it holds (keep-alive sockets would otherwise delay exit). */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  constructor(readonly limit: number) {
    super(`request body exceeds ${limit} bytes`);
  }
}

/** Read a request body, refusing (without buffering the rest) once it passes `maxBytes`. */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw new BodyTooLargeError(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new BodyTooLargeError(maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
