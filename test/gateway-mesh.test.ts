// The agent gateway inside the running cluster: a built-in proxy with its own SPIFFE identity, its own
// Service (trustusbank-agentgw:8080) provisioned from the Gateway, the routes and allowlists of
// deploy/manifests/gateway applied by `up`, callers identified by their mesh certificates, and upstream calls
// made as the gateway's identity (which the mesh policies allow, and nothing else does).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { readManifestDocuments } from '../src/control-plane/cluster.ts';
import { GATEWAY_POLICIES, MESH_POLICIES } from '../src/cli/commands/policies.ts';
import { seriesValue, startTestCluster, type TestCluster } from './support/cluster.ts';
import { callTool } from './support/workloads.ts';

const GATEWAY = 'http://trustusbank-agentgw.trustusbank-platform.svc.cluster.local:8080';
// Only the agents may read customer profiles through the gateway; identities come from the mesh.
const ONLY_BOTS = `
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayPolicy
metadata: { name: profiles-for-agents, namespace: trustusbank-platform }
spec:
  targetRefs: [{ group: gateway.networking.k8s.io, kind: HTTPRoute, name: account-mcp-route }]
  traffic:
    authorization:
      action: Deny
      policy:
        matchExpressions:
          - 'mcp.tool.name == "get_profile" && source.identity.namespace != "trustusbank-bank-agents"'
`;
const INIT = JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'curl', version: '1' } } });

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

  it('runs with its own identity and Service, and is reachable from the host', async () => {
    const workload = t.cluster.engine.workloadByIp(t.cluster.engine.service(`trustusbank-agentgw.trustusbank-platform.svc.cluster.local`, 'default')!.clusterIp);
    expect(workload).toBeUndefined(); // a Service address, not a workload address
    const endpoints = t.cluster.engine.endpoints(t.cluster.engine.service('trustusbank-agentgw.trustusbank-platform.svc.cluster.local', 'default')!);
    expect(endpoints.map((e) => e.spiffeId)).toEqual(['spiffe://cluster.local/ns/trustusbank-platform/sa/trustusbank-agentgw']);
    const status = await t.cli(['status']);
    expect(status.stdout).toMatch(/trustusbank-platform\s+trustusbank-agentgw\s+agentgateway\s+spiffe:\/\/cluster\.local\/ns\/trustusbank-platform\/sa\/trustusbank-agentgw/);
    const client = new Client({ name: 'host', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL('/mcp/currency-converter', hostUrl())));
    expect((await callTool(client, 'convert_currency', { amount: 4287.55, from_ccy: 'GBP', to_ccy: 'USD' })).value).toMatchObject({ converted: 5445.19 });
    await client.close();
  });

  it('knows a pod caller by its certificate and enforces the route allowlist', async () => {
    const ok = await t.curlFrom('trustusbank-bank-mcp', 'transaction-mcp', ['-i', '-H', 'accept: application/json, text/event-stream', '-d', INIT, `${GATEWAY}/mcp/account`]);
    expect(ok.stdout).toMatch(/^HTTP\/1\.1 200/);
    const line = gatewayLog().find((l) => l.msg === 'request' && l['src.identity'] === 'spiffe://cluster.local/ns/trustusbank-bank-mcp/sa/transaction-mcp');
    expect(line).toMatchObject({ route: 'account-mcp-route', 'http.status': 200, 'mcp.method.name': 'initialize' });

    // get_profile is a tool the account server lists, but not one a transaction-mcp pod may use here.
    const session = /mcp-session-id: (\S+)/i.exec(ok.stdout)![1]!;
    await t.cluster.engine.apply([{ file: 'only-bots.yaml', text: ONLY_BOTS }]);
    try {
      const call = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_profile', arguments: { account_id: '12345' } } });
      const denied = await t.curlFrom('trustusbank-bank-mcp', 'transaction-mcp', ['-i', '-H', `mcp-session-id: ${session}`, '-H', 'mcp-protocol-version: 2025-11-25', '-d', call, `${GATEWAY}/mcp/account`]);
      expect(denied.stdout).toMatch(/^HTTP\/1\.1 403/);
      expect(denied.stdout).toContain('"reason":"Authorization"');
      expect(seriesValue(await t.metricsText(), 'agentgateway_requests_total', { gateway: 'trustusbank-platform/trustusbank-agentgw', route: 'account-mcp-route', status: '403', reason: 'Authorization' })).toBe(1);
    } finally {
      await t.cluster.engine.delete([{ file: 'only-bots.yaml', text: ONLY_BOTS }]);
    }
  }, 60_000);

  it('reaches the vendor as its own identity when the mesh policies are on; a bank pod cannot go around it', async () => {
    await t.cluster.engine.apply(readManifestDocuments(MESH_POLICIES, []));
    try {
      const client = new Client({ name: 'host', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL('/mcp/currency-converter', hostUrl())));
      expect((await callTool(client, 'convert_currency', { amount: 1, from_ccy: 'GBP', to_ccy: 'EUR' })).value).toMatchObject({ converted: 1.18 });
      await client.close();
      const direct = await t.curlFrom('trustusbank-bank-mcp', 'account-mcp', ['-d', INIT, 'http://currency-converter.trustusbank-bank-vendors.svc.cluster.local:8080/mcp']);
      expect(direct.code).not.toBe(0);
    } finally {
      await t.cluster.engine.delete(readManifestDocuments(MESH_POLICIES, []));
    }
  });

  it('applies the gateway policy layer with `policies gateway on` and takes it off again', async () => {
    const on = await t.cli(['policies', 'gateway', 'on']);
    expect(on.code).toBe(0);
    expect(on.stdout).toContain('AgentgatewayPolicy trustusbank-platform/deny-pii-in-tool-args created');
    expect(on.stdout).toContain('EnterpriseAgentgatewayPolicy trustusbank-platform/dlp-tool-arguments created');
    expect(on.stdout).toContain('Gateway policies are on.');
    expect(on.stdout).not.toContain('Mesh policies');
    const client = new Client({ name: 'host', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL('/mcp/currency-converter', hostUrl())));
    expect((await callTool(client, 'convert_currency', { amount: 1, from_ccy: 'GBP', to_ccy: 'USD' })).value).toMatchObject({ converted: 1.27 });
    await expect(client.callTool({ name: 'convert_currency', arguments: { amount: 1, from_ccy: 'GBP', to_ccy: 'USD', note: 'email alex.carter@gmail.com' } })).rejects.toThrow(/403|Forbidden/);
    await client.close();
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
  });

  it('pins the vendor’s tools, flags the same-tag rug-pull as drift, hides it under the pinning policy, and `gateway approve` re-pins', async () => {
    const server = 'currency-converter.trustusbank-bank-vendors.svc.cluster.local:8080/mcp';
    const listTools = async () => {
      const client = new Client({ name: 'host', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL('/mcp/currency-converter', hostUrl())));
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      await client.close();
      return names;
    };
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
  });
});
