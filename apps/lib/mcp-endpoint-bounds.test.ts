// A tool server's 2025-11-25 sessions are bounded like the gateway's: a cap, eviction of the least recently used
// idle session, refusal (503) when every session is in recent use, idle expiry, and 404 for a session that is
// gone. The clock is the test's.
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { McpServer } from '@modelcontextprotocol/server';
import { closeServer, listen } from '../../src/core/http.ts';
import { silentLogger } from '../../src/core/log.ts';
import { createMcpEndpoint, type McpEndpoint } from './mcp-endpoint.ts';

const MINUTE = 60_000;
const INITIALIZE = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
const PING = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' });

describe('MCP endpoint session bounds', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('evicts the least recently used idle session at the cap, refuses when none is idle, and expires idle ones', async () => {
    let clock = 0;
    const endpoint: McpEndpoint = createMcpEndpoint(() => new McpServer({ name: 'bounded', version: '1' }), {
      log: silentLogger,
      sessionLimits: { maxSessions: 2, idleMs: 10 * MINUTE, minIdleToEvictMs: MINUTE },
      now: () => clock,
    });
    const server = createServer((req, res) => void endpoint.handle(req, res));
    const { url } = await listen(server, { host: '127.0.0.1', port: 0, portHint: '' });
    close = async () => {
      await endpoint.close();
      await closeServer(server);
    };
    const post = async (body: string, session?: string): Promise<Response> =>
      fetch(`${url}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25', ...(session ? { 'mcp-session-id': session } : {}) },
        body,
      });
    const open = async (): Promise<string> => {
      const response = await post(INITIALIZE);
      expect(response.status).toBe(200);
      await response.body?.cancel();
      return response.headers.get('mcp-session-id')!;
    };
    const ping = async (session: string): Promise<number> => {
      const response = await post(PING, session);
      await response.body?.cancel();
      return response.status;
    };

    const first = await open();
    clock += 1000;
    const second = await open();
    const refused = await post(INITIALIZE);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error: { code: -32000, message: expect.stringMatching(/at most 2/) } });
    expect(endpoint.sessionCount()).toBe(2);

    clock += MINUTE + 1000;
    expect(await ping(second)).toBe(200);
    const third = await open();
    expect(endpoint.sessionCount()).toBe(2);
    expect(await ping(first)).toBe(404);
    expect(await ping(third)).toBe(200);

    clock += 10 * MINUTE + 1000;
    expect(await ping(second)).toBe(404);
    await open();
    expect(endpoint.sessionCount()).toBe(1);
  });
});
