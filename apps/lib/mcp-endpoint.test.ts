// The protocol's own errors, at the wire, for both revisions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestWorkload, type TestWorkload } from '../../testing/workloads.ts';
import { accountMcp } from '../account-mcp/server.ts';

const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
};

describe('MCP endpoint errors', () => {
  let workload: TestWorkload;
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${workload.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body,
    });
  const modernHeaders = (method: string, name?: string) => ({
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': method,
    ...(name ? { 'mcp-name': name } : {}),
  });

  beforeAll(async () => {
    workload = await startTestWorkload('account-mcp', accountMcp);
  });
  afterAll(async () => {
    await workload.close();
  });

  it('answers malformed JSON with a parse error (-32700)', async () => {
    for (const headers of [{}, modernHeaders('tools/list')]) {
      const response = await post('{"jsonrpc": "2.0", "id": 1,', headers);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32700 }, id: null });
    }
  });

  it('answers a body that is not JSON-RPC with invalid request (-32600)', async () => {
    const response = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, params: { _meta: MODERN_META } }), modernHeaders('tools/list'));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: -32600 } });
  });

  it('answers an unknown method with method not found (-32601)', async () => {
    const response = await post(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'bank/transfer', params: { _meta: MODERN_META } }), modernHeaders('bank/transfer'));
    expect(await response.json()).toMatchObject({ id: 7, error: { code: -32601 } });
  });

  it('serves a stateless 2026-07-28 tools/call from raw HTTP', async () => {
    const body = { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'get_balance', arguments: { account_id: '12345' }, _meta: MODERN_META } };
    const response = await post(JSON.stringify(body), modernHeaders('tools/call', 'get_balance'));
    expect(response.status).toBe(200);
    expect(response.headers.get('mcp-session-id')).toBeNull();
    const answer = (await response.json()) as { result: { structuredContent: unknown } };
    expect(answer.result.structuredContent).toEqual({ account_id: '12345', balance: 4287.55, currency: 'GBP' });
  });

  it('refuses Mcp-Method / Mcp-Name headers that disagree with the body (-32020)', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'get_profile', arguments: { account_id: '12345' }, _meta: MODERN_META } });
    const wrongName = await post(body, modernHeaders('tools/call', 'get_balance'));
    expect(wrongName.status).toBe(400);
    expect(await wrongName.json()).toMatchObject({ error: { code: -32020 } });
    const wrongMethod = await post(body, modernHeaders('tools/list'));
    expect(await wrongMethod.json()).toMatchObject({ error: { code: -32020 } });
  });

  it('refuses a 2025-11-25 request that has no session and is not initialize, without opening one', async () => {
    const response = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: -32000, message: expect.stringMatching(/not initialized/) } });
    expect(await (await fetch(`${workload.url}/healthz`)).json()).toMatchObject({ mcp_sessions: 0 });
  });

  it('answers an unknown session with 404', async () => {
    const response = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), { 'mcp-session-id': 'no-such-session', 'mcp-protocol-version': '2025-11-25' });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: -32001 } });
  });

  it('opens a 2025-11-25 session on initialize and closes it on DELETE', async () => {
    const init = await post(
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
    );
    expect(init.status).toBe(200);
    const sessionId = init.headers.get('mcp-session-id');
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    await init.body?.cancel();
    expect(await (await fetch(`${workload.url}/healthz`)).json()).toMatchObject({ mcp_sessions: 1 });
    const closed = await fetch(`${workload.url}/mcp`, { method: 'DELETE', headers: { 'mcp-session-id': sessionId!, 'mcp-protocol-version': '2025-11-25' } });
    expect(closed.status).toBe(200);
    expect(await (await fetch(`${workload.url}/healthz`)).json()).toMatchObject({ mcp_sessions: 0 });
  });
});
