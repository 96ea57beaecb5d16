// Running the real `trustusbank` command in a child process, as a user would.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CLI_BIN } from '../src/cli/bin-path.ts';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface LiveCli {
  child: ChildProcess;
  /** Every stdout line so far. */
  lines: string[];
  stderr(): string;
  /** Resolves with the first stdout line matching `pattern`; rejects if the process exits first. */
  waitForLine(pattern: RegExp): Promise<string>;
  exited: Promise<number | null>;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): LiveCli {
  const child = spawn(process.execPath, [CLI_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const waiter of waiters.filter((w) => w.pattern.test(line))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    stderr: () => stderr,
    exited,
    waitForLine: (pattern) =>
      new Promise((resolve, reject) => {
        const seen = lines.find((line) => pattern.test(line));
        if (seen) return resolve(seen);
        waiters.push({ pattern, resolve });
        void exited.then((code) => reject(new Error(`exited (${code}) before printing ${pattern}; stderr:\n${stderr}`)));
      }),
  };
}

/** `up` flags that move every host port to a free one, so stacks of parallel tests and a developer's own never collide. */
export const FREE_PORT_FLAGS: readonly string[] = ['--attacker-port', '0', '--gateway-port', '0', '--agents-ui-port', '0', '--registry-port', '0', '--metrics-port', '0', '--alertmanager-port', '0', '--inbox-port', '0', '--smtp-port', '0', '--dashboard-port', '0', '--traces-port', '0', '--chatbot-port', '0', '--control-room-port', '0'];
