// The agent gateway's cost on an MCP tools/call: `get_balance` on the bank's account-mcp server at revision
// 2026-07-28 (stateless, one POST per call), sent straight to the server (the baseline) and through the gateway at
// /mcp/account as fraud-bot (a listener whose connections carry that mesh identity, as HBONE streams would;
// the host listener serves no anonymous tool call) with 10 CEL authorization rules in force on the route,
// measured in the same run.
// Both sides use the same client: node:http with a keep-alive Agent and one pre-serialised body, so client
// overhead is small and equal. Latency is measured sequentially, direct and gateway calls interleaved so that
// drift in machine load falls on both alike; throughput runs a fixed number of calls in flight, in alternating
// rounds. The design target is ≤ 0.5 ms added at p50. The rules' own decision cost is measured by `bench cel`.
import { Agent, request } from 'node:http';
import { accountMcp } from '../apps/account-mcp/server.ts';
import { referenceGrantYaml, routeYaml, serviceYaml, startTestGateway } from '../testing/gateway.ts';
import { startTestWorkload } from '../testing/workloads.ts';
import { sized } from './stats.ts';

const LATENCY_CALLS = sized(5_000, 20); // per side
const LATENCY_MAX_MS = sized(16_000, 2_000); // both sides together (interleaved)
const WARMUP_CALLS = sized(500, 5); // per side
const CONCURRENCY = 16;
const THROUGHPUT_ROUNDS = sized(3, 1);
const THROUGHPUT_CALLS = sized(20_000, 50); // per side and round
const THROUGHPUT_ROUND_MS = sized(2_000, 500); // per side and round
const TARGET_ADDED_P50_MS = 0.5;

const REVISION = '2026-07-28';
const ACCOUNT = 'account-mcp.trustusbank-bank-mcp.svc.cluster.local:8080';
const ROUTE = 'account-mcp-route';

function policyYaml(name: string, action: 'Allow' | 'Deny' | 'Require', expressions: string[]): string {
  return `
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayPolicy
metadata: { name: ${name}, namespace: trustusbank-platform }
spec:
  targetRefs: [{ group: gateway.networking.k8s.io, kind: HTTPRoute, name: ${ROUTE} }]
  traffic:
    authorization:
      action: ${action}
      policy:
        matchExpressions:
${expressions.map((expression) => `          - '${expression.replaceAll("'", "''")}'`).join('\n')}`;
}

// 10 rules, all evaluated on every benchmarked call: no Deny rule matches (all four run), every Require rule holds
// (all three run), and Allow rules are alternatives (the first true one grants), so the one that matches this call
// comes last and the two before it run and do not match (rule 9 stops at the tool name); that last rule reads
// the caller's mesh identity and address.
const DENY = [
  'mcp.tool.arguments.exists(k, k in ["customer_profile", "ni_number", "email", "dob", "address"])',
  'size(mcp.tool.arguments.account_id) > 32',
  'mcp.tool.arguments.account_id.startsWith("internal-")',
  'has(mcp.tool.arguments.amount) && mcp.tool.arguments.amount > 10000',
];
const REQUIRE = ['request.path.startsWith("/mcp/")', 'request.headers["content-type"].startsWith("application/json")', 'request.headers["user-agent"].matches("^[a-z-]+/[0-9.]+$")'];
const ALLOW = [
  'mcp.method in ["initialize", "notifications/initialized", "ping", "server/discover", "tools/list"]',
  'mcp.method == "tools/call" && mcp.tool.name == "get_profile" && source.identity.serviceAccount == "support-bot"',
  'mcp.method == "tools/call" && mcp.tool.name in ["get_balance"] && source.identity.namespace == "trustusbank-bank-agents" && source.address.startsWith("10.")',
];
const RULE_COUNT = DENY.length + REQUIRE.length + ALLOW.length;

const GATEWAY_CONFIG = [
  referenceGrantYaml('trustusbank-bank-mcp'),
  serviceYaml('account-mcp', 'trustusbank-bank-mcp'),
  routeYaml(ROUTE, '/mcp/account', { service: 'account-mcp', namespace: 'trustusbank-bank-mcp' }),
  policyYaml('bench-no-pii', 'Deny', DENY),
  policyYaml('bench-well-formed', 'Require', REQUIRE),
  policyYaml('bench-allowlist', 'Allow', ALLOW),
].join('\n---\n');

const META = { 'io.modelcontextprotocol/protocolVersion': REVISION, 'io.modelcontextprotocol/clientInfo': { name: 'bench-agent', version: '1.0' }, 'io.modelcontextprotocol/clientCapabilities': {} };

function callBody(name: string, args: Record<string, unknown>): string {
  return JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args, _meta: META } });
}

function callHeaders(name: string, body: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'content-length': String(Buffer.byteLength(body)),
    'user-agent': 'bench-agent/1.0',
    'mcp-protocol-version': REVISION,
    'mcp-method': 'tools/call',
    'mcp-name': name,
    ...extra,
  };
}

interface Endpoint {
  label: string;
  url: URL;
  agent: Agent;
}

function endpoint(label: string, url: string): Endpoint {
  return { label, url: new URL(url), agent: new Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 }) };
}

/** One POST; resolves with the status and the body text. */
function post(target: Endpoint, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ agent: target.agent, host: target.url.hostname, port: target.url.port, path: target.url.pathname, method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const BALANCE_BODY = callBody('get_balance', { account_id: '12345' });
const BALANCE_HEADERS = callHeaders('get_balance', BALANCE_BODY);

/** The benchmarked call: get_balance of account 12345, checked cheaply (same check on both sides). */
async function getBalance(target: Endpoint): Promise<void> {
  const { status, text } = await post(target, BALANCE_BODY, BALANCE_HEADERS);
  if (status !== 200 || !text.includes('4287.55')) throw new Error(`${target.label}: HTTP ${status} ${text.slice(0, 300)}`);
}

/** The JSON-RPC answer in a body that is JSON or an SSE stream. */
function answerOf(text: string): { result?: Record<string, unknown>; error?: { code: number; message: string } } {
  const data = text.trimStart().startsWith('{')
    ? text
    : text
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trim())
        .join('\n');
  return JSON.parse(data) as never;
}

/** Before timing anything: the call works on both sides, and the rules are really in force on the gateway. */
async function checkSetup(direct: Endpoint, gateway: Endpoint): Promise<void> {
  for (const target of [direct, gateway]) {
    const { status, text } = await post(target, BALANCE_BODY, BALANCE_HEADERS);
    const answer = answerOf(text);
    const structured = answer.result?.structuredContent as Record<string, unknown> | undefined;
    const content = answer.result?.content as { text?: string }[] | undefined;
    const value = structured ?? (JSON.parse(content?.[0]?.text ?? '{}') as Record<string, unknown>);
    if (status !== 200 || value.balance !== 4287.55) throw new Error(`${target.label}: unexpected answer HTTP ${status} ${text.slice(0, 300)}`);
  }
  const refused: { why: string; name: string; args: Record<string, unknown>; headers?: Record<string, string> }[] = [
    { why: 'PII key in arguments (deny 1)', name: 'get_balance', args: { account_id: '12345', ni_number: 'QQ 12 34 56 C' } },
    { why: 'oversized account_id (deny 2)', name: 'get_balance', args: { account_id: '1'.repeat(40) } },
    { why: 'internal- account (deny 3)', name: 'get_balance', args: { account_id: 'internal-12345' } },
    { why: 'amount over 10000 (deny 4)', name: 'get_balance', args: { account_id: '12345', amount: 20000 } },
    { why: 'user-agent not name/version (require 3)', name: 'get_balance', args: { account_id: '12345' }, headers: { 'user-agent': 'curl' } },
    { why: 'tool not on this caller’s allowlist (allow)', name: 'get_profile', args: { account_id: '12345' } },
  ];
  for (const probe of refused) {
    const body = callBody(probe.name, probe.args);
    const { status, text } = await post(gateway, body, callHeaders(probe.name, body, probe.headers));
    if (status !== 403) throw new Error(`gateway did not refuse a call (${probe.why}): HTTP ${status} ${text.slice(0, 300)}`);
  }
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface Latency {
  label: string;
  p50: number;
  p99: number;
  n: number;
}

function latencyOf(label: string, millis: number[]): Latency {
  const sorted = [...millis].sort((a, b) => a - b);
  return { label, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), n: sorted.length };
}

async function timed(target: Endpoint, into: number[]): Promise<void> {
  const started = performance.now();
  await getBalance(target);
  into.push(performance.now() - started);
}

/** Sequential calls, one at a time, direct and gateway interleaved (alternating which goes first). */
async function latency(direct: Endpoint, gateway: Endpoint): Promise<{ direct: Latency; gateway: Latency }> {
  const directMs: number[] = [];
  const gatewayMs: number[] = [];
  const deadline = performance.now() + LATENCY_MAX_MS;
  for (let i = 0; i < LATENCY_CALLS && performance.now() < deadline; i++) {
    if (i % 2 === 0) {
      await timed(direct, directMs);
      await timed(gateway, gatewayMs);
    } else {
      await timed(gateway, gatewayMs);
      await timed(direct, directMs);
    }
  }
  return { direct: latencyOf(direct.label, directMs), gateway: latencyOf(gateway.label, gatewayMs) };
}

/** CONCURRENCY calls in flight until THROUGHPUT_CALLS are done or THROUGHPUT_ROUND_MS passes; calls per second. */
async function throughputRound(target: Endpoint): Promise<number> {
  let started = 0;
  let completed = 0;
  const begin = performance.now();
  const deadline = begin + THROUGHPUT_ROUND_MS;
  const worker = async (): Promise<void> => {
    while (started < THROUGHPUT_CALLS && performance.now() < deadline) {
      started++;
      await getBalance(target);
      completed++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return completed / ((performance.now() - begin) / 1000);
}

const fmtMs = (ms: number) => `${ms.toFixed(3)} ms`;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

function printLatency(direct: Latency, gateway: Latency): void {
  console.log(`\nLatency: MCP ${REVISION} tools/call get_balance, sequential, one call in flight (direct and gateway interleaved)`);
  console.log(`  ${'case'.padEnd(52)} ${'p50'.padStart(10)} ${'p99'.padStart(10)} ${'n'.padStart(6)}  ratio p50 vs baseline`);
  for (const sample of [direct, gateway]) {
    const ratio = sample === direct ? 'baseline' : `${(sample.p50 / direct.p50).toFixed(2)} ×`;
    console.log(`  ${sample.label.padEnd(52)} ${fmtMs(sample.p50).padStart(10)} ${fmtMs(sample.p99).padStart(10)} ${String(sample.n).padStart(6)}  ${ratio}`);
  }
  const addedP50 = gateway.p50 - direct.p50;
  const addedP99 = gateway.p99 - direct.p99;
  console.log(`  added by the gateway (gateway − direct): p50 ${fmtMs(addedP50)}, p99 ${fmtMs(addedP99)}  (differences of the percentiles)`);
  console.log(`  target ≤ ${TARGET_ADDED_P50_MS} ms added at p50: ${addedP50 <= TARGET_ADDED_P50_MS ? 'met' : 'NOT met'} (${fmtMs(addedP50)})`);
}

function printThroughput(direct: { label: string; rates: number[] }, gateway: { label: string; rates: number[] }): void {
  const baseline = median(direct.rates);
  console.log(`\nThroughput: ${CONCURRENCY} calls in flight, ${THROUGHPUT_ROUNDS} rounds per side (≤ ${THROUGHPUT_CALLS} calls or ${THROUGHPUT_ROUND_MS / 1000} s each), alternating`);
  console.log(`  ${'case'.padEnd(52)} ${'median'.padStart(12)} ${'min'.padStart(12)} ${'max'.padStart(12)}  ratio vs baseline`);
  for (const row of [direct, gateway]) {
    const mid = median(row.rates);
    const ratio = row === direct ? 'baseline' : `${(mid / baseline).toFixed(2)} ×`;
    const fmt = (rate: number) => `${rate.toFixed(0)} /s`;
    console.log(`  ${row.label.padEnd(52)} ${fmt(mid).padStart(12)} ${fmt(Math.min(...row.rates)).padStart(12)} ${fmt(Math.max(...row.rates)).padStart(12)}  ${ratio}`);
  }
}

export async function run(): Promise<void> {
  const workload = await startTestWorkload('account-mcp', accountMcp);
  // fraud-bot: rule 9 grants get_profile to support-bot only, so the setup check can see an Allow refuse.
  const gw = await startTestGateway({ yaml: GATEWAY_CONFIG, upstreams: { [ACCOUNT]: workload.url }, caller: { namespace: 'trustusbank-bank-agents', serviceAccount: 'fraud-bot' } });
  const direct = endpoint('direct to account-mcp (baseline)', new URL('/mcp', workload.url).toString());
  const gateway = endpoint(`through the gateway, ${RULE_COUNT} CEL rules on the route`, `${gw.url}/mcp/account`);
  try {
    await checkSetup(direct, gateway);
    for (let i = 0; i < WARMUP_CALLS; i++) {
      await getBalance(direct);
      await getBalance(gateway);
    }
    await Promise.all([throughputRound(direct), throughputRound(gateway)]); // warm the pooled connections too
    gw.logs.length = 0; // the test harness keeps every access-log line; do not let it grow across phases

    const sequential = await latency(direct, gateway);
    printLatency(sequential.direct, sequential.gateway);
    gw.logs.length = 0;

    const directRates: number[] = [];
    const gatewayRates: number[] = [];
    for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
      directRates.push(await throughputRound(direct));
      gatewayRates.push(await throughputRound(gateway));
      gw.logs.length = 0;
    }
    printThroughput({ label: direct.label, rates: directRates }, { label: gateway.label, rates: gatewayRates });
    console.log(`\n  The gateway's own CEL decision cost (10 rules, µs per decision, against plain JS) is measured by \`bench cel\`.`);
  } finally {
    direct.agent.destroy();
    gateway.agent.destroy();
    await gw.close();
    await workload.close();
  }
}
