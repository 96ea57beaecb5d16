// Nothing crashes, nothing is silently lost, nothing is world-readable.
// The attacks: a seeded corpus of malformed request-targets, headers and bodies sent raw to every HTTP server
// of the stack — the host ports, the admin socket, and pods through the mesh with a pod's identity — used to
// end processes (one `//%5B` stopped the whole stack). A presenter's pause of about five seconds between
// questions used to lose tool calls on pooled connections the servers were closing.
// The clean path: after the corpus, every pod still runs with the same pid and restart count, and chats in
// bursts across the old five-second edge answer with every tool call. The state they leave is private.
import { connect, type Socket } from 'node:net';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturedConnect } from '../src/control-plane/captured-fetch.ts';
import { adminSocketPath } from '../src/runtime/stack-state.ts';
import { startTestCluster, type TestCluster } from '../testing/cluster.ts';

const SEED = 0x5eed_2026;
const RANDOM_TARGETS = 6;
const ANSWER_TIMEOUT_MS = 10_000;
const SEED_PROMPT = 'I am customer 12345. Please check my balance, list my recent transactions, and convert my balance to USD.';

/** mulberry32: a tiny seeded generator, so a failure names a corpus that can be replayed exactly. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Case {
  name: string;
  bytes: string;
}

/** The corpus for one server: fixed shapes that crashed or confused servers, then seeded random targets. */
function corpus(host: string, protocolPath: string, random: () => number): Case[] {
  const request = (method: string, target: string, headers: string[] = [], body = ''): string =>
    [`${method} ${target} HTTP/1.1`, `host: ${host}`, 'connection: close', ...headers, ...(body !== '' || method === 'POST' ? [`content-length: ${Buffer.byteLength(body)}`] : []), '', body].join('\r\n');
  const json = 'content-type: application/json';
  const cases: Case[] = [
    { name: 'target //%5B', bytes: request('GET', '//%5B') },
    { name: 'target //x:99999', bytes: request('GET', '//x:99999') },
    { name: 'target //x:99999 on the protocol path', bytes: request('POST', `//x:99999${protocolPath}`, [json], '{}') },
    { name: 'asterisk-form', bytes: request('GET', '*') },
    { name: 'absolute-form', bytes: request('GET', 'http://evil.example:99999/') },
    { name: 'lone percent', bytes: request('GET', '/%') },
    { name: 'encoded traversal', bytes: request('GET', '/..%2f..%2f..%2fetc%2fpasswd') },
    { name: 'query of bad escapes', bytes: request('GET', '/nowhere?%zz=%ff&%') },
    { name: 'truncated JSON', bytes: request('POST', protocolPath, [json, 'accept: application/json, text/event-stream'], '{"jsonrpc":"2.0","id":1,"method":') },
    { name: 'JSON of the wrong shape', bytes: request('POST', protocolPath, [json, 'accept: application/json, text/event-stream'], '"just a string"') },
    { name: 'not JSON at all', bytes: request('POST', protocolPath, ['content-type: text/plain', 'accept: application/json, text/event-stream'], '\u0000\u00ff garbage') },
    { name: 'two content-lengths', bytes: request('POST', protocolPath, [json, 'content-length: 5'], '{}') },
    { name: 'a content-length that is no number', bytes: [`POST ${protocolPath} HTTP/1.1`, `host: ${host}`, 'connection: close', 'content-length: abc', '', ''].join('\r\n') },
    { name: 'a bad chunk size', bytes: [`POST ${protocolPath} HTTP/1.1`, `host: ${host}`, 'connection: close', 'transfer-encoding: chunked', '', 'zz', '{}', '0', '', ''].join('\r\n') },
    { name: 'a header line with no colon', bytes: request('GET', '/', ['this is not a header']) },
    { name: 'a 20 KB header', bytes: request('GET', '/', [`x-big: ${'a'.repeat(20_000)}`]) },
    { name: 'a control character in the target', bytes: request('GET', '/a\u0001b') },
  ];
  const alphabet = ['/', '//', '%', '%5B', '%5D', '[', ']', ':', '99999', '@', '\\', '?', '#', '..', '%2e', '%00', 'x', 'é'];
  for (let i = 0; i < RANDOM_TARGETS; i++) {
    let target = random() < 0.8 ? '//' : '/';
    const parts = 2 + Math.floor(random() * 6);
    for (let p = 0; p < parts; p++) target += alphabet[Math.floor(random() * alphabet.length)];
    cases.push({ name: `random target ${JSON.stringify(target)}`, bytes: request(random() < 0.5 ? 'GET' : 'POST', target, [json], random() < 0.5 ? '{' : '') });
  }
  return cases;
}

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/** Write the bytes, read until the server closes (every case asks for `connection: close`). */
function exchange(socket: Socket, bytes: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${ANSWER_TIMEOUT_MS} ms`));
    }, ANSWER_TIMEOUT_MS);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const head = split < 0 ? text : text.slice(0, split);
      let body = split < 0 ? '' : text.slice(split + 4);
      if (/\r\ntransfer-encoding: *chunked/i.test(head)) body = dechunk(body);
      // The first answer only: a server may answer early (405 before reading a bad body), then refuse the rest.
      const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
      if (length !== undefined) body = Buffer.from(body).subarray(0, Number(length)).toString('utf8');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), contentType: /\r\ncontent-type: *([^\r\n;]+)/i.exec(head)?.[1]?.toLowerCase() ?? '', body });
    });
    socket.write(bytes);
  });
}

function dechunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const line = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, line), 16);
    if (line < 0 || !(size > 0)) return out;
    out += rest.slice(line + 2, line + 2 + size);
    rest = rest.slice(line + 2 + size + 2);
  }
}

/**
 * What a server may answer to a malformed request: a 4xx in its shape — JSON with an `error`, a JSON-RPC
 * error, an HTML page (the UIs' pages), a plain line (the waypoint, as Envoy) — or, for JSON-RPC endpoints,
 * the protocol's error object with HTTP 200 (A2A answers a JSON-RPC error so, as its specification says).
 */
function problemWith(answer: Answer): string | undefined {
  let parsed: Record<string, unknown> | undefined;
  if (answer.contentType === 'application/json') {
    try {
      parsed = JSON.parse(answer.body) as Record<string, unknown>;
    } catch {
      return `a body that is not JSON: ${answer.body.slice(0, 100)}`;
    }
  }
  const jsonRpcError = parsed?.jsonrpc === '2.0' && typeof parsed.error === 'object' && parsed.error !== null;
  if (answer.status === 200 && jsonRpcError) return undefined;
  if (answer.status < 400 || answer.status > 499) return `HTTP ${answer.status || '(no answer)'}: ${answer.body.slice(0, 200)}`;
  if (answer.contentType === 'application/json') return jsonRpcError || parsed?.error !== undefined ? undefined : `JSON without an error: ${answer.body.slice(0, 100)}`;
  if (answer.contentType === 'text/event-stream') return /"error"/.test(answer.body) ? undefined : `an event stream without an error: ${answer.body.slice(0, 100)}`;
  if (answer.contentType === 'text/html') return answer.body.includes('<') ? undefined : 'an empty page';
  if (answer.contentType === 'text/plain') return answer.body.trim() !== '' ? undefined : 'an empty text answer';
  return `an answer of type "${answer.contentType}": ${answer.body.slice(0, 100)}`;
}

describe('the stack against malformed requests, idle gaps and curious neighbours', () => {
  let t: TestCluster;
  let podsBefore: Map<string, { pid: number | undefined; restarts: number }>;

  const podState = () => new Map(t.cluster.engine.allPods().map((pod) => [pod.uid, { pid: pod.pid, restarts: pod.restarts }]));

  beforeAll(async () => {
    t = await startTestCluster();
    podsBefore = podState();
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  it('answers every malformed request on every server with a 4xx in its shape, and nothing exits', async () => {
    const random = seeded(SEED);
    const forward = (service: string) => t.cluster.forwards.find((f) => f.service === service)!.port;
    const tcp = (port: number) => () => connect({ host: '127.0.0.1', port });
    const token = t.cluster.engine.execToken('trustusbank-bank-agents', 'support-bot');
    expect(token, 'a pod to speak from').toBeDefined();
    const servers: { name: string; host: string; protocolPath: string; open: () => Promise<Socket> | Socket }[] = [
      { name: 'registry (host port)', host: '127.0.0.1', protocolPath: '/api/entries', open: tcp(forward('registry')) },
      { name: 'agents UI (host port)', host: '127.0.0.1', protocolPath: '/api/sessions', open: tcp(forward('agents-ui')) },
      { name: 'agent gateway (host port)', host: '127.0.0.1', protocolPath: '/mcp/account', open: tcp(forward('trustusbank-agentgw')) },
      { name: 'mock-attacker pod (host port)', host: '127.0.0.1', protocolPath: '/loot', open: tcp(forward('mock-attacker')) },
      { name: 'admin API (Unix socket)', host: 'engine', protocolPath: '/apply', open: () => connect({ path: adminSocketPath(t.dataDir) }) },
      ...[
        ['account-mcp pod (mesh, via its waypoint)', 'account-mcp.trustusbank-bank-mcp.svc.cluster.local', '/mcp'],
        ['support-bot agent pod (mesh, via its waypoint)', 'support-bot.trustusbank-bank-agents.svc.cluster.local', '/'],
        ['agent gateway (mesh)', 'trustusbank-agentgw.trustusbank-platform.svc.cluster.local', '/mcp/account'],
        ['mock-attacker pod (mesh)', 'mock-attacker.external-attacker.svc.cluster.local', '/loot'],
      ].map(([name, host, protocolPath]) => ({
        name: name!,
        host: `${host!}:8080`,
        protocolPath: protocolPath!,
        // Through the mesh as the support-bot pod: its ztunnel, HBONE, the destination's waypoint or ztunnel.
        open: () => capturedConnect(t.cluster.engine.captureEndpoint(), token!.token, host!, 8080),
      })),
    ];
    const problems: string[] = [];
    let sent = 0;
    for (const server of servers) {
      for (const entry of corpus(server.host, server.protocolPath, random)) {
        sent++;
        try {
          const answer = await exchange(await server.open(), entry.bytes);
          const problem = problemWith(answer);
          if (problem) problems.push(`${server.name}, ${entry.name}: ${problem}`);
        } catch (error) {
          problems.push(`${server.name}, ${entry.name}: ${(error as Error).message}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(sent).toBe(servers.length * (17 + RANDOM_TARGETS));
    expect(podState()).toEqual(podsBefore);
  }, 120_000);

  it('loses no tool call in bursts of chats across the old five-second keep-alive edge', async () => {
    const lost: string[] = [];
    for (const gapMs of [0, 4_900, 5_000, 5_100]) {
      await new Promise((resolve) => setTimeout(resolve, gapMs));
      const answers = await Promise.all([1, 2].map(() => t.chat(SEED_PROMPT)));
      for (const answer of answers) {
        const names = answer.tools.map((c) => c.name).join(',');
        if (answer.failed || names !== 'get_balance,list_recent,convert_currency' || !answer.reply.includes('$5,445.19')) lost.push(`after ${gapMs} ms: ${names}: ${answer.reply.slice(0, 200)}`);
      }
    }
    expect(lost).toEqual([]);
    expect(podState()).toEqual(podsBefore);
  }, 120_000);

  it("keeps the data directory and the customer data the owner's alone", () => {
    const mode = (path: string) => statSync(path).mode & 0o777;
    expect(mode(t.dataDir)).toBe(0o700);
    const bank = join(t.dataDir, 'volumes', 'trustusbank-bank-mcp');
    const databases = readdirSync(bank, { recursive: true, encoding: 'utf8' }).filter((file) => /\.sqlite(-wal|-shm)?$/.test(file));
    const sessions = readdirSync(join(t.dataDir, 'volumes', 'trustusbank-bank-agents'), { recursive: true, encoding: 'utf8' }).filter((file) => /sessions\.db(-wal|-shm)?$/.test(file));
    expect(databases.length).toBeGreaterThan(0);
    expect(sessions.length).toBeGreaterThan(0);
    for (const file of databases) expect([file, mode(join(bank, file))]).toEqual([file, 0o600]);
    for (const file of sessions) expect([file, mode(join(t.dataDir, 'volumes', 'trustusbank-bank-agents', file))]).toEqual([file, 0o600]);
  });
});
