import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../testing/cli.ts';
import { browserOpener } from './open.ts';

const bin = mkdtempSync(join(tmpdir(), 'tub-open-'));
writeFileSync(join(bin, 'xdg-open'), '#!/bin/sh\nexit 0\n');
chmodSync(join(bin, 'xdg-open'), 0o755);
afterAll(() => rmSync(bin, { recursive: true, force: true }));

describe('trustusbank open', () => {
  it("finds the platform's opener on PATH, and says when there is none", () => {
    expect(browserOpener('linux', { PATH: `/nonexistent:${bin}` })?.command).toBe('xdg-open');
    expect(browserOpener('linux', { PATH: '/nonexistent' })).toBeUndefined();
    expect(browserOpener('linux', {})).toBeUndefined();
    expect(browserOpener('darwin', { PATH: bin })).toBeUndefined();
    const windows = browserOpener('win32', { ComSpec: 'C:\\Windows\\system32\\cmd.exe' })!;
    expect(windows.args('http://127.0.0.1:18000/#token=a&b')).toEqual(['/d', '/c', 'start', '""', 'http://127.0.0.1:18000/#token=a^&b']);
  });

  it('refuses an unknown UI with the list of names (exit 2), before looking for a stack', async () => {
    const result = await runCli(['open', 'dashbord', '--data-dir', join(bin, 'none')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown UI "dashbord"; the UIs are: control-room, chatbot, attacker, registry, prometheus, inbox, alertmanager');
  });

  it('takes a trace id after traces, and refuses anything else there (exit 2)', async () => {
    const bad = await runCli(['open', 'traces', 'nothex', '--data-dir', join(bin, 'none')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('a trace id is 32 lowercase hex digits, got "nothex"');
    const extra = await runCli(['open', 'chatbot', 'x', '--data-dir', join(bin, 'none')]);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain('unexpected argument "x"');
    // A good id goes on to look for the stack.
    expect((await runCli(['open', 'traces', 'ab'.repeat(16), '--data-dir', join(bin, 'none')])).code).toBe(3);
  });

  it('explains itself with --help, and says so when no stack runs (exit 3)', async () => {
    const help = await runCli(['open', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: trustusbank open \[UI\]/);
    const none = await runCli(['open', 'chatbot', '--data-dir', join(bin, 'none')]);
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/not running/);
  });
});
