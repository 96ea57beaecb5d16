// A soak: a running stack (`up --detach`) chats for a few minutes in bursts separated by varied idle gaps —
// around the keep-alive timeouts a pooled connection can die at (Node's 5 s, the stack's 30 s less the
// client's margin) and well away from them. It reports errors (goal 0), lost tool calls (goal 0: a chat whose
// tool chain is not the expected one), each process's memory at the end against its own at the start (the
// baseline of this run), and late chats' latency against early ones'. Smoke mode: two short gaps.
import { readFileSync } from 'node:fs';
import { callAdminApi } from '../src/control-plane/admin-api.ts';
import type { ChatAnswer, StackStatus } from '../src/control-plane/admin-routes.ts';
import { SEED_PROMPT } from '../src/demo/demo.ts';
import { adminSocketPath } from '../src/runtime/stack-state.ts';
import { runCli, FREE_PORT_FLAGS } from '../testing/cli.ts';
import { tempDir } from '../testing/workloads.ts';
import { report, sized, summarise } from './stats.ts';

const DURATION_MS = sized(180_000, 15_000);
const GAPS_MS = sized([0, 1_000, 4_900, 5_000, 5_100, 10_000, 27_500, 29_000, 31_000], [0, 1_000]);
const CHATS_PER_BURST = 4;
const CASES = [
  { prompt: 'I am customer 12345. What is my balance?', tools: ['get_balance'] },
  { prompt: SEED_PROMPT, tools: ['get_balance', 'list_recent', 'convert_currency'] },
];

/** Resident memory of a process in MiB (Linux), or undefined once it is gone. */
function rssMiB(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

export async function run(): Promise<void> {
  const data = tempDir('tub-soak-');
  const flags = ['--data-dir', data.path];
  try {
    const up = await runCli(['up', '--detach', ...flags, ...FREE_PORT_FLAGS]);
    if (up.code !== 0) throw new Error(`up failed: ${up.stderr || up.stdout}`);
    const socket = adminSocketPath(data.path);
    const status = await callAdminApi<StackStatus>(socket, 'GET', '/status');
    const processes = [{ name: 'up (engine, ztunnel, gateway)', pid: status.pid }, ...status.pods.filter((p) => p.pid).map((p) => ({ name: `${p.namespace}/${p.workload}`, pid: p.pid! }))];
    const memoryBefore = new Map(processes.map((p) => [p.pid, rssMiB(p.pid)]));

    const latencies: number[] = [];
    const problems: string[] = [];
    let chats = 0;
    let lostToolCalls = 0;
    const deadline = performance.now() + DURATION_MS;
    for (let round = 0; performance.now() < deadline; round++) {
      const gap = GAPS_MS[round % GAPS_MS.length]!;
      if (round > 0 && gap > 0) await new Promise((resolve) => setTimeout(resolve, gap));
      await Promise.all(
        Array.from({ length: CHATS_PER_BURST }, async (_, i) => {
          const chatCase = CASES[(round + i) % CASES.length]!;
          const started = performance.now();
          try {
            const answer = await callAdminApi<ChatAnswer>(socket, 'POST', '/chat', { prompt: chatCase.prompt });
            latencies.push(performance.now() - started);
            const got = answer.tools.filter((t) => !t.isError).map((t) => t.name);
            const lost = chatCase.tools.filter((name) => !got.includes(name)).length;
            lostToolCalls += lost;
            if (answer.failed || lost > 0) problems.push(`after a ${gap} ms gap: failed=${answer.failed}, tools [${answer.tools.map((t) => `${t.name}${t.isError ? ' (error)' : ''}`).join(', ')}]`);
          } catch (error) {
            problems.push(`after a ${gap} ms gap: ${(error as Error).message}`);
          }
          chats++;
        }),
      );
    }

    const third = Math.max(1, Math.floor(latencies.length / 3));
    report(`soak: ${chats} chats in bursts of ${CHATS_PER_BURST}, idle gaps ${GAPS_MS.join('/')} ms, ${(DURATION_MS / 1000).toFixed(0)} s`, summarise('chat, first third (baseline)', latencies.slice(0, third)), [summarise('chat, last third', latencies.slice(-third))]);
    console.log(`  errors: ${problems.length - lostToolCallsProblems(problems)} (goal 0), lost tool calls: ${lostToolCalls} (goal 0)`);
    for (const problem of problems.slice(0, 10)) console.log(`    ${problem}`);
    console.log(`  ${'process'.padEnd(44)} ${'RSS start'.padStart(10)} ${'RSS end'.padStart(10)}  ratio end vs start`);
    for (const p of processes) {
      const before = memoryBefore.get(p.pid);
      const after = rssMiB(p.pid);
      const fmt = (mib: number | undefined) => (mib === undefined ? 'gone' : `${mib.toFixed(1)} MiB`);
      console.log(`  ${p.name.padEnd(44)} ${fmt(before).padStart(10)} ${fmt(after).padStart(10)}  ${before && after ? `${(after / before).toFixed(2)} ×` : '-'}`);
    }
    if (problems.length > 0) throw new Error(`${problems.length} chat(s) failed or lost a tool call`);
  } finally {
    await runCli(['down', ...flags]);
    data.remove();
  }
}

function lostToolCallsProblems(problems: string[]): number {
  return problems.filter((p) => p.includes(', tools [')).length;
}
