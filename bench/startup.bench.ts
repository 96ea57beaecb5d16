// Time from `trustusbank up` to every pod ready (images built, CA opened, ztunnel up, manifests applied),
// against the floor: the same number of bare Node processes that each listen and print one line. Where the
// kernel allows it, in both isolation modes, alternating round by round so that drift in machine load falls on
// both alike: pods in their own namespaces (`kernel`) against the capture shim alone (`shim`, the baseline of
// that comparison).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { runCli, startCli, FREE_PORT_FLAGS } from '../testing/cli.ts';
import { tempDir } from '../testing/workloads.ts';
import { WORKLOADS } from '../apps/catalog.ts';
import type { IsolationMode } from '../src/runtime/sandbox.ts';
import { isolationEnv, isolationModes } from './isolation-modes.ts';
import { report, sized, summarise } from './stats.ts';

const ROUNDS = sized(5, 1);

async function bareProcesses(count: number): Promise<number> {
  const started = performance.now();
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, ['-e', "require('http').createServer((q,s)=>s.end('ok')).listen(0,'127.0.0.1',function(){console.log('listening '+this.address().port)})"], {
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  await Promise.all(children.map((child) => new Promise<void>((resolve) => createInterface({ input: child.stdout! }).once('line', () => resolve()))));
  const elapsed = performance.now() - started;
  await Promise.all(children.map((child) => new Promise((resolve) => child.once('exit', resolve).kill('SIGTERM'))));
  return elapsed;
}

async function upToReady(dataDir: string, mode: IsolationMode): Promise<{ elapsed: number; pods: number }> {
  const started = performance.now();
  const up = startCli(['up', '--data-dir', dataDir, ...FREE_PORT_FLAGS], isolationEnv(mode));
  try {
    const ready = await up.waitForLine(/^Ready in/);
    const isolation = await up.waitForLine(/^Pod isolation:/);
    await up.waitForLine(/Ctrl-C/);
    const elapsed = performance.now() - started;
    // The mode really in force, as `up` reports it: a stack that quietly fell back would compare nothing.
    if (isolation.startsWith('Pod isolation: kernel') !== (mode === 'kernel')) throw new Error(`asked for ${mode} isolation, up says: ${isolation}`);
    return { elapsed, pods: Number(/(\d+) pods/.exec(ready)?.[1] ?? 0) };
  } finally {
    up.child.kill('SIGINT');
    await up.exited;
  }
}

export async function run(): Promise<void> {
  const data = tempDir('tub-bench-');
  try {
    await runCli(['--version']); // warm the compile cache once, as every run after the first has it
    const modes = isolationModes();
    const bare: number[] = [];
    const up = new Map<IsolationMode, number[]>(modes.map((mode) => [mode, []]));
    let pods = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which mode goes first: the first `up` of a round finds a colder page cache.
      for (const mode of round % 2 === 0 ? modes : [...modes].reverse()) {
        const result = await upToReady(data.path, mode);
        up.get(mode)!.push(result.elapsed);
        pods = result.pods;
      }
      bare.push(await bareProcesses(pods));
    }
    const samples = new Map([...up].map(([mode, millis]) => [mode, summarise(`trustusbank up → all pods ready, ${mode}`, millis)]));
    report(`Start-up: ${pods} pods (${WORKLOADS.length} images) to ready (${ROUNDS} rounds)`, summarise(`${pods} bare node processes listening (baseline)`, bare), [...samples.values()]);
    if (samples.has('kernel')) report('Start-up: pods in their own namespaces against the capture shim alone', samples.get('shim')!, [samples.get('kernel')!]);
  } finally {
    data.remove();
  }
}
