// The spec's refusals for a client POST, row by row (the rows the conformance issue lists), and the requests
// that must still be served. Codes and statuses are the MCP SDK's ladder, which the bank's servers answer with.
import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { classifyClientPost } from './inbound.ts';
import { parseJsonRpc } from './jsonrpc.ts';

const META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
const MODERN = { 'mcp-protocol-version': '2026-07-28' };
const list = (meta: Record<string, unknown> | null = META) => ({ jsonrpc: '2.0', id: 7, method: 'tools/list', params: meta === null ? {} : { _meta: meta } });
const call = { jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'get_balance', arguments: { account_id: '12345' }, _meta: META } };
const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } };

function classify(headers: IncomingHttpHeaders, body: unknown) {
  const parsed = parseJsonRpc(JSON.stringify(body));
  if (!parsed.ok) throw new Error(parsed.error.message);
  return classifyClientPost(headers, parsed.value, parsed.messages, parsed.batch);
}

describe('refused as the spec says', () => {
  it.each([
    ['2026-07-28 without _meta', { ...MODERN, 'mcp-method': 'tools/list' }, list(null), 400, -32602, 7],
    ['without Mcp-Method', MODERN, list(), 400, -32020, 7],
    ['Mcp-Method naming another method', { ...MODERN, 'mcp-method': 'tools/call' }, list(), 400, -32020, 7],
    ['header and _meta versions that disagree', { 'mcp-protocol-version': '2025-11-25', 'mcp-method': 'tools/list' }, list(), 400, -32020, 7],
    ['an envelope without MCP-Protocol-Version', { 'mcp-method': 'tools/list' }, list(), 400, -32020, 7],
    ['an envelope without clientCapabilities', { ...MODERN, 'mcp-method': 'tools/list' }, list({ 'io.modelcontextprotocol/protocolVersion': '2026-07-28' }), 400, -32602, 7],
    ['tools/call without Mcp-Name', { ...MODERN, 'mcp-method': 'tools/call' }, call, 400, -32020, 8],
    ['tools/call with another Mcp-Name', { ...MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'get_profile' }, call, 400, -32020, 8],
    ['ping, which 2026-07-28 removed', { ...MODERN, 'mcp-method': 'ping' }, { jsonrpc: '2.0', id: 3, method: 'ping', params: { _meta: META } }, 404, -32601, 3],
    ['initialize, which 2026-07-28 removed', { ...MODERN, 'mcp-method': 'initialize' }, { ...initialize, params: { ...initialize.params, _meta: META } }, 404, -32601, 1],
    ['an unsupported modern revision', { 'mcp-protocol-version': '2099-01-01', 'mcp-method': 'tools/list' }, list({ ...META, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' }), 400, -32022, 7],
    ['an unsupported MCP-Protocol-Version in a 2025 session', { 'mcp-protocol-version': '1999-01-01', 'mcp-session-id': 's' }, { jsonrpc: '2.0', id: 4, method: 'tools/list' }, 400, -32000, 4],
    ['a batch at 2025-11-25', {}, [{ jsonrpc: '2.0', id: 1, method: 'tools/list' }, { jsonrpc: '2.0', id: 2, method: 'tools/list' }], 400, -32600, null],
    ['a batch of one', {}, [{ jsonrpc: '2.0', id: 1, method: 'tools/list' }], 400, -32600, null],
    ['a batch at 2026-07-28', { ...MODERN, 'mcp-method': 'tools/list' }, [list(), list()], 400, -32600, null],
  ])('%s', (_, headers, body, status, code, id) => {
    const route = classify(headers, body);
    expect(route).toMatchObject({ kind: 'refuse', status, response: { jsonrpc: '2.0', id, error: { code } } });
  });

  it('names the supported revisions when it refuses one', () => {
    const route = classify({ 'mcp-protocol-version': '2099-01-01', 'mcp-method': 'tools/list' }, list({ ...META, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' }));
    expect(route).toMatchObject({ response: { error: { data: { supported: ['2026-07-28'], requested: '2099-01-01' } } } });
  });
});

describe('served', () => {
  it.each([
    ['a 2026-07-28 list', { ...MODERN, 'mcp-method': 'tools/list' }, list(), '2026-07-28'],
    ['a 2026-07-28 call with its Mcp-Name', { ...MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'get_balance' }, call, '2026-07-28'],
    ['a base64 Mcp-Name', { ...MODERN, 'mcp-method': 'tools/call', 'mcp-name': `=?base64?${Buffer.from('get_balance').toString('base64')}?=` }, call, '2026-07-28'],
    ['subscriptions/listen', { ...MODERN, 'mcp-method': 'subscriptions/listen' }, { jsonrpc: '2.0', id: 9, method: 'subscriptions/listen', params: { notifications: {}, _meta: META } }, '2026-07-28'],
    ['a 2026-07-28 notification without headers (the spec asks them of requests)', {}, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, _meta: META } }, '2026-07-28'],
    ['a 2025 initialize', {}, initialize, '2025-11-25'],
    ['a 2025 session request at any supported revision', { 'mcp-protocol-version': '2025-03-26', 'mcp-session-id': 's' }, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, '2025-11-25'],
    ['a 2025 ping', { 'mcp-protocol-version': '2025-11-25', 'mcp-session-id': 's' }, { jsonrpc: '2.0', id: 2, method: 'ping' }, '2025-11-25'],
  ])('%s', (_, headers, body, revision) => {
    expect(classify(headers, body)).toEqual({ kind: 'route', revision });
  });
});
