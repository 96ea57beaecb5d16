// Resident memory of the whole stack (the `up` process and every pod), after each agent has answered once,
// against the floor measured in the same run: as many bare Node processes, each listening on a port. Both are
// reported as the sum of RSS (which counts the Node binary's shared pages once per process) and the sum of PSS
// (proportional set size: shared pages split between the processes sharing them), which is what the machine
// actually spends. The budget (../shared/DESIGN.md) is 600 MB for the stack.
// Where the kernel allows it, the stack is measured in both isolation modes, one after the other in the same run:
// pods in their own namespaces (`kernel`: each pod's Node runs under a small `unshare` parent, counted too,
// as it is part of what the mode costs) against the capture shim alone (`shim`).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { runCli, FREE_PORT_FLAGS } from '../testing/cli.ts';
import { tempDir } from '../testing/workloads.ts';
import type { IsolationMode } from '../src/runtime/sandbox.ts';
import { isolationEnv, isolationModes } from './isolation-modes.ts';
import { sized } from './stats.ts';

const BUDGET_MB = 600;
const PROMPTS = sized(
  ['I am customer 12345. Please check my balance, list my recent transactions, and convert my balance to USD.', 'I am customer 12345. There is a 1499 USD charge I do not recognise. Please open a ticket.'],
  ['I am customer 12345. Please check my balance.'],
);

interface Memory {
  processes: number;
  rssMb: number;
  pssMb: number;
}

function memoryOf(pids: number[]): Memory {
  let rss = 0;
  let pss = 0;
  for (const pid of pids) {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    rss += Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
    pss += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
  }
  return { processes: pids.length, rssMb: rss / 1024, pssMb: pss / 1024 };
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Every process under `pid`: a pod in its own namespaces is a Node process under `unshare`, not a child of `up`. */
function descendantsOf(pid: number): number[] {
  return childrenOf(pid).flatMap((child) => [child, ...descendantsOf(child)]);
}

function isNode(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'node';
  } catch {
    return false;
  }
}

interface Stack {
  mode: IsolationMode;
  /** `up` and everything under it. */
  stack: Memory;
  upOnly: Memory;
  /** Pods' Node processes. */
  pods: number;
}

async function measureStack(mode: IsolationMode): Promise<Stack> {
  const data = tempDir('tub-bench-');
  const flags = ['--data-dir', data.path];
  try {
    const up = await runCli(['up', '--detach', ...flags, ...FREE_PORT_FLAGS], isolationEnv(mode));
    if (up.code !== 0) throw new Error(`up (${mode}) failed: ${up.stderr || up.stdout}`);
    // The mode really in force: a stack that quietly fell back would compare nothing.
    if (/Pod isolation: kernel/.test(up.stdout) !== (mode === 'kernel')) throw new Error(`asked for ${mode} isolation, up says: ${/Pod isolation:.*/.exec(up.stdout)?.[0]}`);
    for (const prompt of PROMPTS) {
      const chat = await runCli(['chat', prompt, ...flags]);
      if (chat.code !== 0) throw new Error(`chat (${mode}) failed: ${chat.stderr}`);
    }
    const pid = (JSON.parse(readFileSync(`${data.path}/run/stack.json`, 'utf8')) as { pid: number }).pid;
    const under = descendantsOf(pid);
    return { mode, stack: memoryOf([pid, ...under]), upOnly: memoryOf([pid]), pods: under.filter(isNode).length };
  } finally {
    await runCli(['down', ...flags]);
    data.remove();
  }
}

async function bare(count: number): Promise<Memory> {
  const children: ChildProcess[] = Array.from({ length: count }, () =>
    spawn(process.execPath, ['-e', "require('http').createServer((q,s)=>s.end('ok')).listen(0,'127.0.0.1',function(){console.log('listening')})"], { stdio: ['ignore', 'pipe', 'inherit'] }),
  );
  await Promise.all(children.map((child) => new Promise<void>((resolve) => createInterface({ input: child.stdout! }).once('line', () => resolve()))));
  const memory = memoryOf(children.map((c) => c.pid!));
  await Promise.all(children.map((child) => new Promise((resolve) => child.once('exit', resolve).kill('SIGTERM'))));
  return memory;
}

export async function run(): Promise<void> {
  if (process.platform !== 'linux') {
    console.log('memory: needs /proc (Linux); skipped');
    return;
  }
  const stacks = new Map<IsolationMode, Stack>();
  for (const mode of isolationModes()) stacks.set(mode, await measureStack(mode));
  const first = [...stacks.values()][0]!;
  const floor = await bare(first.pods + 1);
  const row = (label: string, m: Memory) => `  ${label.padEnd(52)} ${m.rssMb.toFixed(0).padStart(6)} MB RSS ${m.pssMb.toFixed(0).padStart(6)} MB PSS ${String(m.processes).padStart(4)} processes`;
  console.log(`\nMemory: the stack after ${PROMPTS.length === 1 ? 'one answer' : "one of each agents' answers"} (up + ${first.pods} pods)`);
  console.log(row(`${floor.processes} bare node processes listening (baseline)`, floor));
  for (const { mode, stack, upOnly, pods } of stacks.values()) {
    console.log(row(`the stack, ${mode}: up + ${pods} pods`, stack));
    console.log(row('  of which the up process', upOnly));
    console.log(`  ratio to baseline: ${(stack.rssMb / floor.rssMb).toFixed(2)} × RSS, ${(stack.pssMb / floor.pssMb).toFixed(2)} × PSS`);
    console.log(`  budget ${BUDGET_MB} MB resident: PSS ${stack.pssMb <= BUDGET_MB ? 'within' : 'OVER'} (${stack.pssMb.toFixed(0)} MB); summed RSS ${stack.rssMb <= BUDGET_MB ? 'within' : 'over'} (${stack.rssMb.toFixed(0)} MB)`);
  }
  const kernel = stacks.get('kernel');
  const shim = stacks.get('shim')!;
  if (kernel) {
    console.log(
      `  kernel against shim: ${(kernel.stack.pssMb / shim.stack.pssMb).toFixed(2)} × PSS (${(kernel.stack.pssMb - shim.stack.pssMb).toFixed(0)} MB), ` +
        `${(kernel.stack.rssMb / shim.stack.rssMb).toFixed(2)} × RSS (${(kernel.stack.rssMb - shim.stack.rssMb).toFixed(0)} MB)`,
    );
  }
}
