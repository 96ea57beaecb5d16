// What tracing costs: the same calls with tracing on (every span recorded, batched and stored by the trace
// collector) and off (the roots unsampled: trace context still propagates, nothing is recorded downstream),
// alternated call by call in the same run so that machine load falls on both alike.
//   1. An MCP tools/call (get_balance) through the agent gateway to account-mcp, in-process: the gateway's span,
//      the server's span and its execute_tool span, into a real collector.
//   2. A whole `chat` through a running cluster (the agents, the gateway, the MCP servers as pods, ztunnel): the
//      pods' spans over their channels, ztunnel's, the collector's stamping and storing.
// The baseline of each table is the same call with tracing off.
import { Agent, request } from 'node:http';
import { accountMcp } from '../apps/account-mcp/server.ts';
import { addSpanSink, flushSpans, setTracing } from '../src/core/tracing.ts';
import { startTraceCollector } from '../src/evidence/traces/collector.ts';
import { startTestCluster } from '../testing/cluster.ts';
import { referenceGrantYaml, routeYaml, serviceYaml, startTestGateway } from '../testing/gateway.ts';
import { startTestWorkload } from '../testing/workloads.ts';
import { report, sized, summarise } from './stats.ts';

const GATEWAY_CALLS = sized(2_000, 10); // per side
const GATEWAY_MAX_MS = sized(20_000, 3_000);
const CHATS = sized(15, 1); // per side
const CHAT_MAX_MS = sized(240_000, 60_000);
const REVISION = '2026-07-28';
const ACCOUNT = 'account-mcp.trustusbank-bank-mcp.svc.cluster.local:8080';
const PROMPT = 'I am customer 12345. Please check my balance, list my recent transactions, and convert my balance to USD.';

const BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'get_balance', arguments: { account_id: '12345' }, _meta: { 'io.modelcontextprotocol/protocolVersion': REVISION, 'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1.0' }, 'io.modelcontextprotocol/clientCapabilities': {} } },
});
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': String(Buffer.byteLength(BODY)), 'mcp-protocol-version': REVISION, 'mcp-method': 'tools/call', 'mcp-name': 'get_balance' };

function call(url: URL, agent: Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: HEADERS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200 || !text.includes('4287.55')) reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
        else resolve();
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(BODY);
  });
}

/** Alternate `fn` with tracing off and on (which goes first alternates too); the milliseconds of each side. */
async function alternate(fn: () => Promise<unknown>, calls: number, maxMs: number): Promise<{ off: number[]; on: number[] }> {
  const off: number[] = [];
  const on: number[] = [];
  const timed = async (tracing: boolean): Promise<void> => {
    setTracing(tracing);
    const started = performance.now();
    await fn();
    (tracing ? on : off).push(performance.now() - started);
  };
  const deadline = performance.now() + maxMs;
  try {
    for (let i = 0; i < calls && performance.now() < deadline; i++) {
      if (i % 2 === 0) {
        await timed(false);
        await timed(true);
      } else {
        await timed(true);
        await timed(false);
      }
    }
  } finally {
    setTracing(true);
  }
  return { off, on };
}

async function gatewayCall(): Promise<void> {
  const workload = await startTestWorkload('account-mcp', accountMcp);
  const gw = await startTestGateway({
    yaml: [referenceGrantYaml('trustusbank-bank-mcp'), serviceYaml('account-mcp', 'trustusbank-bank-mcp'), routeYaml('account-mcp-route', '/mcp/account', { service: 'account-mcp', namespace: 'trustusbank-bank-mcp' })].join('\n---\n'),
    upstreams: { [ACCOUNT]: workload.url },
    caller: { namespace: 'trustusbank-bank-agents', serviceAccount: 'fraud-bot' },
  });
  const collector = await startTraceCollector({ port: 0, env: {}, log: () => undefined });
  const removeSink = addSpanSink((r) => collector.ingest(r, { kind: 'node' }));
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const url = new URL(`${gw.url}/mcp/account`);
  try {
    for (let i = 0; i < sized(200, 2); i++) await call(url, agent);
    gw.logs.length = 0;
    const { off, on } = await alternate(() => call(url, agent), GATEWAY_CALLS, GATEWAY_MAX_MS);
    flushSpans();
    const spans = collector.store.size.spans;
    if (spans === 0) throw new Error('tracing on recorded no span: the comparison would be empty');
    report('MCP tools/call get_balance through the agent gateway, one call in flight (tracing off and on alternated)', summarise('tracing off (roots unsampled; baseline)', off), [summarise('tracing on (gateway + server spans, collector)', on)]);
    console.log(`  spans stored by the collector: ${spans}`);
  } finally {
    removeSink();
    agent.destroy();
    await collector.close();
    await gw.close();
    await workload.close();
  }
}

async function chat(): Promise<void> {
  const t = await startTestCluster();
  try {
    const check = await t.chat(PROMPT);
    if (check.failed) throw new Error(`the clean chat failed: ${check.reply}`);
    const { off, on } = await alternate(async () => {
      const answer = await t.chat(PROMPT);
      if (answer.failed) throw new Error(`a chat failed: ${answer.reply}`);
    }, CHATS, CHAT_MAX_MS);
    t.cluster.traces.flush();
    report('A whole chat (agents, gateway, MCP servers and ztunnel; tracing off and on alternated)', summarise('tracing off (roots unsampled; baseline)', off), [summarise('tracing on (every component, pods over their channel)', on)]);
    console.log(`  traces stored: ${t.cluster.traces.collector.store.size.traces}, spans: ${t.cluster.traces.collector.store.size.spans}`);
  } finally {
    await t.close();
  }
}

export async function run(): Promise<void> {
  await gatewayCall();
  await chat();
}
