// Reading the capture preamble off a freshly accepted socket without losing the application bytes that may
// arrive in the same packet.
import type { Socket } from 'node:net';
import { MAX_PREAMBLE_BYTES, decodePreamble, type CapturedDestination } from '../capture/protocol.ts';

export class PreambleError extends Error {
  override readonly name = 'PreambleError';
}

export function readPreamble(socket: Socket, timeoutMs = 5000): Promise<{ destination: CapturedDestination; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new PreambleError('no capture preamble in time')), timeoutMs);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n');
      if (end === -1) {
        if (buffered.length > MAX_PREAMBLE_BYTES) finish(new PreambleError('capture preamble too long'));
        return;
      }
      const destination = decodePreamble(buffered.subarray(0, end).toString('latin1'));
      if (!destination) return finish(new PreambleError('malformed capture preamble'));
      finish(undefined, { destination, rest: buffered.subarray(end + 2) });
    };
    const onEnd = (): void => finish(new PreambleError('connection closed before the capture preamble'));
    const finish = (error?: Error, result?: { destination: CapturedDestination; rest: Buffer }): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onEnd);
      socket.pause();
      if (error) reject(error);
      else resolve(result!);
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onEnd);
  });
}
