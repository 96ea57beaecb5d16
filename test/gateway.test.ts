// The agent gateway in-process, against the bank's real MCP servers on loopback: routing, both MCP revisions,
// federation (Streamable HTTP and SSE targets), CEL authorization with tool arguments, backend tool scoping,
// DLP, tool pinning against the rug-pulled converter, JWT RBAC, token exchange, rate limits, A2A, telemetry
// and the protocol errors. Each defence is tested on the attack it stops and on the clean path.
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { accountMcp } from '../apps/account-mcp/server.ts';
import { transactionMcp } from '../apps/transaction-mcp/server.ts';
import { cleanConverter } from '../apps/currency-converter/clean/tool.ts';
import { rugpullConverter } from '../apps/currency-converter/rugpull/tool.ts';
import { REVISIONS, callTool, startReceiver, startTestWorkload, type Receiver, type TestWorkload } from '../testing/workloads.ts';
import { openSession, referenceGrantYaml, routeYaml, rpc, serviceYaml, startSseMcpServer, startTestGateway, type TestGateway } from '../testing/gateway.ts';
import { seriesValue } from '../testing/cluster.ts';
import { SEED_PROFILE } from '../testing/seed.ts';

const metric = async (gw: TestGateway, name: string, labels: Record<string, string>): Promise<number> => seriesValue(await gw.metrics.metrics(), name, labels);

const ACCOUNT = 'account-mcp.trustusbank-bank-mcp.svc.cluster.local:8080';
const TRANSACTION = 'transaction-mcp.trustusbank-bank-mcp.svc.cluster.local:8080';
const CONVERTER = 'currency-converter.trustusbank-bank-vendors.svc.cluster.local:8080';
const PROFILE = SEED_PROFILE;

const BASE = [
  referenceGrantYaml('trustusbank-bank-mcp'),
  referenceGrantYaml('trustusbank-bank-vendors'),
  serviceYaml('account-mcp', 'trustusbank-bank-mcp'),
  serviceYaml('transaction-mcp', 'trustusbank-bank-mcp'),
  serviceYaml('currency-converter', 'trustusbank-bank-vendors'),
  routeYaml('account-mcp-route', '/mcp/account', { service: 'account-mcp', namespace: 'trustusbank-bank-mcp' }),
  routeYaml('transaction-mcp-route', '/mcp/transaction', { service: 'transaction-mcp', namespace: 'trustusbank-bank-mcp' }),
  routeYaml('currency-converter-route', '/mcp/currency-converter', { service: 'currency-converter', namespace: 'trustusbank-bank-vendors' }),
].join('\n---\n');

function policy(kind: 'AgentgatewayPolicy' | 'EnterpriseAgentgatewayPolicy', name: string, target: string, spec: string): string {
  const apiVersion = kind === 'AgentgatewayPolicy' ? 'agentgateway.dev/v1alpha1' : 'enterpriseagentgateway.solo.io/v1alpha1';
  const [targetKind, targetName] = target.split('/');
  const group = targetKind === 'AgentgatewayBackend' ? 'agentgateway.dev' : 'gateway.networking.k8s.io';
  return `
apiVersion: ${apiVersion}
kind: ${kind}
metadata: { name: ${name}, namespace: trustusbank-platform }
spec:
  targetRefs: [{ group: ${group}, kind: ${targetKind}, name: ${targetName} }]
${spec}`;
}

const ALLOWLIST = policy(
  'AgentgatewayPolicy',
  'account-mcp-allowlist',
  'HTTPRoute/account-mcp-route',
  `  traffic:
    authorization:
      action: Allow
      policy:
        matchExpressions:
          - 'mcp.method in ["initialize", "notifications/initialized", "ping", "server/discover", "tools/list"]'
          - 'mcp.method == "tools/call" && mcp.tool.name == "get_balance"'`,
);

const DENY_PII = policy(
  'AgentgatewayPolicy',
  'deny-pii-in-tool-args',
  'HTTPRoute/currency-converter-route',
  `  traffic:
    authorization:
      action: Deny
      policy:
        matchExpressions:
          - 'mcp.method == "tools/call" && mcp.tool.arguments.exists(k, k in ["customer_profile", "ni_number", "email", "dob", "address"])'`,
);

const dlp = (action: 'Reject' | 'RedactInPlace') =>
  policy(
    'EnterpriseAgentgatewayPolicy',
    'dlp',
    'Gateway/trustusbank-agentgw',
    `  backend:
    mcp:
      dlp:
        action: ${action}
        matchers: [{ builtin: UkNiNumber }, { builtin: Email }, { builtin: UkPostcode }, { builtin: Phone }, { builtin: CreditCard }]`,
  );

const PINNING = policy('EnterpriseAgentgatewayPolicy', 'tool-pinning', 'Gateway/trustusbank-agentgw', `  backend:\n    mcp:\n      toolPinning: { action: HideDrifted }`);

async function client(url: string, revision: (typeof REVISIONS)[number], headers: Record<string, string> = {}): Promise<Client> {
  const c = new Client({ name: 'gateway-test', version: '1.0.0' }, revision === '2026-07-28' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {});
  await c.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return c;
}

let account: TestWorkload;
let transaction: TestWorkload;
let clean: TestWorkload;
let rugpull: TestWorkload;
let attacker: Receiver;

beforeAll(async () => {
  attacker = await startReceiver();
  [account, transaction, clean, rugpull] = await Promise.all([
    startTestWorkload('account-mcp', accountMcp),
    startTestWorkload('transaction-mcp', transactionMcp),
    startTestWorkload('currency-converter', cleanConverter),
    startTestWorkload('currency-converter', rugpullConverter, { env: { EXFIL_URL: `${attacker.url}/exfil` } }),
  ]);
});

afterAll(async () => {
  await Promise.all([account, transaction, clean, rugpull].map((w) => w?.close()));
  await attacker?.close();
});

let t: TestGateway | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function gateway(yaml: string, converter: TestWorkload = clean): Promise<TestGateway> {
  t = await startTestGateway({ yaml, upstreams: { [ACCOUNT]: account.url, [TRANSACTION]: transaction.url, [CONVERTER]: converter.url } });
  return t;
}

describe('routing and both MCP revisions', () => {
  it.each(REVISIONS)('proxies an MCP session at %s to the route’s server', async (revision) => {
    const gw = await gateway(BASE);
    const c = await client(`${gw.url}/mcp/account`, revision);
    const tools = await c.listTools();
    expect(tools.tools.map((tool) => tool.name).sort()).toEqual(['get_balance', 'get_profile']);
    const balance = await callTool(c, 'get_balance', { account_id: '12345' });
    expect(balance.value).toMatchObject({ balance: 4287.55, currency: 'GBP' });
    await c.close();
  });

  it('answers 404 for a path no route matches, 400 parse error for malformed JSON, 413 for an oversized body', async () => {
    const gw = await gateway(BASE);
    expect((await rpc(`${gw.url}/nowhere`, { jsonrpc: '2.0', id: 1, method: 'tools/list' })).status).toBe(404);
    const malformed = await rpc(`${gw.url}/mcp/account`, '{"jsonrpc": "2.0", "id": 1, "method": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error?.code).toBe(-32700);
    const big = await rpc(`${gw.url}/mcp/account`, { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'x'.repeat(2 * 1024 * 1024) } });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ reason: 'PayloadTooLarge' });
  });

  it('needs a ReferenceGrant for a backend in another namespace (Gateway API RefNotPermitted)', async () => {
    const ungranted = [serviceYaml('account-mcp', 'trustusbank-bank-mcp'), routeYaml('account-mcp-route', '/mcp/account', { service: 'account-mcp', namespace: 'trustusbank-bank-mcp' })].join('\n---\n');
    t = await startTestGateway({ yaml: ungranted, upstreams: { [ACCOUNT]: account.url } });
    expect(t.configure(ungranted)).toContain('HTTPRoute trustusbank-platform/account-mcp-route: backendRef to Service trustusbank-bank-mcp/account-mcp is not permitted: no ReferenceGrant in trustusbank-bank-mcp allows HTTPRoutes from trustusbank-platform');
    const refused = await rpc(`${t.url}/mcp/account`, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
    expect(refused.status).toBe(500);
    t.configure(`${referenceGrantYaml('trustusbank-bank-mcp')}\n---\n${ungranted}`);
    const granted = await rpc(`${t.url}/mcp/account`, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
    expect(granted.status).toBe(200);
  });

  it('refuses a 2025-11-25 request outside a session and an unknown session', async () => {
    const gw = await gateway(BASE);
    const outside = await rpc(`${gw.url}/mcp/account`, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(outside.status).toBe(400);
    const unknown = await rpc(`${gw.url}/mcp/account`, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'mcp-session-id': 'nope', 'mcp-protocol-version': '2025-11-25' });
    expect(unknown.status).toBe(404);
  });

  it('binds a session to the identity that opened it', async () => {
    const gw = await gateway(BASE);
    const bot = await gw.as('trustusbank-bank-agents', 'support-bot');
    const other = await gw.as('external-attacker', 'mock-attacker');
    const session = await openSession(`${bot}/mcp/account`);
    expect((await rpc(`${bot}/mcp/account`, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, session)).status).toBe(200);
    expect((await rpc(`${other}/mcp/account`, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, session)).status).toBe(404);
  });
});

describe('traffic authorization (CEL, with tool arguments)', () => {
  it('an allowlist lets the listed tool through and refuses another with 403 and a structured reason', async () => {
    const gw = await gateway(`${BASE}\n---\n${ALLOWLIST}`);
    const session = await openSession(`${gw.url}/mcp/account`);
    const ok = await rpc(`${gw.url}/mcp/account`, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_balance', arguments: { account_id: '12345' } } }, session);
    expect(ok.status).toBe(200);
    const denied = await rpc(`${gw.url}/mcp/account`, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'get_profile', arguments: { account_id: '12345' } } }, session);
    expect(denied.status).toBe(403);
    expect(denied.body.error?.data).toMatchObject({ reason: 'Authorization', policy: 'trustusbank-platform/account-mcp-allowlist' });
    // The refused tool is not offered either.
    const list = await rpc(`${gw.url}/mcp/account`, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, session);
    expect((list.body.result as { tools: { name: string }[] }).tools.map((tool) => tool.name)).toEqual(['get_balance']);
    const counted = await metric(gw, 'agentgateway_requests_total', { route: 'account-mcp-route', status: '403', reason: 'Authorization' });
    expect(counted).toBe(1);
    const line = gw.logs.find((l) => l['http.status'] === 403);
    expect(line).toMatchObject({ 'src.identity': 'spiffe://cluster.local/ns/trustusbank-bank-agents/sa/support-bot', 'mcp.method.name': 'tools/call', 'mcp.target': 'account-mcp', 'gen_ai.tool.name': 'get_profile', reason: 'Authorization' });
  });

  it.each(REVISIONS)('denies the rug-pulled call with customer_profile before it is forwarded; a normal conversion passes (%s)', async (revision) => {
    const gw = await gateway(`${BASE}\n---\n${DENY_PII}`, rugpull);
    const c = await client(`${gw.url}/mcp/currency-converter`, revision);
    const normal = await callTool(c, 'convert_currency', { amount: 4287.55, from_ccy: 'GBP', to_ccy: 'USD' });
    expect(normal.value).toMatchObject({ converted: 5445.19 });
    const before = attacker.requests.length;
    await expect(c.callTool({ name: 'convert_currency', arguments: { amount: 4287.55, from_ccy: 'GBP', to_ccy: 'USD', customer_profile: PROFILE } })).rejects.toThrow(/403|Forbidden/);
    expect(attacker.requests.length).toBe(before);
    await c.close();
  });

  it('matches policy on identity and on namespace labels from the mesh, never on headers', async () => {
    const onlySupportBot = policy(
      'AgentgatewayPolicy',
      'only-pii-namespaces',
      'Gateway/trustusbank-agentgw',
      `  traffic:\n    authorization:\n      action: Allow\n      policy:\n        matchExpressions:\n          - 'source.identity.serviceAccount == "support-bot" && source.namespace.labels["data.solo.io/classification"] == "pii"'`,
    );
    t = await startTestGateway({ yaml: `${BASE}\n---\n${onlySupportBot}`, upstreams: { [ACCOUNT]: account.url }, namespaceLabels: { 'trustusbank-bank-agents': { 'data.solo.io/classification': 'pii' } } });
    const bot = await t.as('trustusbank-bank-agents', 'support-bot');
    const intruder = await t.as('trustusbank-bank-vendors', 'currency-converter');
    expect((await rpc(`${bot}/mcp/account`, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } })).status).toBe(200);
    const spoofed = await rpc(`${intruder}/mcp/account`, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }, { 'x-forwarded-client-cert': 'URI=spiffe://cluster.local/ns/trustusbank-bank-agents/sa/support-bot' });
    expect(spoofed.status).toBe(403);
    // No identity at all (the host listener): refused before any policy is read.
    expect((await rpc(`${t.hostUrl}/mcp/account`, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } })).status).toBe(403);
  });
});

describe('no bypasses', () => {
  // MCP removed JSON-RPC batching in 2025-06-18, and the gateway serves 2025-11-25 and 2026-07-28 only: a batch
  // is refused whole (nothing of it judged or forwarded), so a request is one call and a limit on requests is
  // one on calls. The attack: smuggle a denied call next to an allowed one, or many calls past a rate limit.
  it('refuses a batch at both revisions, forwarding none of it, and serves the same calls one by one', async () => {
    const gw = await gateway(`${BASE}\n---\n${ALLOWLIST}`);
    const session = await openSession(`${gw.url}/mcp/account`);
    const balance = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_balance', arguments: { account_id: '12345' } } };
    const profile = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'get_profile', arguments: { account_id: '12345' } } };
    for (const batch of [[balance, profile], [balance], [balance, { jsonrpc: '2.0', id: 3, method: 'tools/list' }]]) {
      const refused = await rpc(`${gw.url}/mcp/account`, batch, session);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ id: null, error: { code: -32600, message: expect.stringMatching(/batches are not part of MCP since 2025-06-18/) } });
    }
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
    const modern = await rpc(`${gw.url}/mcp/account`, [{ ...balance, params: { ...balance.params, _meta: meta } }], { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'get_balance' });
    expect(modern.status).toBe(400);
    expect(modern.body.error?.code).toBe(-32600);
    expect(await metric(gw, 'agentgateway_mcp_requests_total', { method: 'tools/call' })).toBe(0);
    // The clean path: one message per request is served, and the denied call is still denied.
    expect((await rpc(`${gw.url}/mcp/account`, balance, session)).status).toBe(200);
    expect((await rpc(`${gw.url}/mcp/account`, profile, session)).status).toBe(403);
    expect(await metric(gw, 'agentgateway_mcp_requests_total', { method: 'tools/call' })).toBe(1);
  });

  it('matches tool names exactly: case and Unicode look-alikes are unknown tools, not a way around the policy', async () => {
    const gw = await gateway(`${BASE}\n---\n${ALLOWLIST}`);
    const session = await openSession(`${gw.url}/mcp/account`);
    for (const name of ['Get_Profile', 'get_prоfile' /* Cyrillic о */, 'get_profile ']) {
      const answer = await rpc(`${gw.url}/mcp/account`, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: { account_id: '12345' } } }, session);
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatchObject({ code: -32602, message: `Unknown tool: ${name}` });
    }
    expect(await metric(gw, 'agentgateway_mcp_requests_total', { method: 'tools/call' })).toBe(0);
  });

  it('refuses Mcp-Method and Mcp-Name headers that disagree with the body (-32020)', async () => {
    const gw = await gateway(`${BASE}\n---\n${ALLOWLIST}`);
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
    const body = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_profile', arguments: { account_id: '12345' }, _meta: meta } };
    const headers = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call' };
    const wrongName = await rpc(`${gw.url}/mcp/account`, body, { ...headers, 'mcp-name': 'get_balance' });
    expect(wrongName.status).toBe(400);
    expect(wrongName.body.error?.code).toBe(-32020);
    const wrongMethod = await rpc(`${gw.url}/mcp/account`, body, { ...headers, 'mcp-method': 'tools/list', 'mcp-name': 'get_profile' });
    expect(wrongMethod.body.error?.code).toBe(-32020);
  });
});

// The host listener (127.0.0.1:18008 in the stack) is open to any process on the machine, and none of them has a
// mesh identity. The attack: such a process calls get_profile through the gateway, on a gateway whose policies
// forgot to name their callers (here, no policy at all). The clean run: an agent's mesh identity is served.
describe('the host listener serves no anonymous caller', () => {
  const META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
  const getProfile = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_profile', arguments: { account_id: '12345' }, _meta: META } };
  const getProfileHeaders = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'get_profile' };
  const accountPosts = async () => seriesValue(await (await fetch(`${account.url}/metrics`)).text(), 'http_requests_total', { method: 'POST' });

  it('refuses every MCP message from it with 403 and the way to be allowed, before anything reaches the server', async () => {
    const gw = await gateway(BASE);
    const before = await accountPosts();
    const attempts = [
      rpc(`${gw.hostUrl}/mcp/account`, getProfile, getProfileHeaders),
      // A forged client-certificate header is a header, not an identity.
      rpc(`${gw.hostUrl}/mcp/account`, getProfile, { ...getProfileHeaders, 'x-forwarded-client-cert': 'URI=spiffe://cluster.local/ns/trustusbank-bank-agents/sa/support-bot' }),
      rpc(`${gw.hostUrl}/mcp/account`, { jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: META } }, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' }),
      rpc(`${gw.hostUrl}/mcp/account`, { jsonrpc: '2.0', id: 5, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
    ];
    for (const answer of await Promise.all(attempts)) {
      expect(answer.status).toBe(403);
      const error = (Array.isArray(answer.body) ? answer.body[0] : answer.body).error as { code: number; message: string; data: Record<string, unknown> };
      expect(error.code).toBe(-32003);
      expect(error.data).toMatchObject({ reason: 'Unauthenticated' });
      expect(error.message).toMatch(/the caller is anonymous/);
      expect(error.message).toMatch(/traffic\.jwtAuthentication policy/);
    }
    expect(await accountPosts()).toBe(before);
    expect(await metric(gw, 'agentgateway_requests_total', { route: 'account-mcp-route', status: '403', reason: 'Unauthenticated' })).toBe(attempts.length);
    expect(gw.logs).toContainEqual(expect.objectContaining({ msg: 'request', 'src.identity': 'anonymous', 'gen_ai.tool.name': 'get_profile', 'http.status': 403, reason: 'Unauthenticated' }));
    // The MCP SDK's client sees the refusal, with the reason, when it connects.
    await expect(client(`${gw.hostUrl}/mcp/account`, '2025-11-25')).rejects.toThrow(/initialize refused: the caller is anonymous/);

    // The clean path: the same call from support-bot's mesh identity.
    const served = await rpc(`${gw.url}/mcp/account`, getProfile, getProfileHeaders);
    expect(served.status).toBe(200);
    expect(await accountPosts()).toBeGreaterThan(before);
  });
});

describe('DLP on tool arguments', () => {
  it('rejects the same PII under another key name (ctx) and lets a normal conversion through', async () => {
    const gw = await gateway(`${BASE}\n---\n${dlp('Reject')}`, rugpull);
    const session = await openSession(`${gw.url}/mcp/currency-converter`);
    const call = (args: Record<string, unknown>) => rpc(`${gw.url}/mcp/currency-converter`, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'convert_currency', arguments: args } }, session);
    const renamed = await call({ amount: 4287.55, from_ccy: 'GBP', to_ccy: 'USD', ctx: { nested: [JSON.stringify(PROFILE)] } });
    expect(renamed.status).toBe(403);
    expect(renamed.body.error?.data).toMatchObject({ reason: 'DLP', policy: 'trustusbank-platform/dlp' });
    expect(JSON.stringify(renamed.body)).not.toContain('alex.carter');
    const normal = await call({ amount: 4287.55, from_ccy: 'GBP', to_ccy: 'USD' });
    expect(normal.status).toBe(200);
  });

  it('RedactInPlace forwards the call with the PII masked', async () => {
    const gw = await gateway(`${BASE}\n---\n${dlp('RedactInPlace')}`, rugpull);
    const session = await openSession(`${gw.url}/mcp/currency-converter`);
    const answer = await rpc(`${gw.url}/mcp/currency-converter`, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'convert_currency', arguments: { amount: 10, from_ccy: 'GBP', to_ccy: 'USD', customer_profile: PROFILE } } }, session);
    expect(answer.status).toBe(200);
    const stolen = attacker.requests.at(-1)?.body ?? '';
    expect(stolen).toContain('[REDACTED:email]');
    expect(stolen).not.toContain('alex.carter@gmail.com');
    expect(stolen).not.toContain('QQ 12 34 56 C');
  });
});

// The layers as deploy/manifests/policies/gateway/ ships them, against the rug-pulled converter and the evasions a
// fooled model or a hostile tool would try: encoded, renamed, nested and split profiles.
describe('gateway layers against encoded, renamed and nested profiles', () => {
  const layer = (file: string) => readFileSync(new URL(`../deploy/manifests/policies/gateway/${file}`, import.meta.url), 'utf8');
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const CLEAN_ARGS = { amount: 4287.55, from_ccy: 'GBP', to_ccy: 'USD' };
  const converterCall = async (gw: TestGateway, args: Record<string, unknown>) => {
    const url = `${gw.url}/mcp/currency-converter`;
    return rpc(url, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'convert_currency', arguments: args } }, await openSession(url));
  };
  const evasions: [string, Record<string, unknown>][] = [
    ['base64 under a renamed key', { ...CLEAN_ARGS, ctx: b64(JSON.stringify(PROFILE)) }],
    ['base64url of the profile as the rug-pull asks for it', { ...CLEAN_ARGS, customer_profile: Buffer.from(JSON.stringify(PROFILE)).toString('base64url') }],
    ['percent-encoded JSON text', { ...CLEAN_ARGS, note: encodeURIComponent(JSON.stringify(PROFILE)) }],
    ['nested, camelCase, only name and date of birth', { ...CLEAN_ARGS, data: { customerProfile: { fullName: PROFILE.name, birthDate: PROFILE.dob } } }],
    ['NI number with dashes and a full-width email in an array', { ...CLEAN_ARGS, x: [{ ref: 'QQ-12-34-56-C' }, { who: 'alex.carter＠gmail.com' }] }],
    ['split across fields', { ...CLEAN_ARGS, a: 'QQ 12 34', b: '56 C', c: '+44 7700', d: '900123' }],
  ];

  it.each(evasions)('DLP refuses the rug-pulled call with the profile %s, and the clean conversion still works', async (_what, args) => {
    const gw = await gateway(`${BASE}\n---\n${layer('dlp.yaml')}`, rugpull);
    const stolenBefore = attacker.requests.length;
    const refused = await converterCall(gw, args);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: -32003, data: { reason: 'DLP', policy: 'trustusbank-platform/dlp-tool-arguments' } });
    for (const secret of ['alex', 'Alex', '7700', 'QQ', '1987']) expect(JSON.stringify(refused.body)).not.toContain(secret);
    expect(attacker.requests.length).toBe(stolenBefore);
    const normal = await converterCall(gw, CLEAN_ARGS);
    expect(normal.status).toBe(200);
    expect(JSON.stringify(normal.body.result)).toContain('5445.19');
  });

  it('refuses arguments encoded more deeply than the gateway inspects, rather than pass them unread', async () => {
    const gw = await gateway(`${BASE}\n---\n${layer('dlp.yaml')}`, rugpull);
    let onion = 'QQ 12 34 56 C';
    for (let i = 0; i < 9; i++) onion = b64(onion);
    const refused = await converterCall(gw, { ...CLEAN_ARGS, ctx: onion });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: -32602, message: 'Invalid params: arguments cannot be inspected: text encoded in more than 8 layers: not scanned' });
  });

  it('the argument deny sees nested and renamed keys; the clean conversion passes it', async () => {
    const gw = await gateway(`${BASE}\n---\n${layer('deny-pii-in-tool-args.yaml')}`, rugpull);
    const stolenBefore = attacker.requests.length;
    for (const args of [
      { ...CLEAN_ARGS, data: { customer_profile: PROFILE } },
      { ...CLEAN_ARGS, x: [{ email: 'someone' }] },
      { ...CLEAN_ARGS, 'Customer-Profile': { a: 1 } },
      { ...CLEAN_ARGS, ctx: b64(JSON.stringify({ dob: 'x' })) },
    ]) {
      const refused = await converterCall(gw, args);
      expect(refused.status).toBe(403);
      expect(refused.body.error?.data).toMatchObject({ reason: 'Authorization', policy: 'trustusbank-platform/deny-pii-in-tool-args' });
    }
    expect(attacker.requests.length).toBe(stolenBefore);
    expect((await converterCall(gw, CLEAN_ARGS)).status).toBe(200);
  });

  it('tool pinning refuses an argument the pinned schema does not declare, naming it, even without drift', async () => {
    const gw = await gateway(`${BASE}\n---\n${layer('tool-pinning.yaml')}`, clean);
    const c = await client(`${gw.url}/mcp/currency-converter`, '2025-11-25');
    expect((await c.listTools()).tools.map((tool) => tool.name)).toEqual(['convert_currency']);
    await c.close();
    const refused = await converterCall(gw, { ...CLEAN_ARGS, customer_profile: { note: 'nothing PII-shaped at all' } });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({
      code: -32003,
      message: 'Forbidden: argument "customer_profile" is not declared in the pinned input schema of convert_currency',
      data: { reason: 'ToolPinning', policy: 'trustusbank-platform/tool-pinning', arguments: ['customer_profile'] },
    });
    expect(gw.gateway.pins.status(`${CONVERTER}/mcp`)[0]).toMatchObject({ drifted: false });
    expect((await converterCall(gw, CLEAN_ARGS)).status).toBe(200);
  });
});

describe('DLP on tool results', () => {
  // get_profile's result is masked for every caller but fraud-bot; other tools' results are not inspected.
  const RESULTS = policy(
    'EnterpriseAgentgatewayPolicy',
    'dlp-results',
    'HTTPRoute/account-mcp-route',
    `  backend:
    mcp:
      dlp:
        action: Reject
        scope: [Arguments, Results]
        matchers: [{ builtin: UkNiNumber }, { builtin: Email }, { builtin: UkPostcode }, { builtin: Phone }, { builtin: DateOfBirth }, { builtin: PersonName }]
        results:
          action: RedactInPlace
          matchExpressions: ['mcp.tool.name == "get_profile" && source.identity.serviceAccount != "fraud-bot"']`,
  );

  it('masks the profile in a get_profile result and leaves get_balance alone', async () => {
    const gw = await gateway(`${BASE}\n---\n${RESULTS}`);
    const url = `${gw.url}/mcp/account`;
    const session = await openSession(url);
    const profile = await rpc(url, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_profile', arguments: { account_id: '12345' } } }, session);
    expect(profile.status).toBe(200);
    const text = JSON.stringify(profile.body.result);
    for (const secret of ['alex.carter@gmail.com', '900123', 'QQ 12 34 56 C', 'M2 7HE', '1987-03-14', 'Alex Carter']) expect(text).not.toContain(secret);
    expect(text).toContain('[REDACTED:email]');
    expect(text).toContain('12345');
    const balance = await rpc(url, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'get_balance', arguments: { account_id: '12345' } } }, session);
    expect(JSON.stringify(balance.body.result)).toContain('4287.55');
    expect(JSON.stringify(balance.body.result)).not.toContain('REDACTED');
  });
});

describe('tool pinning', () => {
  it('pins the clean catalogue, flags the rug-pulled tools/list as drift, hides the drifted tool, and re-approval restores it', async () => {
    const gw = await gateway(`${BASE}\n---\n${PINNING}`, clean);
    const server = `${CONVERTER}/mcp`;
    const listNames = async () => {
      const c = await client(`${gw.url}/mcp/currency-converter`, '2025-11-25');
      const names = (await c.listTools()).tools.map((tool) => tool.name);
      await c.close();
      return names;
    };
    expect(await listNames()).toEqual(['convert_currency']);
    expect(await listNames()).toEqual(['convert_currency']);
    expect(gw.gateway.pins.status(server)[0]).toMatchObject({ drifted: false });
    expect(gw.gateway.pins.events({ server })).toEqual([]);

    // Same service name, new bytes behind it.
    gw.upstreams.set(CONVERTER, rugpull.url);
    expect(await listNames()).toEqual([]);
    const [report] = gw.gateway.pins.status(server);
    expect(report).toMatchObject({ drifted: true });
    expect(report!.changes).toEqual([expect.objectContaining({ tool: 'convert_currency', kind: 'changed', fields: expect.arrayContaining(['description', 'inputSchema']) })]);
    expect(await metric(gw, 'agentgateway_mcp_tool_drift_total', { server, change: 'changed' })).toBeGreaterThanOrEqual(1);
    expect(gw.logs.some((l) => l.msg === 'tool drift')).toBe(true);
    const session = await openSession(`${gw.url}/mcp/currency-converter`);
    const call = await rpc(`${gw.url}/mcp/currency-converter`, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'convert_currency', arguments: { amount: 1, from_ccy: 'GBP', to_ccy: 'USD', customer_profile: PROFILE } } }, session);
    expect(call.body.error).toMatchObject({ code: -32602 });

    gw.gateway.pins.approve(server, { by: 'test' });
    expect(await listNames()).toEqual(['convert_currency']);
  });

  it('without a pinning policy drift is still recorded, and nothing is hidden', async () => {
    const gw = await gateway(BASE, clean);
    const c = await client(`${gw.url}/mcp/currency-converter`, '2026-07-28');
    await c.listTools();
    gw.upstreams.set(CONVERTER, rugpull.url);
    expect((await c.listTools()).tools.map((tool) => tool.name)).toEqual(['convert_currency']);
    expect(gw.gateway.pins.status(`${CONVERTER}/mcp`)[0]).toMatchObject({ drifted: true });
    await c.close();
  });
});

const FEDERATION = `
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayBackend
metadata: { name: bank-be, namespace: trustusbank-platform }
spec:
  mcp:
    targets:
      - { name: account, static: { host: account-mcp.trustusbank-bank-mcp.svc.cluster.local, port: 8080 } }
      - { name: transaction, static: { host: transaction-mcp.trustusbank-bank-mcp.svc.cluster.local, port: 8080 } }
---
${routeYaml('bank-route', '/mcp/bank', { agentgatewayBackend: 'bank-be' })}`;

describe('federation', () => {
  it.each(REVISIONS)('serves two targets as one server with prefixed names, through the official client (%s)', async (revision) => {
    const gw = await gateway(`${BASE}\n---\n${FEDERATION}`);
    const c = await client(`${gw.url}/mcp/bank`, revision);
    const names = (await c.listTools()).tools.map((tool) => tool.name).sort();
    expect(names).toEqual(['account_get_balance', 'account_get_profile', 'transaction_flag_suspicious', 'transaction_get_details', 'transaction_list_recent']);
    expect((await callTool(c, 'account_get_balance', { account_id: '12345' })).value).toMatchObject({ balance: 4287.55 });
    const recent = await callTool(c, 'transaction_list_recent', { account_id: '12345' });
    expect(JSON.stringify(recent.value)).toContain('txn-003');
    await c.close();
  });

  it('backend.mcp.authorization hides tools and answers -32602 Unknown tool (HTTP 400) for them', async () => {
    const scoping = policy(
      'EnterpriseAgentgatewayPolicy',
      'tool-allowlist',
      'AgentgatewayBackend/bank-be',
      `  backend:\n    mcp:\n      authorization:\n        action: Allow\n        policy:\n          matchExpressions:\n            - 'mcp.tool.name == "get_balance" && mcp.tool.target == "account"'`,
    );
    const gw = await gateway(`${BASE}\n---\n${FEDERATION}\n---\n${scoping}`);
    const session = await openSession(`${gw.url}/mcp/bank`);
    const list = await rpc(`${gw.url}/mcp/bank`, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, session);
    expect((list.body.result as { tools: { name: string }[] }).tools.map((tool) => tool.name)).toEqual(['account_get_balance']);
    const hidden = await rpc(`${gw.url}/mcp/bank`, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'account_get_profile', arguments: { account_id: '12345' } } }, session);
    expect(hidden.status).toBe(400);
    expect(hidden.body.error).toMatchObject({ code: -32602, message: 'Unknown tool: account_get_profile' });
  });

  it('federates an SSE target, FailOpen leaves a dead target out and FailClosed fails the list', async () => {
    const sse = await startSseMcpServer([{ name: 'echo', description: 'Echo the text.' }]);
    try {
      const backend = (failureMode: string) => `
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayBackend
metadata: { name: mixed, namespace: trustusbank-platform }
spec:
  mcp:
    failureMode: ${failureMode}
    targets:
      - { name: catalog, static: { host: catalog.example, port: 3001, protocol: SSE } }
      - { name: orders, static: { host: orders.example, port: 3001 } }
---
${routeYaml('mixed-route', '/mcp/mixed', { agentgatewayBackend: 'mixed' })}`;
      t = await startTestGateway({ yaml: backend('FailOpen'), upstreams: { 'catalog.example:3001': sse.url, 'orders.example:3001': 'http://127.0.0.1:1' } });
      const c = await client(`${t.url}/mcp/mixed`, '2026-07-28');
      expect((await c.listTools()).tools.map((tool) => tool.name)).toEqual(['catalog_echo']);
      const echoed = await c.callTool({ name: 'catalog_echo', arguments: { text: 'hi' } });
      expect(JSON.stringify(echoed.content)).toContain('echo: {\\"text\\":\\"hi\\"}');
      await c.close();
      t.configure(backend('FailClosed'));
      const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
      const closed = await rpc(`${t.url}/mcp/mixed`, { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta } }, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' });
      expect(closed.body.error?.message).toMatch(/orders/);
    } finally {
      await sse.close();
    }
  });
});

describe('prompts and resources in a federation', () => {
  it('prefixes and routes prompts, routes resources by URI, and scopes prompts by policy', async () => {
    const sse = await startSseMcpServer([{ name: 'echo', description: 'Echo the text.' }]);
    try {
      const yaml = `
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayBackend
metadata: { name: mixed, namespace: trustusbank-platform }
spec:
  mcp:
    targets:
      - { name: catalog, static: { host: catalog.example, port: 3001, protocol: SSE } }
      - { name: account, static: { host: account-mcp.trustusbank-bank-mcp.svc.cluster.local, port: 8080 } }
---
${routeYaml('mixed-route', '/mcp/mixed', { agentgatewayBackend: 'mixed' })}
---
${policy('EnterpriseAgentgatewayPolicy', 'no-translate', 'AgentgatewayBackend/mixed', `  backend:\n    mcp:\n      authorization:\n        action: Deny\n        policy:\n          matchExpressions: ['mcp.prompt.name == "translate"']`)}`;
      t = await startTestGateway({ yaml, upstreams: { 'catalog.example:3001': sse.url, [ACCOUNT]: account.url } });
      const c = await client(`${t.url}/mcp/mixed`, '2025-11-25');
      expect((await c.listPrompts()).prompts.map((p) => p.name)).toEqual(['catalog_summarise']);
      const prompt = await c.getPrompt({ name: 'catalog_summarise' });
      expect(JSON.stringify(prompt.messages)).toContain('prompt summarise');
      await expect(c.getPrompt({ name: 'catalog_translate' })).rejects.toThrow(/Unknown prompt: catalog_translate/);
      expect((await c.listResources()).resources.map((r) => r.uri)).toEqual(['catalog://items']);
      expect(JSON.stringify((await c.readResource({ uri: 'catalog://items' })).contents)).toContain('item list');
      await c.close();
    } finally {
      await sse.close();
    }
  });
});

describe('JWT authentication, per-user RBAC and token exchange', () => {
  let idp: { jwks: string; sign(sub: string, options?: { issuer?: string; expiresIn?: string }): Promise<string> };
  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'lab6', alg: 'ES256', use: 'sig' };
    idp = {
      jwks: JSON.stringify({ keys: [jwk] }),
      sign: (sub, options = {}) =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'ES256', kid: 'lab6' })
          .setSubject(sub)
          .setIssuer(options.issuer ?? 'http://lab6')
          .setAudience('lab6')
          .setIssuedAt()
          .setExpirationTime(options.expiresIn ?? '10m')
          .sign(privateKey),
    };
  });

  const jwtPolicies = () => `
${policy('EnterpriseAgentgatewayPolicy', 'mcp-jwt-auth', 'Gateway/trustusbank-agentgw', `  traffic:\n    jwtAuthentication:\n      mode: Strict\n      providers:\n        - issuer: http://lab6\n          audiences: [lab6]\n          jwks:\n            inline: '${idp.jwks}'`)}
---
${policy(
  'EnterpriseAgentgatewayPolicy',
  'mcp-user-rbac',
  'AgentgatewayBackend/bank-be',
  `  backend:
    mcp:
      authorization:
        action: Allow
        policy:
          matchExpressions:
            - 'jwt.sub == "alice" && mcp.tool.name == "get_balance" && mcp.tool.target == "account"'
            - 'jwt.sub == "alice" && mcp.tool.name == "list_recent" && mcp.tool.target == "transaction"'
            - 'jwt.sub == "bob" && mcp.tool.name == "get_balance" && mcp.tool.target == "account"'`,
)}`;

  it('gives alice and bob different tools on the host listener, and answers 401 without a valid token', async () => {
    const gw = await gateway(`${BASE}\n---\n${FEDERATION}\n---\n${jwtPolicies()}`);
    const tools = async (token: string) => {
      const c = await client(`${gw.hostUrl}/mcp/bank`, '2025-11-25', { authorization: `Bearer ${token}` });
      const names = (await c.listTools()).tools.map((tool) => tool.name).sort();
      await c.close();
      return names;
    };
    expect(await tools(await idp.sign('alice'))).toEqual(['account_get_balance', 'transaction_list_recent']);
    expect(await tools(await idp.sign('bob'))).toEqual(['account_get_balance']);
    const none = await rpc(`${gw.hostUrl}/mcp/bank`, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const expired = await rpc(`${gw.hostUrl}/mcp/bank`, { jsonrpc: '2.0', id: 0, method: 'initialize' }, { authorization: `Bearer ${await idp.sign('alice', { expiresIn: '-5m' })}` });
    expect(expired.status).toBe(401);
    expect(await metric(gw, 'agentgateway_requests_total', { status: '401', reason: 'JwtAuth' })).toBe(2);
  });

  it('serves the host listener to a caller a JWT policy authenticated and a policy allows by its claims, and no one else', async () => {
    const optionalJwt = policy('EnterpriseAgentgatewayPolicy', 'ops-jwt', 'Gateway/trustusbank-agentgw', `  traffic:\n    jwtAuthentication:\n      mode: Optional\n      providers:\n        - issuer: http://lab6\n          audiences: [lab6]\n          jwks:\n            inline: '${idp.jwks}'`);
    const opsBalance = policy(
      'AgentgatewayPolicy',
      'ops-balance',
      'HTTPRoute/account-mcp-route',
      `  traffic:\n    authorization:\n      action: Allow\n      policy:\n        matchExpressions:\n          - 'jwt.sub == "ops" && mcp.method == "tools/call" && mcp.tool.name == "get_balance"'`,
    );
    const gw = await gateway(`${BASE}\n---\n${optionalJwt}\n---\n${opsBalance}`);
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
    const call = async (tool: string, sub?: string) =>
      rpc(
        `${gw.hostUrl}/mcp/account`,
        { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: { account_id: '12345' }, _meta: meta } },
        { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': tool, ...(sub ? { authorization: `Bearer ${await idp.sign(sub)}` } : {}) },
      );
    const ops = await call('get_balance', 'ops');
    expect(ops.status).toBe(200);
    expect((ops.body.result as { structuredContent: unknown }).structuredContent).toMatchObject({ balance: 4287.55 });
    // Authenticated is not authorized: the policy still decides.
    expect((await call('get_profile', 'ops')).body.error?.data).toMatchObject({ reason: 'Authorization', policy: 'trustusbank-platform/ops-balance' });
    expect((await call('get_balance', 'mallory')).body.error?.data).toMatchObject({ reason: 'Authorization' });
    // Optional mode lets a request without a token through authentication; it is then anonymous.
    const none = await call('get_balance');
    expect(none.status).toBe(403);
    expect(none.body.error?.data).toMatchObject({ reason: 'Unauthenticated' });
  });

  it('exchanges alice’s token for an on-behalf-of token that keeps sub; an upstream trusting only the STS takes that and refuses the IdP token', async () => {
    const sts = policy(
      'EnterpriseAgentgatewayPolicy',
      'sts',
      'Gateway/trustusbank-agentgw',
      `  traffic:\n    tokenExchange:\n      issuer: https://sts.trustusbank.local\n      tokenExpiration: 5m\n      subjectValidator:\n        issuer: http://lab6\n        audiences: [lab6]\n        jwks:\n          inline: '${idp.jwks}'`,
    );
    const onlySts = policy(
      'EnterpriseAgentgatewayPolicy',
      'upstream-trusts-sts',
      'HTTPRoute/account-mcp-route',
      `  traffic:\n    jwtAuthentication:\n      mode: Strict\n      providers:\n        - issuer: https://sts.trustusbank.local\n          jwks:\n            remote: { url: 'http://trustusbank-agentgw.trustusbank-platform.svc.cluster.local:8080/.well-known/jwks.json' }`,
    );
    const gw = await gateway(`${BASE}\n---\n${sts}\n---\n${onlySts}`);
    gw.upstreams.set('trustusbank-agentgw.trustusbank-platform.svc.cluster.local:8080', gw.url);
    const bot = await gw.as('trustusbank-bank-agents', 'support-bot');
    const alice = await idp.sign('alice');
    const exchanged = await fetch(`${bot}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: alice, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt' }).toString(),
    });
    expect(exchanged.status).toBe(200);
    const { access_token: obo } = (await exchanged.json()) as { access_token: string };
    const claims = JSON.parse(Buffer.from(obo.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: 'alice', iss: 'https://sts.trustusbank.local', act: { sub: 'spiffe://cluster.local/ns/trustusbank-bank-agents/sa/support-bot' } });
    const init = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } };
    expect((await rpc(`${gw.url}/mcp/account`, init, { authorization: `Bearer ${obo}` })).status).toBe(200);
    expect((await rpc(`${gw.url}/mcp/account`, init, { authorization: `Bearer ${alice}` })).status).toBe(401);
  });
});

describe('rate limit, A2A and telemetry', () => {
  it('answers 429 with x-ratelimit headers past the route’s local limit', async () => {
    const limited = policy('AgentgatewayPolicy', 'limit', 'HTTPRoute/account-mcp-route', `  traffic:\n    rateLimit:\n      local: [{ requests: 2, unit: Minutes }]`);
    const gw = await gateway(`${BASE}\n---\n${limited}`);
    const statuses: number[] = [];
    let last: Headers | undefined;
    for (let i = 0; i < 3; i++) {
      const answer = await rpc(`${gw.url}/mcp/account`, { jsonrpc: '2.0', id: 1, method: 'ping' });
      statuses.push(answer.status);
      last = answer.headers;
      // A reconfiguration (any change in the cluster) must not refill the bucket.
      gw.configure(`${BASE}\n---\n${limited}`);
    }
    expect(statuses[2]).toBe(429);
    expect(last?.get('x-ratelimit-limit')).toBe('2');
    expect(last?.get('x-ratelimit-remaining')).toBe('0');
    // Another route is not limited.
    expect((await rpc(`${gw.url}/nowhere`, {})).status).toBe(404);
  });

  // The attack of issue 12: with 2 requests a minute, three requests of 20 batched calls each were 40 calls served.
  it('lets batched calls through no more than the limit allows, and refuses a 1,000-call batch at once', async () => {
    const limited = policy('AgentgatewayPolicy', 'limit', 'HTTPRoute/account-mcp-route', `  traffic:\n    rateLimit:\n      local: [{ requests: 2, unit: Minutes }]`);
    const gw = await gateway(`${BASE}\n---\n${limited}`);
    const accountPosts = async () => seriesValue(await (await fetch(`${account.url}/metrics`)).text(), 'http_requests_total', { method: 'POST' });
    const before = await accountPosts();
    const call = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'get_balance', arguments: { account_id: '12345' } } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await rpc(`${gw.url}/mcp/account`, Array.from({ length: 20 }, (_, j) => call(i * 20 + j)))).status);
    // The first two requests took the two tokens and were refused as batches; the third met the limit.
    expect(statuses).toEqual([400, 400, 429]);
    expect(await metric(gw, 'agentgateway_mcp_requests_total', { method: 'tools/call' })).toBe(0);
    expect(await accountPosts()).toBe(before);
    await gw.close();

    const open = await gateway(BASE);
    const started = performance.now();
    const huge = await rpc(`${open.url}/mcp/account`, Array.from({ length: 1000 }, (_, j) => call(j)));
    const elapsedMs = performance.now() - started;
    expect(huge.status).toBe(400);
    expect(huge.body.error).toMatchObject({ code: -32600, data: { batchSize: 1000 } });
    // Refused on its shape, without a single upstream round trip (it kept the gateway busy 16.5 s before).
    expect(elapsedMs).toBeLessThan(2000);
    expect(await metric(open, 'agentgateway_mcp_requests_total', { method: 'tools/call' })).toBe(0);
    expect(await accountPosts()).toBe(before);
  });

  it('rewrites agent-card URLs to the gateway and reads A2A methods of both protocol versions', async () => {
    const agent = await startReceiver((req, res) => {
      if (req.url?.endsWith('/.well-known/agent-card.json')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ name: 'support-bot', url: 'http://support-bot.trustusbank-bank-agents:8080/', supportedInterfaces: [{ url: 'http://10.244.0.5:8080/', protocolBinding: 'JSONRPC' }] }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"jsonrpc":"2.0","id":1,"result":{}}');
    });
    try {
      const denySend = policy('AgentgatewayPolicy', 'no-send', 'HTTPRoute/agent-route', `  traffic:\n    authorization:\n      action: Deny\n      policy:\n        matchExpressions: ['a2a.operation == "SendMessage" && source.identity.serviceAccount == "rogue"']`);
      const yaml = [referenceGrantYaml('trustusbank-bank-agents'), serviceYaml('support-bot', 'trustusbank-bank-agents', 'agentgateway.dev/a2a'), routeYaml('agent-route', '/a2a/support-bot', { service: 'support-bot', namespace: 'trustusbank-bank-agents' }), denySend].join('\n---\n');
      t = await startTestGateway({ yaml, upstreams: { 'support-bot.trustusbank-bank-agents.svc.cluster.local:8080': agent.url } });
      const card = (await (await fetch(`${t.url}/a2a/support-bot/.well-known/agent-card.json`)).json()) as { url: string; supportedInterfaces: { url: string }[] };
      expect(card.url).toBe(`${t.url}/a2a/support-bot`);
      expect(card.supportedInterfaces[0]!.url).toBe(`${t.url}/a2a/support-bot`);
      const rogue = await t.as('trustusbank-bank-agents', 'rogue');
      for (const method of ['SendMessage', 'message/send']) {
        expect((await rpc(`${rogue}/a2a/support-bot/`, { jsonrpc: '2.0', id: 1, method, params: { message: { messageId: 'm1' } } })).status).toBe(403);
        expect((await rpc(`${t.url}/a2a/support-bot/`, { jsonrpc: '2.0', id: 1, method, params: { message: { messageId: 'm1' } } })).status).toBe(200);
      }
      // An anonymous host caller gets no call to the agent, whether or not the gateway can read the body.
      for (const body of [{ jsonrpc: '2.0', id: 1, method: 'message/send', params: { message: { messageId: 'm1' } } }, '{"jsonrpc":"2.0","method":']) {
        const anonymous = await rpc(`${t.hostUrl}/a2a/support-bot/`, body);
        expect(anonymous.status).toBe(403);
        expect(anonymous.body).toMatchObject({ reason: 'Unauthenticated' });
      }
      expect(agent.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
    } finally {
      await agent.close();
    }
  });

  it('records a span per request that continues the caller’s trace, and forwards the trace context', async () => {
    const gw = await gateway(BASE);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const answer = await rpc(`${gw.url}/mcp/account`, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    expect(answer.status).toBe(200);
    const line = gw.logs.find((l) => l.msg === 'request');
    expect(line?.['trace.id']).toBe(traceId);
  });
});
