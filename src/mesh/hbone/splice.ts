// Joins an HBONE stream to the TCP connection it stands for: bytes both ways with backpressure, half-close
// carried across (END_STREAM ⇄ FIN), and a reset on either side tearing down the other. The server uses it
// for its leg to the target; a source ztunnel uses it between a captured connection and HboneClient.connect's
// stream, so both ends of the mesh treat FIN and RST the same way.
import { constants, type Http2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface SpliceOutcome {
  /** Bytes that came in over HBONE and went to the TCP side. */
  receivedBytes: number;
  /** Bytes that came from the TCP side and went out over HBONE. */
  sentBytes: number;
  /** The first failure on either side; undefined when both closed cleanly. */
  error: Error | undefined;
}

/** `tunnel` is an HBONE stream: one a server received, or one HboneClient.connect resolved with. */
export function spliceTunnel(tunnel: Duplex, socket: Socket, onClosed: (outcome: SpliceOutcome) => void = () => undefined): void {
  splice(tunnel as Http2Stream, socket, onClosed);
}

export function splice(stream: Http2Stream, socket: Socket, onClosed: (outcome: SpliceOutcome) => void): void {
  const outcome: SpliceOutcome = { receivedBytes: 0, sentBytes: 0, error: undefined };
  let open = 2;
  const closedOne = (): void => {
    if (--open === 0) onClosed(outcome);
  };
  const fail = (error: Error): void => {
    outcome.error ??= error;
  };

  // pipe() moves the same Buffer objects along (no copy) and pauses the source when the sink is full, which on
  // the HTTP/2 side withholds WINDOW_UPDATEs and so slows the sender: backpressure end to end.
  stream.pipe(socket);
  socket.pipe(stream);
  stream.on('data', (chunk: Buffer) => (outcome.receivedBytes += chunk.length));
  socket.on('data', (chunk: Buffer) => (outcome.sentBytes += chunk.length));

  stream.on('error', fail);
  socket.on('error', fail);
  // Node emits 'aborted' when the peer resets the stream, before it ends the stream's readable side locally;
  // acting here, before pipe() turns that local end into a FIN, lets the target see the abort as a reset.
  stream.once('aborted', () => abortSocket(socket));
  stream.on('close', () => {
    // Anything but END_STREAM both ways is an abort, including RST_STREAM(NO_ERROR), which is what a Node peer
    // sends when it destroy()s a stream.
    const clean =
      !stream.aborted && (stream.rstCode ?? constants.NGHTTP2_NO_ERROR) === constants.NGHTTP2_NO_ERROR && stream.readableEnded && stream.writableFinished;
    if (!clean) fail(new Error(`HBONE stream reset (HTTP/2 code ${stream.rstCode ?? 'none'}) before both sides ended`));
    if (!clean || outcome.error) abortSocket(socket);
    closedOne();
  });
  socket.on('close', (hadError) => {
    // RFC 9113 §8.5: a TCP reset or error on the far side of a CONNECT is reported as CONNECT_ERROR.
    if ((hadError || outcome.error) && !stream.closed) stream.close(constants.NGHTTP2_CONNECT_ERROR);
    closedOne();
  });
}

/**
 * Close with RST rather than FIN, so an aborted connection never looks like a complete one to its peer. Only
 * TCP has a reset: a Unix socket (a pod's listener, a pod's capture socket) is destroyed, which its peer sees
 * as an end. (Node throws when asked to reset one; out of an event handler, that takes the whole node down.)
 */
export function abortSocket(socket: Socket): void {
  if (socket.destroyed) return;
  // libuv cannot reset a socket whose FIN is already queued (and would then never report it closed).
  if (socket.writableEnded) {
    socket.destroy();
    return;
  }
  try {
    socket.resetAndDestroy();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_INVALID_HANDLE_TYPE') throw error;
    socket.destroy();
  }
}
