// Resident memory of the whole stack (the `up` process and every pod), after each agent has answered once,
// against the floor measured in the same run: as many bare Node processes, each listening on a port. Both are
// reported as the sum of RSS (which counts the Node binary's shared pages once per process) and the sum of PSS
// (proportional set size: shared pages split between the processes sharing them), which is what the machine
// actually spends. The budget (../shared/DESIGN.md) is 600 MB for the stack.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { runCli } from '../test/support/cli.ts';
import { tempDir } from '../test/support/workloads.ts';

const BUDGET_MB = 600;
const PROMPTS = ['I am customer 12345. Please check my balance, list my recent transactions, and convert my balance to USD.', 'I am customer 12345. There is a 1499 USD charge I do not recognise. Please open a ticket.'];

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
  const data = tempDir('tub-bench-');
  try {
    const up = await runCli(['up', '--detach', '--data-dir', data.path, '--attacker-port', '0', '--gateway-port', '0', '--agents-ui-port', '0', '--registry-port', '0']);
    if (up.code !== 0) throw new Error(`up failed: ${up.stderr || up.stdout}`);
    for (const prompt of PROMPTS) {
      const chat = await runCli(['chat', prompt, '--data-dir', data.path]);
      if (chat.code !== 0) throw new Error(`chat failed: ${chat.stderr}`);
    }
    const pid = (JSON.parse(readFileSync(`${data.path}/run/stack.json`, 'utf8')) as { pid: number }).pid;
    const pods = childrenOf(pid);
    const stack = memoryOf([pid, ...pods]);
    const upOnly = memoryOf([pid]);
    const floor = await bare(stack.processes);
    await runCli(['down', '--data-dir', data.path]);
    const row = (label: string, m: Memory) => `  ${label.padEnd(44)} ${m.rssMb.toFixed(0).padStart(6)} MB RSS ${m.pssMb.toFixed(0).padStart(6)} MB PSS`;
    console.log(`\nMemory: the stack after one of each agents' answers (${stack.processes} processes)`);
    console.log(row(`${floor.processes} bare node processes listening (baseline)`, floor));
    console.log(row(`the stack: up + ${pods.length} pods`, stack));
    console.log(row('  of which the up process', upOnly));
    console.log(`  ratio to baseline: ${(stack.rssMb / floor.rssMb).toFixed(2)} × RSS, ${(stack.pssMb / floor.pssMb).toFixed(2)} × PSS`);
    console.log(`  budget ${BUDGET_MB} MB resident: PSS ${stack.pssMb <= BUDGET_MB ? 'within' : 'OVER'} (${stack.pssMb.toFixed(0)} MB); summed RSS ${stack.rssMb <= BUDGET_MB ? 'within' : 'over'} (${stack.rssMb.toFixed(0)} MB)`);
  } finally {
    await runCli(['down', '--data-dir', data.path]);
    data.remove();
  }
}
