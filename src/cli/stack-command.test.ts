import { afterAll, describe, expect, it } from 'vitest';
import { UsageError, UserError } from '../core/errors.ts';
import { tempDir } from '../../testing/workloads.ts';
import { alertsCommand, mailCommand } from './commands/alerts.ts';
import { applyCommand, deleteCommand } from './commands/apply.ts';
import { chatCommand } from './commands/chat.ts';
import { demoCommand } from './commands/demo.ts';
import { eventsCommand } from './commands/events.ts';
import { evidenceCommand } from './commands/evidence.ts';
import { execCommand } from './commands/exec.ts';
import { gatewayCommand } from './commands/gateway.ts';
import { getCommand } from './commands/get.ts';
import { imagesCommand, resetCommand, rugpullCommand } from './commands/images.ts';
import { incidentsCommand } from './commands/incidents.ts';
import { openCommand } from './commands/open.ts';
import { policiesCommand } from './commands/policies.ts';
import { registryCommand } from './commands/registry.ts';
import { dataDirHelp, stackCommand, type StackCommandContext } from './stack-command.ts';

const nowhere = tempDir('tub-no-stack-');
afterAll(() => nowhere.remove());

describe('stackCommand: the one way a command that talks to the stack is defined', () => {
  const seen: StackCommandContext<{ json: { type: 'boolean' } }>[] = [];
  const probe = stackCommand({
    name: 'probe',
    summary: 'a test command',
    usage: `Usage: trustusbank probe [--json] [--data-dir DIR]\n\nOptions:\n  --json           print JSON\n${dataDirHelp()}`,
    options: { json: { type: 'boolean' } },
    maxPositionals: 1,
    passThrough: true,
    run(context) {
      seen.push(context);
      return Promise.resolve(0);
    },
  });

  it('parses its own flags and --data-dir, keeps the positionals and passes the words after -- on unparsed', async () => {
    seen.length = 0;
    expect(await probe.run(['one', '--json', '--data-dir', nowhere.path, '--', 'node', '--json', 'x'])).toBe(0);
    const [context] = seen;
    expect(context?.values).toEqual({ json: true, 'data-dir': nowhere.path });
    expect(context?.positionals).toEqual(['one']);
    expect(context?.passed).toEqual(['node', '--json', 'x']);
  });

  it('refuses a stray word and an unknown flag as usage errors, before it looks for the stack', async () => {
    const stray = await probe.run(['one', 'two']).catch((error: unknown) => error);
    expect(stray).toBeInstanceOf(UsageError);
    expect((stray as UsageError).message).toBe('unexpected argument "two"');
    expect((stray as UsageError).usage).toMatch(/^Usage: trustusbank probe/);
    const flag = await probe.run(['--jsn']).catch((error: unknown) => error);
    expect(flag).toBeInstanceOf(UsageError);
    expect((flag as UsageError).message).toMatch(/--jsn/);
  });

  it('finds the stack only when asked, and says plainly (exit 3) when none runs there', async () => {
    seen.length = 0;
    await probe.run(['--data-dir', nowhere.path]);
    const error = (() => {
      try {
        seen[0]!.stack();
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(3);
    expect((error as UserError).message).toMatch(/not running/);
  });

  const commands = [alertsCommand, mailCommand, applyCommand, deleteCommand, chatCommand, demoCommand, eventsCommand, evidenceCommand, execCommand, gatewayCommand, getCommand, imagesCommand, resetCommand, rugpullCommand, incidentsCommand, openCommand, policiesCommand, registryCommand];

  it.each(commands.map((c) => [c.name, c] as const))('%s documents --data-dir and --help in its usage', (_name, command) => {
    expect(command.usage).toContain('--data-dir DIR');
    expect(command.usage).toMatch(/state directory \(default: TRUSTUSBANK_DATA_DIR or \.trustusbank\)/);
    expect(command.usage).toMatch(/-h, --help/);
  });

  it.each([alertsCommand, mailCommand, eventsCommand, imagesCommand, resetCommand, rugpullCommand, demoCommand, applyCommand].map((c) => [c.name, c] as const))(
    '%s refuses a stray word with its usage, with no stack running',
    async (_name, command) => {
      const error = await command.run(['stray', '--data-dir', nowhere.path]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toBe('unexpected argument "stray"');
    },
  );
});
