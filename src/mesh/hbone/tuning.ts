// HTTP/2 settings for HBONE. Node's defaults (64 KiB windows) cap one stream at one window per round trip,
// which on loopback is a fraction of what TCP carries. ztunnel's defaults are the reference: 4 MiB per stream,
// 16 MiB per connection (4× a stream, so one busy stream cannot starve the others and stall the session).

export interface Http2Tuning {
  /** SETTINGS_INITIAL_WINDOW_SIZE: how much one stream may have in flight towards us. */
  streamWindowBytes: number;
  /** The connection-level window we grant, set with session.setLocalWindowSize once the session is up. */
  connectionWindowBytes: number;
  /** SETTINGS_MAX_FRAME_SIZE we accept. */
  maxFrameBytes: number;
  /** Node's per-session memory cap (MiB) before it refuses new streams; it must cover the windows above. */
  maxSessionMemoryMiB: number;
}

export const DEFAULT_HTTP2_TUNING: Http2Tuning = {
  streamWindowBytes: 4 * 1024 * 1024,
  connectionWindowBytes: 16 * 1024 * 1024,
  maxFrameBytes: 1024 * 1024,
  maxSessionMemoryMiB: 64,
};

export function http2Settings(tuning: Http2Tuning): { initialWindowSize: number; maxFrameSize: number; enablePush: false } {
  return { initialWindowSize: tuning.streamWindowBytes, maxFrameSize: tuning.maxFrameBytes, enablePush: false };
}
