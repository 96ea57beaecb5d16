// The agent gateway inside the running cluster: a built-in proxy with its own SPIFFE identity, its own
// Service (trustusbank-agentgw:8080) provisioned from the Gateway, the routes and allowlists of
// deploy/manifests/gateway applied by `up`, callers identified by their mesh certificates, and upstream calls
// made as the gateway's identity (which the mesh policies allow, and nothing else does). The attack: the
// converter's identity, the attacker's and an anonymous host client each ask for get_profile through the
// gateway. The clean run: the agents get exactly their tools, and the seed question is answered with every
// layer on. Requests from pods are made with their identity (`trustusbank exec … -- trustusbank curl`).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { readManifestDocuments } from '../src/control-plane/cluster.ts';
import { GATEWAY_POLICIES, MESH_POLICIES } from '../src/scenario.ts';
import { seriesValue, startTestCluster, type TestCluster } from '../testing/cluster.ts';
import type { CliResult } from '../testing/cli.ts';

const GATEWAY = 'http://trustusbank-agentgw.trustusbank-platform.svc.cluster.local:8080';
const SEED_PROMPT = 'I am customer 12345. Please check my balance, list my recent transactions, and convert my balance to USD.';
const META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'curl', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
const SUPPORT_BOT = ['trustusbank-bank-agents', 'support-bot'] as const;
const CONVERTER = ['trustusbank-bank-vendors', 'currency-converter'] as const;
const ATTACKER = ['external-attacker', 'mock-attacker'] as const;

/** `trustusbank curl` arguments for one stateless (2026-07-28) MCP request: one request, no session to open. */
function mcpRequest(route: string, method: 'tools/call' | 'tools/list', tool?: { name: string; arguments: Record<string, unknown> }): string[] {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: { ...(tool ?? {}), _meta: META } });
  return ['-s', '-i', '-H', 'accept: application/json, text/event-stream', '-H', 'mcp-protocol-version: 2026-07-28', '-H', `mcp-method: ${method}`, ...(tool ? ['-H', `mcp-name: ${tool.name}`] : []), '-d', body, `${GATEWAY}${route}`];
}

/** The status and JSON body of `curl -i` output. */
function answerOf(result: CliResult): { code: number | null; status?: number; body?: Record<string, unknown> & { error?: { code: number; message: string; data?: Record<string, unknown> }; result?: Record<string, unknown> } } {
  const status = /^HTTP\/1\.1 (\d+)/.exec(result.stdout)?.[1];
  const text = result.stdout.split('\n\n').slice(1).join('\n\n').trim();
  return { code: result.code, ...(status ? { status: Number(status) } : {}), ...(text ? { body: JSON.parse(text) as never } : {}) };
}

const getProfile = { name: 'get_profile', arguments: { account_id: '12345' } };

describe('the agent gateway in the cluster', () => {
  let t: TestCluster;
  beforeAll(async () => {
    t = await startTestCluster();
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  const hostUrl = () => t.cluster.forwards.find((f) => f.service === 'trustusbank-agentgw')!.url;
  const gatewayLog = () =>
    readFileSync(join(t.dataDir, 'logs', 'agentgateway.log'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const requests = async (labels: Record<string, string>) => seriesValue(await t.metricsText(), 'agentgateway_requests_total', { gateway: 'trustusbank-platform/trustusbank-agentgw', ...labels });
  const from = async ([namespace, workload]: readonly [string, string], args: string[]) => answerOf(await t.curlFrom(namespace, workload, args));
  const toolsOf = (answer: ReturnType<typeof answerOf>) => ((answer.body?.result as { tools?: { name: string }[] } | undefined)?.tools ?? []).map((tool) => tool.name);
  /** What an MCP client on the host gets: it has no mesh identity. */
  const fromHost = (route: string, body: Record<string, unknown>, headers: Record<string, string>) =>
    fetch(new URL(route, hostUrl()), { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', ...headers }, body: JSON.stringify(body) });

  it('runs with its own identity and Service; from the host it serves no anonymous caller, and says how to be allowed', async () => {
    const workload = t.cluster.engine.workloadByIp(t.cluster.engine.service(`trustusbank-agentgw.trustusbank-platform.svc.cluster.local`, 'default')!.clusterIp);
    expect(workload).toBeUndefined(); // a Service address, not a workload address
    const endpoints = t.cluster.engine.endpoints(t.cluster.engine.service('trustusbank-agentgw.trustusbank-platform.svc.cluster.local', 'default')!);
    expect(endpoints.map((e) => e.spiffeId)).toEqual(['spiffe://cluster.local/ns/trustusbank-platform/sa/trustusbank-agentgw']);
    const status = await t.cli(['status']);
    expect(status.stdout).toMatch(/trustusbank-platform\s+trustusbank-agentgw\s+agentgateway\s+spiffe:\/\/cluster\.local\/ns\/trustusbank-platform\/sa\/trustusbank-agentgw/);

    const client = new Client({ name: 'host', version: '1.0.0' });
    await expect(client.connect(new StreamableHTTPClientTransport(new URL('/mcp/currency-converter', hostUrl())))).rejects.toThrow(/the caller is anonymous[\s\S]*jwtAuthentication/);
    const anonymous = await fromHost('/mcp/account', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { ...getProfile, _meta: META } }, { 'mcp-method': 'tools/call', 'mcp-name': 'get_profile' });
    expect(anonymous.status).toBe(403);
    expect(((await anonymous.json()) as { error: { data: unknown } }).error.data).toEqual({ reason: 'Unauthenticated' });
    // The access log is written as the answer goes out; read it until the line is there (bounded).
    await expect.poll(() => gatewayLog(), { timeout: 10_000 }).toContainEqual(expect.objectContaining({ msg: 'request', 'src.identity': 'anonymous', 'gen_ai.tool.name': 'get_profile', 'http.status': 403, reason: 'Unauthenticated' }));

    const converted = await from(SUPPORT_BOT, mcpRequest('/mcp/currency-converter', 'tools/call', { name: 'convert_currency', arguments: { amount: 4287.55, from_ccy: 'GBP', to_ccy: 'USD' } }));
    expect(converted.status).toBe(200);
    expect(converted.body?.result?.structuredContent).toMatchObject({ converted: 5445.19 });
  }, 60_000);

  it('serves each route to the agents that use it: the converter and the attacker get 403 for get_profile, counted; support-bot gets it', async () => {
    const before = await requests({ route: 'account-mcp-route', status: '403', reason: 'Authorization' });
    for (const caller of [CONVERTER, ATTACKER]) {
      const denied = await from(caller, mcpRequest('/mcp/account', 'tools/call', getProfile));
      expect(denied.status, caller.join('/')).toBe(403);
      expect(denied.body?.error?.data).toMatchObject({ reason: 'Authorization', policy: 'trustusbank-platform/account-mcp-allowlist' });
    }
    // Not even the list: a caller sees only what it may call.
    expect((await from(CONVERTER, mcpRequest('/mcp/account', 'tools/list'))).status).toBe(403);
    expect(await requests({ route: 'account-mcp-route', status: '403', reason: 'Authorization' })).toBe(before + 3);
    const line = gatewayLog().find((l) => l.msg === 'request' && l['src.identity'] === 'spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter' && l['gen_ai.tool.name'] === 'get_profile');
    expect(line).toMatchObject({ route: 'account-mcp-route', 'http.status': 403, reason: 'Authorization', policy: 'trustusbank-platform/account-mcp-allowlist' });

    const profile = await from(SUPPORT_BOT, mcpRequest('/mcp/account', 'tools/call', getProfile));
    expect(profile.status).toBe(200);
    expect(profile.body?.result?.structuredContent).toMatchObject({ account_id: '12345', name: 'Alex Carter' });
    expect(toolsOf(await from(SUPPORT_BOT, mcpRequest('/mcp/account', 'tools/list')))).toEqual(['get_balance', 'get_profile']);
    // fraud-bot reads profiles but not balances; triage-bot's only server is the ticket one.
    expect(toolsOf(await from(['trustusbank-bank-agents', 'fraud-bot'], mcpRequest('/mcp/account', 'tools/list')))).toEqual(['get_profile']);
    expect((await from(['trustusbank-bank-agents', 'triage-bot'], mcpRequest('/mcp/account', 'tools/call', getProfile))).status).toBe(403);
  }, 120_000);

  it('with every layer on, the mesh refuses the converter’s and the attacker’s connections to the gateway; the agents and the clean chat are served', async () => {
    const on = await t.cli(['policies', 'all', 'on']);
    expect(on.code).toBe(0);
    expect(on.stdout).toContain('AuthorizationPolicy trustusbank-platform/default-deny created');
    expect(on.stdout).toContain('AuthorizationPolicy trustusbank-platform/allow-agents-to-gateway created');
    try {
      // Refused on the caller's certificate before any HTTP: the connection is reset.
      for (const caller of [CONVERTER, ATTACKER]) {
        const refused = await from(caller, mcpRequest('/mcp/account', 'tools/call', getProfile));
        expect(refused.code, caller.join('/')).toBe(56);
        const failed = seriesValue(await t.metricsText(), 'istio_tcp_connections_failed_total', {
          reporter: 'source',
          response_flags: 'CONNECT',
          source_principal: `spiffe://cluster.local/ns/${caller[0]}/sa/${caller[1]}`,
          destination_workload: 'trustusbank-agentgw',
        });
        expect(failed, caller.join('/')).toBeGreaterThan(0);
      }
      const anonymous = await fromHost('/mcp/account', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { ...getProfile, _meta: META } }, { 'mcp-method': 'tools/call', 'mcp-name': 'get_profile' });
      expect(anonymous.status).toBe(403);

      const balance = await from(SUPPORT_BOT, mcpRequest('/mcp/account', 'tools/call', { name: 'get_balance', arguments: { account_id: '12345' } }));
      expect(balance.status).toBe(200);
      const clean = await t.chat(SEED_PROMPT);
      expect(clean.failed).toBe(false);
      expect(clean.tools.map((c) => c.name)).toEqual(['get_balance', 'list_recent', 'convert_currency']);
      expect(clean.reply).toContain('$5,445.19');
    } finally {
      expect((await t.cli(['policies', 'all', 'off'])).code).toBe(0);
    }
  }, 120_000);

  it('reaches the vendor as its own identity when the mesh policies are on; a bank pod cannot go around it', async () => {
    await t.cluster.engine.apply(readManifestDocuments(MESH_POLICIES, []));
    try {
      const converted = await from(SUPPORT_BOT, mcpRequest('/mcp/currency-converter', 'tools/call', { name: 'convert_currency', arguments: { amount: 1, from_ccy: 'GBP', to_ccy: 'EUR' } }));
      expect(converted.body?.result?.structuredContent).toMatchObject({ converted: 1.18 });
      const INIT = JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'curl', version: '1' } } });
      const direct = await t.curlFrom('trustusbank-bank-mcp', 'account-mcp', ['-d', INIT, 'http://currency-converter.trustusbank-bank-vendors.svc.cluster.local:8080/mcp']);
      expect(direct.code).not.toBe(0);
    } finally {
      await t.cluster.engine.delete(readManifestDocuments(MESH_POLICIES, []));
    }
  }, 60_000);

  it('applies the gateway policy layer with `policies gateway on` and takes it off again', async () => {
    const on = await t.cli(['policies', 'gateway', 'on']);
    expect(on.code).toBe(0);
    expect(on.stdout).toContain('AgentgatewayPolicy trustusbank-platform/deny-pii-in-tool-args created');
    expect(on.stdout).toContain('EnterpriseAgentgatewayPolicy trustusbank-platform/dlp-tool-arguments created');
    expect(on.stdout).toContain('Gateway policies are on.');
    expect(on.stdout).not.toContain('Mesh policies');
    const convert = (args: Record<string, unknown>) => from(SUPPORT_BOT, mcpRequest('/mcp/currency-converter', 'tools/call', { name: 'convert_currency', arguments: args }));
    expect((await convert({ amount: 1, from_ccy: 'GBP', to_ccy: 'USD' })).body?.result?.structuredContent).toMatchObject({ converted: 1.27 });
    const dlp = await convert({ amount: 1, from_ccy: 'GBP', to_ccy: 'USD', note: 'email alex.carter@gmail.com' });
    expect(dlp.status).toBe(403);
    expect(dlp.body?.error?.data).toMatchObject({ reason: 'DLP' });
    const off = await t.cli(['policies', 'gateway', 'off']);
    expect(off.stdout).toContain('Gateway policies are off.');
    expect(t.cluster.engine.list('EnterpriseAgentgatewayPolicy')).toEqual([]);
    const all = await t.cli(['policies', 'all', 'on']);
    expect(all.stdout).toContain('Mesh policies are on.');
    expect(all.stdout).toContain('Gateway policies are on.');
    expect((await t.cli(['policies', 'all', 'off'])).code).toBe(0);
    expect(t.cluster.engine.list('AuthorizationPolicy')).toEqual([]);
    const logs = await t.cli(['logs', 'agentgateway', '--tail', '50']);
    expect(logs.stdout.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>)).toContainEqual(expect.objectContaining({ msg: 'request', 'http.status': 403, reason: 'DLP' }));
  }, 60_000);

  it('pins the vendor’s tools, flags the same-tag rug-pull as drift, hides it under the pinning policy, and `gateway approve` re-pins', async () => {
    const server = 'currency-converter.trustusbank-bank-vendors.svc.cluster.local:8080/mcp';
    const listTools = async () => toolsOf(await from(SUPPORT_BOT, mcpRequest('/mcp/currency-converter', 'tools/list')));
    expect(await listTools()).toEqual(['convert_currency']);
    const before = JSON.parse((await t.cli(['gateway', 'tools', '--server', server, '--json'])).stdout) as { gateways: { gateway: string; servers: { drifted: boolean }[] }[] };
    expect(before.gateways.find((g) => g.gateway === 'trustusbank-platform/trustusbank-agentgw')!.servers).toEqual([expect.objectContaining({ server, drifted: false })]);

    // The vendor's bytes change behind the same tag; the Deployment rolls.
    const rugpull = t.cluster.builds.find((b) => b.image === 'acme-fx/currency-converter:1.0.0' && b.variant === 'rugpull')!;
    t.cluster.images.tag('acme-fx/currency-converter:1.0.0', rugpull.digest);
    await t.cluster.engine.reconcile();
    await t.cluster.engine.waitReady(30_000);
    const deadline = Date.now() + 15_000;
    while (t.cluster.engine.podsOf('trustusbank-bank-vendors', 'currency-converter').some((p) => p.imageDigest !== rugpull.digest) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

    // No pinning policy: still listed, but the drift is on record.
    expect(await listTools()).toEqual(['convert_currency']);
    const table = await t.cli(['gateway', 'tools', '--server', server]);
    expect(table.stdout).toMatch(/convert_currency\s+\S+\s+DRIFT: changed \(description, inputSchema\)/);
    expect(gatewayLog().some((l) => l.msg === 'tool drift' && l.server === server)).toBe(true);

    await t.cluster.engine.apply(readManifestDocuments(join(GATEWAY_POLICIES, 'tool-pinning.yaml'), []));
    try {
      expect(await listTools()).toEqual([]);
      const approved = await t.cli(['gateway', 'approve', server]);
      expect(approved.code).toBe(0);
      expect(approved.stdout).toContain('pinned convert_currency');
      expect(await listTools()).toEqual(['convert_currency']);
      const unknown = await t.cli(['gateway', 'approve', 'nowhere:1/mcp']);
      expect(unknown.code).not.toBe(0);
      expect(unknown.stderr).toContain('no agent gateway has seen the MCP server "nowhere:1/mcp"');
    } finally {
      await t.cluster.engine.delete(readManifestDocuments(join(GATEWAY_POLICIES, 'tool-pinning.yaml'), []));
    }
  }, 120_000);
});
