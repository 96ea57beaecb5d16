// The HTTP client shape the gateway, the control plane's mesh clients and the captured `chat` share: what a
// fetch needs to take and give back for them, so that a client over a Unix socket, over HBONE or web fetch
// itself can stand in for another.

/** The members of a fetch Response the gateway reads (a web Response is one). */
export interface UpstreamResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null; forEach(callback: (value: string, name: string) => void): void };
  readonly body: ReadableStream<Uint8Array> | null;
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export type FetchLike = (
  url: string,
  init: {
    method: string;
    headers: Record<string, string>;
    body?: string;
    signal?: AbortSignal;
    /** the whole exchange, body included */
    timeoutMs?: number;
    /** Safe to send again if a reused connection fails before any answer (default: by HTTP method). */
    replayable?: boolean;
  },
) => Promise<UpstreamResponse>;

/** Web fetch as a FetchLike (its timeout becomes an abort signal). */
export const webFetch: FetchLike = (url, { timeoutMs, signal, replayable: _replayable, ...init }) =>
  fetch(url, { ...init, ...(signal || timeoutMs ? { signal: signal ?? AbortSignal.timeout(timeoutMs!) } : {}) });
