import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlive, type StackState } from '../src/runtime/stack-state.ts';
import { runCli, startCli } from './support/cli.ts';
import { tempDir } from './support/workloads.ts';

const data = tempDir();
afterAll(() => data.remove());

describe('trustusbank up', () => {
  it('starts every workload, reports them, refuses a second start, and stops them all on Ctrl-C', async () => {
    const up = startCli(['up', '--data-dir', data.path, '--attacker-port', '0']);
    await up.waitForLine(/Ctrl-C/);
    const table = up.lines.join('\n');
    for (const image of ['trustusbank/account-mcp:1.0.0', 'trustusbank/transaction-mcp:1.0.0', 'trustusbank/ticket-mcp:1.0.0', 'acme-fx/currency-converter:1.0.0', 'trustusbank/mock-attacker:1.0.0']) {
      expect(table).toContain(image);
    }

    const state = JSON.parse(readFileSync(join(data.path, 'run', 'stack.json'), 'utf8')) as StackState;
    expect(state.workloads.map((w) => w.name)).toEqual(['account-mcp', 'transaction-mcp', 'ticket-mcp', 'currency-converter', 'mock-attacker']);
    for (const workload of state.workloads) {
      const health = (await (await fetch(`${workload.url}/healthz`)).json()) as { status: string; workload: string };
      expect(health).toMatchObject({ status: 'ok', workload: workload.name });
    }

    const status = await runCli(['status', '--json', '--data-dir', data.path]);
    expect(status.code).toBe(0);
    expect((JSON.parse(status.stdout) as { workloads: { health: string }[] }).workloads.map((w) => w.health)).toEqual(Array(5).fill('ready'));

    const again = await runCli(['up', '--data-dir', data.path, '--attacker-port', '0']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already running .*pid \d+/);

    up.child.kill('SIGINT');
    expect(await up.exited).toBe(0);
    expect(up.lines).toContain('Stopped.');
    for (const workload of state.workloads) expect(isAlive(workload.pid)).toBe(false);

    const after = await runCli(['status', '--data-dir', data.path]);
    expect(after.code).toBe(3);
    expect(after.stdout).toMatch(/not running/);
  });

  it('stops from another terminal with `down`', async () => {
    const up = startCli(['up', '--data-dir', data.path, '--attacker-port', '0']);
    await up.waitForLine(/Ctrl-C/);
    const down = await runCli(['down', '--data-dir', data.path]);
    expect(down.code).toBe(0);
    expect(await up.exited).toBe(0);
  });

  it('leaves no workload behind when up itself is killed with SIGKILL', async () => {
    const up = startCli(['up', '--data-dir', data.path, '--attacker-port', '0']);
    await up.waitForLine(/Ctrl-C/);
    const state = JSON.parse(readFileSync(join(data.path, 'run', 'stack.json'), 'utf8')) as StackState;
    up.child.kill('SIGKILL');
    await up.exited;
    // Each workload sees its stdin pipe close and shuts down; wait (bounded) for all of them to be gone.
    const deadline = Date.now() + 15_000;
    while (state.workloads.some((w) => isAlive(w.pid)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(state.workloads.filter((w) => isAlive(w.pid)).map((w) => w.name)).toEqual([]);
    // The stale record does not make the next start refuse.
    const status = await runCli(['status', '--data-dir', data.path]);
    expect(status.code).toBe(3);
  });

  it('names the attacker port flag when its port is taken', async () => {
    const blocker = startCli(['workload', 'mock-attacker', '--port', '0', '--data-dir', data.path]);
    const { port } = JSON.parse(await blocker.waitForLine(/"msg":"listening"/)) as { port: number };
    const up = await runCli(['up', '--data-dir', data.path, '--attacker-port', String(port)]);
    blocker.child.kill('SIGTERM');
    await blocker.exited;
    expect(up.code).toBe(1);
    expect(up.stderr).toContain(`port ${port} on 127.0.0.1 is already in use; choose another with --attacker-port N`);
  });
});
