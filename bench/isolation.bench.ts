// The price of strict pod isolation on an established connection: a pod calls another pod's MCP tool over one
// kept-alive HTTP connection, pod → its capture socket → ztunnel → HBONE → ztunnel → the destination pod, with
// pods in their own namespaces (`kernel`) against the capture shim alone (`shim`, the baseline), in the same run.
//
// Two stacks run side by side (`up --detach`, one per mode). The caller is a small Node program exec'd into
// support-bot (`trustusbank exec`, so it runs in that pod's sandbox with its identity and capture) that sends
// MCP 2026-07-28 tools/call get_balance to account-mcp.trustusbank-bank-mcp:8080 and times each call from inside
// the pod; only calls on the already-open connection count. Batches alternate between the two stacks so that
// drift in machine load falls on both alike.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IsolationMode } from '../src/runtime/sandbox.ts';
import { runCli, FREE_PORT_FLAGS } from '../testing/cli.ts';
import { tempDir } from '../testing/workloads.ts';
import { isolationEnv, isolationModes } from './isolation-modes.ts';
import { report, sized, summarise } from './stats.ts';

const BATCHES = sized(6, 1); // per mode
const CALLS = sized(300, 5); // per batch, timed
const WARMUP = sized(30, 2); // per batch, untimed: opens the connection and warms both ends

const SOURCE = { namespace: 'trustusbank-bank-agents', workload: 'support-bot' };
const TARGET = 'http://account-mcp.trustusbank-bank-mcp.svc.cluster.local:8080/mcp';

// Runs inside the pod: plain JavaScript (a pod's Node has no TypeScript loader), node:http with a keep-alive
// agent of one socket, the same pre-serialised request each time. Prints one JSON line: the timed calls' ms,
// and how many of them needed a new connection (must be none: this measures the established path).
const CALLER = `
import { Agent, request } from 'node:http';
const [url, calls, warmup] = [new URL(process.argv[2]), Number(process.argv[3]), Number(process.argv[4])];
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'bench-pod', version: '1.0' }, 'io.modelcontextprotocol/clientCapabilities': {} };
const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_balance', arguments: { account_id: '12345' }, _meta: meta } });
const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': String(Buffer.byteLength(body)), 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'get_balance' };
const call = () => new Promise((resolve, reject) => {
  const req = request({ agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers }, (res) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => (text += chunk));
    res.on('end', () => (res.statusCode === 200 && text.includes('4287.55') ? resolve(req.reusedSocket) : reject(new Error('HTTP ' + res.statusCode + ' ' + text.slice(0, 300)))));
    res.on('error', reject);
  });
  req.on('error', reject);
  req.end(body);
});
for (let i = 0; i < warmup; i++) await call();
const millis = [];
let newConnections = 0;
for (let i = 0; i < calls; i++) {
  const started = performance.now();
  const reused = await call();
  millis.push(performance.now() - started);
  if (!reused) newConnections++;
}
agent.destroy();
console.log(JSON.stringify({ millis, newConnections }));
`;

interface Stack {
  mode: IsolationMode;
  flags: string[];
  remove(): void;
}

async function startStack(mode: IsolationMode): Promise<Stack> {
  const data = tempDir('tub-bench-');
  const flags = ['--data-dir', data.path];
  const up = await runCli(['up', '--detach', ...flags, ...FREE_PORT_FLAGS], isolationEnv(mode));
  const stack = { mode, flags, remove: () => data.remove() };
  if (up.code !== 0 || /Pod isolation: kernel/.test(up.stdout) !== (mode === 'kernel')) {
    await stopStack(stack);
    throw new Error(`up (${mode}) failed or fell back: ${/Pod isolation:.*/.exec(up.stdout)?.[0] ?? ''}\n${up.stderr || up.stdout}`);
  }
  return stack;
}

async function stopStack(stack: Stack): Promise<void> {
  await runCli(['down', ...stack.flags]);
  stack.remove();
}

async function batch(stack: Stack, script: string): Promise<number[]> {
  const result = await runCli(['exec', ...stack.flags, '-n', SOURCE.namespace, SOURCE.workload, '--', 'node', script, TARGET, String(CALLS), String(WARMUP)]);
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  if (result.code !== 0 || !line.startsWith('{')) throw new Error(`the caller in ${SOURCE.workload} (${stack.mode}) failed (exit ${result.code}): ${result.stderr || result.stdout}`);
  const { millis, newConnections } = JSON.parse(line) as { millis: number[]; newConnections: number };
  if (newConnections > 0) throw new Error(`${stack.mode}: ${newConnections} of ${millis.length} timed calls opened a new connection; this measures an established one`);
  return millis;
}

export async function run(): Promise<void> {
  const modes = isolationModes();
  const scripts = tempDir('tub-bench-caller-');
  const script = join(scripts.path, 'caller.mjs');
  writeFileSync(script, CALLER);
  const stacks: Stack[] = [];
  try {
    // Started together (nothing is timed yet); a stack that did start is stopped below even if the other failed.
    const started = await Promise.allSettled(modes.map(startStack));
    for (const outcome of started) if (outcome.status === 'fulfilled') stacks.push(outcome.value);
    const failure = started.find((outcome) => outcome.status === 'rejected');
    if (failure) throw failure.reason;
    const millis = new Map<IsolationMode, number[]>(modes.map((mode) => [mode, []]));
    for (let round = 0; round < BATCHES; round++) {
      for (const stack of round % 2 === 0 ? stacks : [...stacks].reverse()) millis.get(stack.mode)!.push(...(await batch(stack, script)));
    }
    const label = (mode: IsolationMode) => `${mode === 'kernel' ? 'pods in their own namespaces' : 'capture shim alone'} (${mode})`;
    const shim = summarise(`${label('shim')}${modes.length > 1 ? ' (baseline)' : ''}`, millis.get('shim')!);
    const subjects = modes.filter((mode) => mode !== 'shim').map((mode) => summarise(label(mode), millis.get(mode)!));
    report(`Established round trip, pod → ztunnel → pod: MCP 2026-07-28 tools/call get_balance, ${SOURCE.workload} → account-mcp, one kept-alive connection (${BATCHES} batches of ${CALLS} per mode, alternating)`, shim, subjects);
  } finally {
    await Promise.all(stacks.map(stopStack));
    scripts.remove();
  }
}
