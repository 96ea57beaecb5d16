// Test helpers: start a workload in-process on a free loopback port with its own data directory, and talk
// to it with the official MCP client at either protocol revision.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startWorkload, type RunningWorkload, type WorkloadFactory } from '../apps/lib/workload.ts';
import { listen, closeServer } from '../src/core/http.ts';
import { silentLogger } from '../src/core/log.ts';
import { removeTree } from '../src/runtime/images.ts';
import type { PodTemplate } from '../src/runtime/pod.ts';

export const REVISIONS = ['2025-11-25', '2026-07-28'] as const;
export type Revision = (typeof REVISIONS)[number];

export function tempDir(prefix = 'tub-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  // The image store's blobs are read-only directories: removeTree makes them writable first (as their owner may).
  return { path, remove: () => removeTree(path) };
}

/** What someone with write access to the data directory does to a read-only image blob: make it writable,
 *  rewrite it, put the modes back. */
export function rewriteReadOnlyFile(file: string, bytes: string | Uint8Array): void {
  const dir = join(file, '..');
  chmodSync(dir, 0o755);
  chmodSync(file, 0o644);
  writeFileSync(file, bytes);
  chmodSync(file, 0o444);
  chmodSync(dir, 0o555);
}

export interface TestWorkload extends RunningWorkload {
  dataDir: string;
}

export async function startTestWorkload(name: string, factory: WorkloadFactory, options: { env?: NodeJS.ProcessEnv; dataDir?: string } = {}): Promise<TestWorkload> {
  const dir = options.dataDir ? undefined : tempDir();
  const dataDir = options.dataDir ?? dir!.path;
  const running = await startWorkload(name, factory, { host: '127.0.0.1', port: 0, dataDir, env: options.env ?? {}, log: silentLogger });
  return {
    ...running,
    dataDir,
    close: async () => {
      await running.close();
      dir?.remove();
    },
  };
}

/** An official MCP client connected at the given revision. */
export async function connectClient(url: string, revision: Revision): Promise<Client> {
  const client = new Client(
    { name: 'trustusbank-test', version: '1.0.0' },
    revision === '2026-07-28' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {},
  );
  await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', url)));
  return client;
}

export interface CallOutcome {
  isError: boolean;
  value: Record<string, unknown>;
  text: string;
}

/** Call a tool and decode the JSON the bank's servers put in their text content. */
export async function callTool(client: Client, name: string, args: Record<string, unknown>): Promise<CallOutcome> {
  const result = await client.callTool({ name, arguments: args });
  const content = result.content as { type: string; text?: string }[];
  const text = content.find((block) => block.type === 'text')?.text ?? '';
  let value: Record<string, unknown> = {};
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // validation errors from the SDK are plain text
  }
  return { isError: result.isError === true, value, text };
}

export interface Receiver {
  url: string;
  requests: { method: string; path: string; body: string; headers: IncomingMessage['headers'] }[];
  close(): Promise<void>;
}

/** A loopback HTTP server that records requests and answers with `respond` (default: 200 {}). */
export async function startReceiver(respond?: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<Receiver> {
  const requests: Receiver['requests'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', path: req.url ?? '', body, headers: req.headers });
      if (respond) respond(req, res, body);
      else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      }
    });
  });
  const bound = await listen(server, { host: '127.0.0.1', port: 0, portHint: 'n/a' });
  return { url: bound.url, requests, close: () => closeServer(server) };
}

/**
 * A pod's launch in shim mode with no capture behind it, running `script` (an ES module that gets the
 * capture-init message first) from `<dir>/<name>.mjs`: for the runtime's own tests of pods and pod processes.
 */
export function shimModeLaunch(dir: string, name: string, script: string): PodTemplate['launch'] {
  const entry = join(dir, `${name}.mjs`);
  const shim = join(dir, 'no-shim.mjs');
  writeFileSync(shim, '');
  writeFileSync(entry, script);
  return {
    name: `${name}-abc`,
    namespace: 'test',
    entryFile: entry,
    args: [],
    env: {},
    readPaths: [entry, shim, '/'],
    volumeDir: join(dir, name, 'volume'),
    shimFile: shim,
    allowAddons: false,
    logFile: join(dir, name, 'pod.log'),
    socketDir: join(dir, name, 'sock'),
    linkDir: join(dir, 'links'),
    isolation: 'shim',
    capture: { ztunnel: { path: join(dir, 'none.sock') }, namespace: 'test', dns: {} },
  };
}
