// The agent gateway's state stays bounded (issue 12): MCP client sessions have a cap per caller and in all and
// expire when idle, an evicted or expired session answers 404 as MCP 2025-11-25 says for a terminated session
// (and its upstream sessions are closed), and spans.jsonl rotates by size. The clock is the test's, so
// nothing here waits for time to pass.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { accountMcp } from '../apps/account-mcp/server.ts';
import { openSession, referenceGrantYaml, routeYaml, rpc, serviceYaml, startTestGateway, type TestGateway } from '../testing/gateway.ts';
import { startTestWorkload, type TestWorkload } from '../testing/workloads.ts';

const ACCOUNT = 'account-mcp.trustusbank-bank-mcp.svc.cluster.local:8080';
const YAML = [
  referenceGrantYaml('trustusbank-bank-mcp'),
  serviceYaml('account-mcp', 'trustusbank-bank-mcp'),
  routeYaml('account-mcp-route', '/mcp/account', { service: 'account-mcp', namespace: 'trustusbank-bank-mcp' }),
].join('\n---\n');
const LIST = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
const SECOND = 1000;
const MINUTE = 60 * SECOND;

describe('gateway bounds', () => {
  let account: TestWorkload;
  let gw: TestGateway | undefined;
  let clock = 1_000_000;

  beforeAll(async () => {
    account = await startTestWorkload('account-mcp', accountMcp);
  });
  afterAll(async () => {
    await gw?.close();
    await account?.close();
  });

  const upstreamSessions = async (): Promise<number> => ((await (await fetch(`${account.url}/healthz`)).json()) as { mcp_sessions: number }).mcp_sessions;

  it('caps MCP sessions per caller and in all, evicts only idle ones, and expires idle sessions with 404', async () => {
    gw = await startTestGateway({
      yaml: YAML,
      upstreams: { [ACCOUNT]: account.url },
      bounds: { mcpSessions: { maxSessions: 3, maxPerCaller: 2, idleMs: 10 * MINUTE, minIdleToEvictMs: MINUTE }, now: () => clock },
    });
    const a = `${await gw.as('trustusbank-bank-agents', 'support-bot')}/mcp/account`;
    const b = `${await gw.as('trustusbank-bank-agents', 'fraud-bot')}/mcp/account`;
    const c = `${await gw.as('trustusbank-bank-agents', 'triage-bot')}/mcp/account`;
    const list = async (url: string, session: Record<string, string>) => rpc(url, LIST, session);

    const b1 = await openSession(b);
    clock += SECOND;
    const a1 = await openSession(a);
    clock += SECOND;
    const a2 = await openSession(a);
    clock += SECOND;

    // The attack: one caller opening sessions without end. It loses its own oldest, never another caller's.
    const a3 = await openSession(a);
    const evicted = await list(a, a1);
    expect(evicted.status).toBe(404);
    expect(evicted.body.error).toMatchObject({ code: -32001, message: 'Session not found' });
    for (const [url, session] of [[b, b1], [a, a2], [a, a3]] as const) expect((await list(url, session)).status).toBe(200);

    // Full, and every session was used within the last minute (any may be mid-request): a new one is refused.
    clock += SECOND;
    const refused = await rpc(c, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
    expect(refused.status).toBe(503);
    expect(refused.body.error?.message).toMatch(/Service unavailable: .*at most 3/);
    expect((await list(b, b1)).status).toBe(200);

    // A minute on, with a2 and a3 in use, b1 is the least recently used idle session: a new caller's session replaces it.
    clock += MINUTE + SECOND;
    for (const session of [a2, a3]) expect((await list(a, session)).status).toBe(200);
    const c1 = await openSession(c);
    expect((await list(b, b1)).status).toBe(404);
    expect((await list(c, c1)).status).toBe(200);
    // The evicted sessions' upstream sessions were closed with them: the upstream holds one per live session.
    await vi.waitFor(async () => expect(await upstreamSessions()).toBe(3));

    // Idle expiry: ten minutes without a request and a session is gone, for requests and DELETE alike.
    clock += 10 * MINUTE + SECOND;
    expect((await list(a, a2)).status).toBe(404);
    const deleted = await fetch(a, { method: 'DELETE', headers: a3 });
    expect(deleted.status).toBe(404);

    // The clean path: the caller initializes again and is served; expired sessions were closed upstream too.
    const fresh = await openSession(a);
    expect((await list(a, fresh)).status).toBe(200);
    await vi.waitFor(async () => expect(await upstreamSessions()).toBe(1));
    await gw.close();
    gw = undefined;
  });

  it('rotates spans.jsonl by size, keeping the configured number of old files of whole JSON lines', async () => {
    gw = await startTestGateway({ yaml: YAML, upstreams: { [ACCOUNT]: account.url }, bounds: { spanRotation: { maxBytes: 4000, keep: 2 } } });
    const url = `${gw.url}/mcp/account`;
    const session = await openSession(url);
    const traceIds: string[] = [];
    for (let i = 0; i < 60; i++) {
      // The caller's trace context names each request's span.
      const traceId = (i + 1).toString(16).padStart(32, '0');
      traceIds.push(traceId);
      expect((await rpc(url, LIST, { ...session, traceparent: `00-${traceId}-00000000000000aa-01` })).status).toBe(200);
    }
    const file = join(gw.dataDir, 'spans.jsonl');
    const files = [file, `${file}.1`, `${file}.2`];
    for (const f of files) {
      expect(existsSync(f)).toBe(true);
      expect(statSync(f).size).toBeLessThanOrEqual(4000);
    }
    expect(existsSync(`${file}.3`)).toBe(false);
    const lines = files
      .reverse()
      .flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean))
      .map((line) => JSON.parse(line) as { traceId: string; name: string });
    // Oldest first across the files: the newest spans are the last requests, in order, none split or lost.
    const kept = lines.map((s) => s.traceId);
    expect(kept.length).toBeGreaterThan(10);
    expect(kept.slice(-10)).toEqual(traceIds.slice(-10));
    // Everything kept is contiguous: rotation drops the oldest whole file, never lines in between.
    const firstKept = traceIds.indexOf(kept.find((id) => traceIds.includes(id))!);
    expect(kept.filter((id) => traceIds.includes(id))).toEqual(traceIds.slice(firstKept));
    expect(firstKept).toBeGreaterThan(0);
    await gw.close();
    gw = undefined;
  });
});
