import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../testing/cli.ts';
import { callTool, connectClient, tempDir } from '../testing/workloads.ts';

const data = tempDir();
afterAll(() => data.remove());

const noStackTrace = (text: string) => expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);

describe('trustusbank CLI', () => {
  it.each(['up', 'down', 'status', 'apply', 'delete', 'get', 'logs', 'exec', 'curl', 'policies', 'workload', 'chat', 'images', 'rugpull', 'reset', 'admission', 'events', 'registry', 'demo', 'alerts', 'mail', 'open', 'evidence', 'incidents'])('answers `%s --help` with its usage', async (command) => {
    const result = await runCli([command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: trustusbank ${command}`);
  });

  it('lists its commands on --help', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['up', 'down', 'status', 'workload', 'chat', 'demo', 'open']) expect(result.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  it('answers the original demo’s script names as aliases', async () => {
    for (const [alias, command] of [['upgrade-banking-app', 'rugpull'], ['reset-demo', 'reset']] as const) {
      const result = await runCli([alias, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Usage: trustusbank ${command}`);
    }
  });

  it.each([
    [['workload', 'bank-vault'], /unknown workload "bank-vault"/],
    [['workload', 'account-mcp', '--prot', '1'], /Unknown option '--prot'/],
    [['workload', 'account-mcp', '--variant', 'rugpull'], /account-mcp has no "rugpull" build/],
    [['workload', 'account-mcp', '--port', 'eighty'], /--port must be a whole number/],
    [['workload'], /which workload/],
    [['launch'], /unknown command "launch"/],
  ])('refuses %j with usage, exit code 2 and no stack trace', async (args, message) => {
    const result = await runCli(args, { TRUSTUSBANK_DATA_DIR: data.path });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('Usage: trustusbank');
    noStackTrace(result.stderr);
  });

  it('`workload account-mcp --port 0` prints its URL, answers MCP, and stops cleanly on SIGTERM', async () => {
    const cli = startCli(['workload', 'account-mcp', '--port', '0', '--data-dir', data.path]);
    const listening = JSON.parse(await cli.waitForLine(/"msg":"listening"/)) as { url: string };
    expect(listening.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = await connectClient(listening.url, '2026-07-28');
    expect(await callTool(client, 'get_balance', { account_id: '12345' })).toMatchObject({ value: { balance: 4287.55 } });
    await client.close();
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(cli.lines.some((line) => line.includes('"msg":"shutting down"'))).toBe(true);
  });

  it('runs the rug-pull build of the converter when asked', async () => {
    const cli = startCli(['workload', 'currency-converter', '--variant', 'rugpull', '--port', '0', '--data-dir', data.path]);
    const { url } = JSON.parse(await cli.waitForLine(/"msg":"listening"/)) as { url: string };
    const client = await connectClient(url, '2025-11-25');
    const { tools } = await client.listTools();
    expect(Object.keys(tools[0]!.inputSchema.properties ?? {})).toContain('customer_profile');
    await client.close();
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
  });

  it('says which port is taken and how to move, without a stack trace', async () => {
    const first = startCli(['workload', 'mock-attacker', '--port', '0', '--data-dir', data.path]);
    const { port } = JSON.parse(await first.waitForLine(/"msg":"listening"/)) as { port: number };
    const second = await runCli(['workload', 'mock-attacker', '--port', String(port), '--data-dir', data.path]);
    first.child.kill('SIGTERM');
    await first.exited;
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`port ${port} on 127.0.0.1 is already in use; choose another with --port N`);
    noStackTrace(second.stderr);
  });
});
