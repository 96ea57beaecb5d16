// MCP conformance at a bank MCP server run alone (account-mcp) and at the agent gateway in front of it.
// 1. The official conformance suite (@modelcontextprotocol/conformance, installed outside node_modules by
//    .ci/run; MCP_CONFORMANCE_DIR names its directory): every check of every scenario passes, except the
//    scenarios that need the suite's own fixture tools, prompts and resources (listed in EXCLUDED and in the
//    README), and those may fail only for the missing fixture. The suite's 0.1.16 scenarios speak 2025-11-25
//    (it knows no 2026-07-28 scenario yet).
// 2. The spec's answers at 2026-07-28 and to an unsupported revision, the rows of the conformance issue, over
//    HTTP against both, with no suite needed: the attack on each is a request the spec says to refuse, the
//    clean run the official client at both revisions.
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountMcp } from '../apps/account-mcp/server.ts';
import { referenceGrantYaml, routeYaml, rpc, serviceYaml, startTestGateway, type TestGateway } from '../testing/gateway.ts';
import { REVISIONS, callTool, connectClient, startTestWorkload, tempDir, type TestWorkload } from '../testing/workloads.ts';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

const SUITE_DIR = process.env.MCP_CONFORMANCE_DIR;
const SUITE_NODE = SUITE_DIR ? join(SUITE_DIR, 'node_modules', '.bin', 'node') : '';
const SUITE_CLI = SUITE_DIR ? join(SUITE_DIR, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js') : '';
const suitePresent = SUITE_DIR !== undefined && existsSync(SUITE_NODE) && existsSync(SUITE_CLI);
const CI = process.env.CI === 'true';
if (!suitePresent) {
  const line = `MCP conformance suite not found (MCP_CONFORMANCE_DIR=${SUITE_DIR ?? '(unset)'}): install it with \`npm install --prefix <dir> node@22 @modelcontextprotocol/conformance@0.1.16\` and set MCP_CONFORMANCE_DIR=<dir>`;
  console.warn(`\n!!! ${line}${CI ? ' — CI=true, so the suite tests FAIL instead of skipping' : ' — SKIPPING the suite tests'} !!!\n`);
}

/** Scenarios that call the suite's fixture tools (test_*), prompts, resources, logging or completions. */
const EXCLUDED = new Set([
  'logging-set-level',
  'completion-complete',
  'tools-call-simple-text',
  'tools-call-image',
  'tools-call-audio',
  'tools-call-embedded-resource',
  'tools-call-mixed-content',
  'tools-call-with-logging',
  'tools-call-error',
  'tools-call-with-progress',
  'tools-call-sampling',
  'tools-call-elicitation',
  'elicitation-sep1034-defaults',
  'elicitation-sep1330-enums',
  'resources-list',
  'resources-read-text',
  'resources-read-binary',
  'resources-templates-read',
  'resources-subscribe',
  'resources-unsubscribe',
  'prompts-list',
  'prompts-get-simple',
  'prompts-get-with-args',
  'prompts-get-embedded-resource',
  'prompts-get-with-image',
]);
/** What must run and pass: a scenario that silently stopped running is a failure too. */
const REQUIRED = ['server-initialize', 'ping', 'tools-list', 'server-sse-multiple-streams', 'dns-rebinding-protection'];
/** How an excluded scenario may fail: the fixture it calls is not there. */
const MISSING_FIXTURE = /Method not found|Unknown tool|Tool \S+ not found/;

const ACCOUNT = 'account-mcp.trustusbank-bank-mcp.svc.cluster.local:8080';
const YAML = [
  referenceGrantYaml('trustusbank-bank-mcp'),
  serviceYaml('account-mcp', 'trustusbank-bank-mcp'),
  routeYaml('account-mcp-route', '/mcp/account', { service: 'account-mcp', namespace: 'trustusbank-bank-mcp' }),
].join('\n---\n');

let account: TestWorkload;
let gw: TestGateway;
const targets: Record<'server' | 'gateway', () => string> = {
  server: () => `${account.url}/mcp`,
  gateway: () => `${gw.url}/mcp/account`,
};

beforeAll(async () => {
  account = await startTestWorkload('account-mcp', accountMcp);
  gw = await startTestGateway({ yaml: YAML, upstreams: { [ACCOUNT]: account.url } });
});

afterAll(async () => {
  await gw?.close();
  await account?.close();
});

interface Check {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED';
  errorMessage?: string;
}

/** Run every active server scenario against `url`; the checks by scenario. */
async function runSuite(url: string): Promise<Map<string, Check[]>> {
  const out = tempDir('tub-conformance-');
  try {
    // Asynchronous: the servers under test run in this process.
    await promisify(execFile)(SUITE_NODE, [SUITE_CLI, 'server', '--url', url, '-o', out.path], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }).catch((error: { code?: unknown; stdout?: string }) => {
      // The suite exits non-zero when any check fails (the excluded ones do); its results are still written.
      if (typeof error.code !== 'number') throw error;
    });
    const byScenario = new Map<string, Check[]>();
    for (const dir of readdirSync(out.path)) {
      const scenario = /^server-(.+)-\d{4}-\d\d-\d\dT[\d-]+Z$/.exec(dir)?.[1];
      if (!scenario) continue;
      byScenario.set(scenario, JSON.parse(readFileSync(join(out.path, dir, 'checks.json'), 'utf8')) as Check[]);
    }
    return byScenario;
  } finally {
    out.remove();
  }
}

describe.skipIf(!suitePresent && !CI)('the official MCP conformance suite (server checks, 2025-11-25)', () => {
  it.each(Object.keys(targets) as (keyof typeof targets)[])('passes every non-excluded check at the %s', async (target) => {
    expect(suitePresent, `MCP_CONFORMANCE_DIR must name a directory with node@22 and @modelcontextprotocol/conformance installed`).toBe(true);
    const results = await runSuite(targets[target]());
    for (const scenario of REQUIRED) expect([...results.keys()], `scenario ${scenario} did not run`).toContain(scenario);
    const failures: string[] = [];
    for (const [scenario, checks] of results) {
      for (const check of checks) {
        if (check.status !== 'FAILURE') continue;
        if (EXCLUDED.has(scenario) && MISSING_FIXTURE.test(check.errorMessage ?? '')) continue;
        failures.push(`${scenario}/${check.id}: ${check.errorMessage ?? ''}`);
      }
    }
    expect(failures).toEqual([]);
    for (const scenario of REQUIRED) expect(results.get(scenario)!.filter((c) => c.status === 'SUCCESS').length, `${scenario} passed no check`).toBeGreaterThan(0);
  }, 180_000);
});

const META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
const MODERN = { 'mcp-protocol-version': '2026-07-28' };
const list = (meta: Record<string, unknown> | null = META) => ({ jsonrpc: '2.0', id: 7, method: 'tools/list', params: meta === null ? {} : { _meta: meta } });

/** POST one message; the first JSON-RPC message of the answer, whether JSON or an event stream (the SDK's servers answer with either). */
async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; message?: { result?: Record<string, unknown>; error?: { code: number; message: string } } }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body: JSON.stringify(body) });
  const text = await response.text();
  const json = response.headers.get('content-type')?.startsWith('text/event-stream') ? /^data: (.+)$/m.exec(text)?.[1] : text;
  return { status: response.status, headers: response.headers, ...(json ? { message: JSON.parse(json) as never } : {}) };
}

describe.each(Object.keys(targets) as (keyof typeof targets)[])('the spec’s answers at the %s', (target) => {
  const url = () => targets[target]();

  it.each([
    ['2026-07-28 without _meta', { ...MODERN, 'mcp-method': 'tools/list' }, list(null), 400, -32602],
    ['without Mcp-Method', MODERN, list(), 400, -32020],
    ['with header and _meta versions that disagree', { 'mcp-protocol-version': '2025-11-25', 'mcp-method': 'tools/list' }, list(), 400, -32020],
    ['without MCP-Protocol-Version', { 'mcp-method': 'tools/list' }, list(), 400, -32020],
    ['without clientCapabilities', { ...MODERN, 'mcp-method': 'tools/list' }, list({ 'io.modelcontextprotocol/protocolVersion': '2026-07-28' }), 400, -32602],
    ['at an unsupported revision', { 'mcp-protocol-version': '2099-01-01', 'mcp-method': 'tools/list' }, list({ ...META, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' }), 400, -32022],
    ['ping at 2026-07-28', { ...MODERN, 'mcp-method': 'ping' }, { jsonrpc: '2.0', id: 3, method: 'ping', params: { _meta: META } }, 404, -32601],
    ['initialize at 2026-07-28', { ...MODERN, 'mcp-method': 'initialize' }, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2026-07-28', capabilities: {}, clientInfo: { name: 't', version: '1' }, _meta: META } }, 404, -32601],
    ['a 2026-07-28 batch', { ...MODERN, 'mcp-method': 'tools/list' }, [list(), list()], 400, -32600],
  ])('refuses a request %s', async (_, headers, body, status, code) => {
    const answer = await rpc(url(), body, headers);
    expect(answer.status).toBe(status);
    expect(answer.body).toMatchObject({ jsonrpc: '2.0', error: { code } });
  });

  it('refuses an unsupported MCP-Protocol-Version inside a 2025-11-25 session, and serves a supported one', async () => {
    const opened = await post(url(), { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
    expect(opened.status).toBe(200);
    const session = { 'mcp-session-id': opened.headers.get('mcp-session-id')! };
    await post(url(), { jsonrpc: '2.0', method: 'notifications/initialized' }, { ...session, 'mcp-protocol-version': '2025-11-25' });
    const refused = await post(url(), { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { ...session, 'mcp-protocol-version': '1999-01-01' });
    expect(refused.status).toBe(400);
    expect(refused.message?.error?.message).toMatch(/Unsupported protocol version/);
    for (const version of ['2025-11-25', '2025-06-18', '2025-03-26']) {
      const served = await post(url(), { jsonrpc: '2.0', id: 2, method: 'tools/list' }, { ...session, 'mcp-protocol-version': version });
      expect(served.status).toBe(200);
      expect(served.message?.result).toHaveProperty('tools');
    }
  });

  it('acknowledges subscriptions/listen first on its event stream', async () => {
    const abort = new AbortController();
    const response = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...MODERN, 'mcp-method': 'subscriptions/listen' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'subscriptions/listen', params: { notifications: { toolsListChanged: true }, _meta: META } }),
      signal: abort.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    // The server keeps its stream open for changes; the first event is all this row is about.
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('\n\n')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    abort.abort();
    const first = JSON.parse(/^data: (.*)$/m.exec(text)![1]!) as { method: string; params: { _meta: Record<string, unknown> } };
    expect(first.method).toBe('notifications/subscriptions/acknowledged');
    expect(first.params._meta['io.modelcontextprotocol/subscriptionId']).toBe(9);
  });

  it('answers a foreign Origin 403 with a JSON-RPC error (DNS rebinding), and serves a loopback one', async () => {
    for (const origin of ['http://evil.example.com', 'null']) {
      const refused = await rpc(url(), list(), { ...MODERN, 'mcp-method': 'tools/list', origin });
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32000 } });
    }
    const served = await rpc(url(), list(), { ...MODERN, 'mcp-method': 'tools/list', origin: `http://localhost:${new URL(url()).port}` });
    expect(served.status).toBe(200);
  });

  it('answers a rebound Host 403 even without an Origin (a no-cors GET carries none), and serves a cluster name', async () => {
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const target = new URL(url());
        const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: 'GET', headers: { host, accept: 'text/event-stream' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    expect(await status('evil.example.com')).toBe(403);
    expect(await status(`evil.example.com:${new URL(url()).port}`)).toBe(403);
    // GET is no method these endpoints serve without a session: anything but the rebinding refusal.
    expect(await status('account-mcp.trustusbank-bank-mcp.svc.cluster.local:8080')).not.toBe(403);
  });

  it.each(REVISIONS)('serves the official client at %s', async (revision) => {
    const client =
      target === 'server'
        ? await connectClient(account.url, revision)
        : await (async () => {
            const c = new Client({ name: 'conformance-test', version: '1.0.0' }, revision === '2026-07-28' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {});
            await c.connect(new StreamableHTTPClientTransport(new URL(url())));
            return c;
          })();
    const balance = await callTool(client, 'get_balance', { account_id: '12345' });
    expect(balance.value).toMatchObject({ currency: 'GBP' });
    await client.close();
  });
});
