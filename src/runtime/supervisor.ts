// Runs workloads as child processes: each one through the CLI's `workload` entry (the same a pod uses),
// its output teed to a log file, ready once it has logged its URL and answered GET /healthz.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { UserError } from '../core/errors.ts';

/** The CLI that child processes run: the tsx launcher for sources, the compiled entry for a dist/ build. */
/**
 * Set in a supervised child's environment: the child treats the end of its stdin (a pipe from this process)
 * as a stop signal, so that it never outlives its supervisor, even one killed with SIGKILL.
 */
export const EXIT_WITH_PARENT_ENV = 'TRUSTUSBANK_EXIT_WITH_PARENT';

export const CLI_BIN = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../bin/trustusbank.js' : '../cli/main.js', import.meta.url));

export interface ProcessSpec {
  name: string;
  /** Arguments to the trustusbank CLI, e.g. ["workload", "account-mcp", "--port", "0"]. */
  args: string[];
  env?: NodeJS.ProcessEnv;
  logFile: string;
  readyTimeoutMs?: number;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  name: string;
  pid: number;
  url: string;
  exited: Promise<ExitStatus>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<ExitStatus>;
}

export async function startProcess(spec: ProcessSpec): Promise<ManagedProcess> {
  mkdirSync(dirname(spec.logFile), { recursive: true });
  const logStream = createWriteStream(spec.logFile, { flags: 'a' });
  const child = spawn(process.execPath, [CLI_BIN, ...spec.args], {
    env: { ...(spec.env ?? process.env), [EXIT_WITH_PARENT_ENV]: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<ExitStatus>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  void exited.then(() => logStream.end());

  const stderrTail: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    logStream.write(line + '\n');
    stderrTail.push(line);
    if (stderrTail.length > 10) stderrTail.shift();
  });

  const listening = new Promise<string>((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logStream.write(line + '\n');
      const url = listeningUrl(line);
      if (url) resolve(url);
    });
  });

  const timeoutMs = spec.readyTimeoutMs ?? 20_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UserError(`${spec.name} was not ready after ${timeoutMs} ms; see ${spec.logFile}`)), timeoutMs);
  });
  const died = exited.then((status): never => {
    const detail = stderrTail.length > 0 ? `:\n  ${stderrTail.join('\n  ')}` : `; see ${spec.logFile}`;
    throw new UserError(`${spec.name} exited before it was ready (${describeExit(status)})${detail}`);
  });

  try {
    const url = await Promise.race([listening, died, timedOut]);
    await Promise.race([waitHealthy(url, exited), died, timedOut]);
    return { name: spec.name, pid: child.pid!, url, exited, stop: (graceMs) => stopChild(child, exited, graceMs) };
  } catch (error) {
    await stopChild(child, exited, 1000);
    throw error;
  } finally {
    clearTimeout(timer);
    died.catch(() => undefined);
  }
}

function listeningUrl(line: string): string | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const record = JSON.parse(line) as { msg?: unknown; url?: unknown };
    return record.msg === 'listening' && typeof record.url === 'string' ? record.url : undefined;
  } catch {
    return undefined;
  }
}

/** Poll GET /healthz until it answers 200; the caller bounds the wait. */
async function waitHealthy(url: string, exited: Promise<ExitStatus>): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  for (let delay = 10; !gone; delay = Math.min(delay * 2, 250)) {
    try {
      const response = await fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(2000) });
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // not answering yet
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

async function stopChild(child: ChildProcess, exited: Promise<ExitStatus>, graceMs = 5000): Promise<ExitStatus> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const status = await exited;
    clearTimeout(timer);
    return status;
  }
  return exited;
}

export function describeExit(status: ExitStatus): string {
  return status.signal ? `killed by ${status.signal}` : `exit code ${status.code}`;
}
