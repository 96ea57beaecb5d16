// The upstream HTTP client of the gateway and of the control plane's mesh clients. Web `fetch` costs about
// half a millisecond per call on Node 20 (Request and Headers objects, web streams, an AbortSignal per
// request); a proxy pays it on every tool call. This client speaks node:http on a keep-alive agent and answers with the few members of a Response
// the gateway reads, turning the body into a web stream only when a caller asks for one (an SSE stream,
// a proxied HTTP body).
import type { Agent, ClientRequest, IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { KeepAlivePool, sendPooled } from './http-pool.ts';
import type { FetchLike, UpstreamResponse } from './fetch.ts';

export interface HttpFetchOptions {
  /** The agent connections come from (default: one keep-alive agent for this client). */
  agentFor?: (url: URL) => Agent | undefined;
  /** Where a URL really goes (tests map cluster names to loopback servers). */
  rewrite?: (url: URL) => URL;
}

export function createHttpFetch(options: HttpFetchOptions = {}): FetchLike & { close(): void } {
  const shared = new KeepAlivePool();
  const client = ((url, init) => {
    const target = options.rewrite ? options.rewrite(new URL(url)) : new URL(url);
    return requestOnce(target, init, options.agentFor?.(target) ?? shared);
  }) as FetchLike & { close(): void };
  client.close = () => shared.destroy();
  return client;
}

/**
 * One request over node:http (sent once more if a reused keep-alive connection fails under it and the
 * request is replayable); the answer is an `UpstreamResponse`.
 */
export function requestOnce(target: URL, init: Parameters<FetchLike>[1], agent: Agent, headersExtra: Record<string, string> = {}): Promise<UpstreamResponse> {
  let current: ClientRequest | undefined;
  // The whole exchange, body included, must finish in time (a socket idle timeout would not see a tunnel).
  const timer = init.timeoutMs ? setTimeout(() => current?.destroy(new Error(`timed out after ${init.timeoutMs} ms`)), init.timeoutMs) : undefined;
  timer?.unref();
  return sendPooled({
    options: {
      agent,
      host: target.hostname,
      port: target.port || 80,
      method: init.method,
      path: `${target.pathname}${target.search}`,
      headers: { ...init.headers, ...headersExtra, ...(init.body !== undefined ? { 'content-length': String(Buffer.byteLength(init.body)) } : {}) },
      ...(init.signal ? { signal: init.signal } : {}),
    },
    ...(init.body !== undefined ? { body: init.body } : {}),
    ...(init.replayable !== undefined ? { replayable: init.replayable } : {}),
    onAttempt: (req) => (current = req),
  }).then(
    (res) => upstreamResponse(res, init.method, () => clearTimeout(timer)),
    (error: unknown) => {
      clearTimeout(timer);
      throw error;
    },
  );
}

export function upstreamResponse(res: IncomingMessage, method: string, done: () => void = () => undefined): UpstreamResponse {
  const status = res.statusCode ?? 502;
  const bodyless = method === 'HEAD' || status === 204 || status === 304;
  res.once('close', done);
  let collected: Promise<Buffer> | undefined;
  const collect = (): Promise<Buffer> =>
    (collected ??= new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => resolve(Buffer.concat(chunks)));
      res.once('error', reject);
      res.once('aborted', () => reject(new Error('upstream closed the response early')));
    }));
  const text = async (): Promise<string> => (await collect()).toString('utf8');
  const value = (raw: string | string[] | undefined): string | null => (raw === undefined ? null : Array.isArray(raw) ? raw.join(', ') : raw);
  if (bodyless) res.resume();
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: {
      get: (name) => value(res.headers[name.toLowerCase()]),
      forEach: (callback) => {
        for (const [name, raw] of Object.entries(res.headers)) {
          const v = value(raw);
          if (v !== null) callback(v, name);
        }
      },
    },
    get body() {
      return bodyless ? null : (Readable.toWeb(res) as WebReadableStream<Uint8Array> as unknown as ReadableStream<Uint8Array>);
    },
    text,
    json: async () => JSON.parse(await text()) as unknown,
    arrayBuffer: async () => {
      const bytes = await collect();
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}
