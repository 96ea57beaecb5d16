// The attack: a tools/call whose params nest 10,000 levels deep — under `_meta`, under a member the gateway
// does not know, under the arguments, in one element of a batch. JSON.parse takes it, but the gateway's
// upstream client serialised it again and overflowed the stack: the caller got a 502 "unreachable: Maximum
// call stack size exceeded". Now the depth is measured on the text at the door and the caller gets
// JSON-RPC's -32602 Invalid params, naming where. The clean path: the same call nested within the limit is
// forwarded and answered by the real account-mcp, and the gateway keeps serving after every refusal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountMcp } from '../apps/account-mcp/server.ts';
import { MAX_JSON_DEPTH } from '../src/core/json-depth.ts';
import { startTestWorkload, type TestWorkload } from '../testing/workloads.ts';
import { openSession, referenceGrantYaml, routeYaml, rpc, serviceYaml, startTestGateway, type TestGateway } from '../testing/gateway.ts';

const ACCOUNT = 'account-mcp.trustusbank-bank-mcp.svc.cluster.local:8080';
const META_2026 = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };

let account: TestWorkload;
let t: TestGateway;
beforeAll(async () => {
  account = await startTestWorkload('account-mcp', accountMcp);
  const yaml = [referenceGrantYaml('trustusbank-bank-mcp'), serviceYaml('account-mcp', 'trustusbank-bank-mcp'), routeYaml('account-mcp-route', '/mcp/account', { service: 'account-mcp', namespace: 'trustusbank-bank-mcp' })].join('\n---\n');
  t = await startTestGateway({ yaml, upstreams: { [ACCOUNT]: account.url } });
});
afterAll(async () => {
  await t?.close();
  await account?.close();
});

/** A value `depth` levels deep (objects counting as levels, as JSON nests them). */
const nested = (depth: number): string => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);

async function post(body: string, headers: Record<string, string>): Promise<{ status: number; body: { error?: { code: number; message: string }; result?: { isError?: boolean } } | unknown[] }> {
  const response = await fetch(`${t.url}/mcp/account`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body });
  return { status: response.status, body: JSON.parse(await response.text()) as never };
}

describe('arguments nested 10,000 levels deep at the agent gateway', () => {
  const deep = nested(10_000);
  it.each([
    ['_meta', `{"_meta":${deep},"name":"get_balance","arguments":{"account_id":"ACC-1001"}}`, 'params._meta'],
    ['an unknown member of params', `{"x":${deep},"name":"get_balance","arguments":{"account_id":"ACC-1001"}}`, 'params.x'],
    ['the arguments', `{"name":"get_balance","arguments":{"account_id":"ACC-1001","x":${deep}}}`, 'params.arguments.x'],
  ])('under %s: -32602 naming where, never a 502', async (_where, params, path) => {
    const session = await openSession(`${t.url}/mcp/account`);
    const answer = await post(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":${params}}`, session);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ jsonrpc: '2.0', error: { code: -32602, message: expect.stringContaining(`nested deeper than ${MAX_JSON_DEPTH} levels (under ${path}`) } });
  });

  it('in the stateless revision and in a batch element too', async () => {
    const stateless = await post(`{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"_meta":${JSON.stringify(META_2026)},"name":"get_balance","arguments":{"account_id":"ACC-1001","x":${deep}}}}`, {
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': 'get_balance',
    });
    expect(stateless.body).toMatchObject({ error: { code: -32602 } });
    const session = await openSession(`${t.url}/mcp/account`);
    const batch = await post(`[{"jsonrpc":"2.0","id":9,"method":"ping"},{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"get_balance","arguments":{"x":${deep}}}}]`, session);
    expect(batch.body).toMatchObject({ error: { code: -32602, message: expect.stringContaining('(under [1].params.arguments.x') } });
  });

  it('outside params: -32600 Invalid Request', async () => {
    const session = await openSession(`${t.url}/mcp/account`);
    const answer = await post(`{"jsonrpc":"2.0","id":11,"extra":${deep},"method":"ping"}`, session);
    expect(answer.body).toMatchObject({ error: { code: -32600, message: expect.stringContaining('(under extra') } });
  });

  it('the clean path: arguments nested within the limit reach account-mcp, and the gateway still serves', async () => {
    const session = await openSession(`${t.url}/mcp/account`);
    // The message, params and arguments take three levels of the limit: this is exactly at it.
    const within = nested(MAX_JSON_DEPTH - 3);
    const answer = await post(`{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"get_balance","arguments":{"account_id":"ACC-1001","x":${within}}}}`, session);
    expect(answer.status).toBe(200);
    // account-mcp's own schema refuses the undeclared member as a tool error the model can see: it got there.
    expect(answer.body).toMatchObject({ jsonrpc: '2.0', id: 12, result: expect.any(Object) });
    const plain = await rpc(`${t.url}/mcp/account`, { jsonrpc: '2.0', id: 13, method: 'tools/call', params: { name: 'get_balance', arguments: { account_id: 'ACC-1001' } } }, session);
    expect(plain.body).toMatchObject({ id: 13, result: { structuredContent: expect.objectContaining({ account_id: 'ACC-1001' }) } });
  });
});
