// Time from `trustusbank up` to every pod ready (images built, CA opened, ztunnel up, manifests applied),
// against the floor: the same number of bare Node processes that each listen and print one line.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { runCli, startCli } from '../test/support/cli.ts';
import { tempDir } from '../test/support/workloads.ts';
import { WORKLOADS } from '../apps/catalog.ts';
import { report, summarise } from './stats.ts';

const ROUNDS = 5;

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

async function upToReady(dataDir: string): Promise<{ elapsed: number; pods: number }> {
  const started = performance.now();
  const up = startCli(['up', '--data-dir', dataDir, '--attacker-port', '0', '--gateway-port', '0', '--agents-ui-port', '0', '--registry-port', '0']);
  const ready = await up.waitForLine(/^Ready in/);
  await up.waitForLine(/Ctrl-C/);
  const elapsed = performance.now() - started;
  up.child.kill('SIGINT');
  await up.exited;
  return { elapsed, pods: Number(/(\d+) pods/.exec(ready)?.[1] ?? 0) };
}

export async function run(): Promise<void> {
  const data = tempDir('tub-bench-');
  try {
    await runCli(['--version']); // warm the compile cache once, as every run after the first has it
    const bare: number[] = [];
    const up: number[] = [];
    let pods = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const result = await upToReady(data.path);
      up.push(result.elapsed);
      pods = result.pods;
      bare.push(await bareProcesses(pods));
    }
    report(`Start-up: ${pods} pods (${WORKLOADS.length} images) to ready (${ROUNDS} rounds)`, summarise(`${pods} bare node processes listening (baseline)`, bare), [
      summarise('trustusbank up → all pods ready', up),
    ]);
  } finally {
    data.remove();
  }
}
