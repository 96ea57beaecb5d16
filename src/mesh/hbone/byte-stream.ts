// A tunnel as a plain byte stream. Node's HTTP layer writes its head as a latin1 string, which an HTTP/2
// stream garbles on the way out; whatever speaks HTTP inside an HBONE tunnel must go through this.
import { Duplex } from 'node:stream';

/** A plain Duplex over `tunnel` that hands it Buffers only. */
export function asByteStream(tunnel: Duplex): Duplex {
  const bytes = new Duplex({
    decodeStrings: true,
    // When the far side finishes, so do we (as a TCP socket with allowHalfOpen off): a kept-alive HTTP
    // connection the server closed must close here too, or an agent would reuse a dead tunnel.
    allowHalfOpen: false,
    read: () => tunnel.resume(),
    write: (chunk: Buffer, _encoding, callback) => void tunnel.write(chunk, callback),
    final: (callback) => void tunnel.end(callback),
    destroy: (error, callback) => {
      tunnel.destroy(error ?? undefined);
      callback(error);
    },
  });
  tunnel.on('data', (chunk: Buffer) => {
    if (!bytes.push(chunk)) tunnel.pause();
  });
  tunnel.once('end', () => bytes.push(null));
  tunnel.once('error', (error) => bytes.destroy(error));
  tunnel.once('close', () => bytes.destroy());
  return bytes;
}

