// One pod: a Node process running an image, with the mesh capture preloaded and Node's permission model on,
// inside the kernel sandbox where the machine has one (src/runtime/sandbox.ts).
// The pod may read only its image, the shared base layer, the capture shim and its volume; write only its
// volume and its socket directory; spawn no processes and no workers; load native addons only when its
// Deployment allows it. Its environment is the Deployment's plus the pod's own names: nothing leaks in from
// the host.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, linkSync, lstatSync, mkdirSync, rmSync, type WriteStream } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { listenSocketPath, type CaptureInit, type FromPod, type SocketAddress, type ToPod } from '../mesh/capture/protocol.ts';
import { sandboxCommand, type IsolationMode } from './sandbox.ts';

/** Environment variables a pod may not set: they would change how Node itself starts or resolves code. */
const FORBIDDEN_ENV = /^(NODE_OPTIONS|NODE_PATH|NODE_EXTRA_CA_CERTS|NODE_REPL_EXTERNAL_MODULE|NODE_PENDING_DEPRECATION|UV_THREADPOOL_SIZE)$/;

/** An environment without the variables that would change how a pod's Node starts. */
export function withoutForbiddenEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && !FORBIDDEN_ENV.test(entry[0])));
}

export function forbiddenEnvNames(env: Record<string, string>): string[] {
  return Object.keys(env).filter((name) => FORBIDDEN_ENV.test(name));
}

export interface PodLaunch {
  name: string;
  namespace: string;
  entryFile: string;
  args: string[];
  env: Record<string, string>;
  /** Paths the pod may read (image dir, base layer, shim). */
  readPaths: string[];
  /** The pod's volume: readable and writable, handed to the workload as TRUSTUSBANK_DATA_DIR. */
  volumeDir: string;
  shimFile: string;
  allowAddons: boolean;
  logFile: string;
  /** The pod's socket directory (its capture socket, its listeners); the only other thing it may write. */
  socketDir: string;
  /** Where the engine keeps its own hard links to the pod's listening sockets (the pod cannot reach it). */
  linkDir: string;
  isolation: IsolationMode;
  capture: Omit<CaptureInit, 'type' | 'listenDir'>;
}

/** The node flags and file access every pod process gets (an exec'd command too): the permission model. */
export function podNodeFlags(launch: Pick<PodLaunch, 'readPaths' | 'volumeDir' | 'socketDir' | 'allowAddons' | 'shimFile'>): string[] {
  return [
    '--experimental-permission',
    '--max-semi-space-size=1',
    '--v8-pool-size=1',
    // Each path once: Node 20's permission model aborts on a path given twice.
    ...[...new Set([...launch.readPaths, launch.volumeDir, launch.socketDir])].map((path) => `--allow-fs-read=${path}`),
    `--allow-fs-write=${launch.volumeDir}`,
    `--allow-fs-write=${launch.socketDir}`,
    ...(launch.allowAddons ? ['--allow-addons'] : []),
    '--disable-warning=ExperimentalWarning',
    '--disable-warning=SecurityWarning',
    '--import',
    pathToFileURL(launch.shimFile).href,
  ];
}

/** The command line of a pod's process (or of a command exec'd into the pod): sandboxed where it can be. */
export function podCommand(launch: Pick<PodLaunch, 'readPaths' | 'volumeDir' | 'socketDir' | 'allowAddons' | 'shimFile' | 'isolation'>, argv: string[]): { command: string; args: string[] } {
  const node = [process.execPath, ...podNodeFlags(launch), ...argv];
  if (launch.isolation === 'shim') return { command: node[0]!, args: node.slice(1) };
  return sandboxCommand({ readOnly: launch.readPaths, readWrite: [launch.volumeDir, launch.socketDir] }, node);
}

export interface PodExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * How much of a pod's stderr is kept for its termination record: as the kubelet's FallbackToLogsOnError, the
 * last lines up to 2 KB (a crash's message and the top of its stack, not a flood that fills memory).
 */
export const STDERR_TAIL_LINES = 10;
export const STDERR_TAIL_BYTES = 2048;

/** The last lines of a stream, within STDERR_TAIL_LINES and STDERR_TAIL_BYTES (the newest lines win). */
export function keepTail(lines: string[], line: string): void {
  lines.push(line.length > STDERR_TAIL_BYTES ? `${line.slice(0, STDERR_TAIL_BYTES - 1)}…` : line);
  let bytes = lines.reduce((sum, l) => sum + l.length + 1, 0);
  while (lines.length > STDERR_TAIL_LINES || (bytes > STDERR_TAIL_BYTES && lines.length > 1)) bytes -= lines.shift()!.length + 1;
}

export class PodProcess {
  /** containerPort → where the engine reaches the pod's listener (its own hard link to the pod's socket). */
  readonly ports = new Map<number, SocketAddress>();
  readonly startedAt = new Date();
  private readonly stderrLines: string[] = [];
  readonly exited: Promise<PodExit>;
  /** After the exit, once stdout and stderr are drained too (the last lines of a crash come after 'exit'). */
  readonly closed: Promise<void>;
  private readonly child: ChildProcess;
  private readonly log: WriteStream;
  private listeners: ((report: { containerPort: number }) => void)[] = [];

  constructor(readonly launch: PodLaunch) {
    mkdirSync(launch.volumeDir, { recursive: true });
    mkdirSync(launch.socketDir, { recursive: true, mode: 0o700 });
    mkdirSync(launch.linkDir, { recursive: true, mode: 0o700 });
    mkdirSync(dirname(launch.logFile), { recursive: true });
    this.log = createWriteStream(launch.logFile, { flags: 'a' });
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...Object.fromEntries(Object.entries(launch.env).filter(([name]) => !FORBIDDEN_ENV.test(name))),
      HOSTNAME: launch.name,
      POD_NAME: launch.name,
      POD_NAMESPACE: launch.namespace,
      TRUSTUSBANK_DATA_DIR: launch.volumeDir,
    };
    const { command, args } = podCommand(launch, [launch.entryFile, ...launch.args]);
    this.child = spawn(command, args, {
      cwd: launch.volumeDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    this.closed = new Promise((resolve) => this.child.once('close', () => resolve()));
    void this.exited.then(() => {
      // A dead process listens nowhere: its sockets are gone from the mesh's view with it.
      for (const address of this.ports.values()) if ('path' in address) rmSync(address.path, { force: true });
      this.ports.clear();
      this.log.end();
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.log.write(line + '\n'));
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      this.log.write(line + '\n');
      keepTail(this.stderrLines, line);
    });
    this.child.on('message', (message: FromPod) => {
      if (message?.type === 'tub/otlp') {
        if (typeof message.body === 'string') for (const listener of this.spanListeners) listener(message.body);
        return;
      }
      if (message?.type !== 'tub/listening' || !Number.isInteger(message.containerPort)) return;
      const address = this.adoptListener(message.containerPort, message.path);
      if (!address) return;
      this.ports.set(message.containerPort, address);
      for (const listener of this.listeners) listener(message);
    });
    this.child.on('error', (error) => this.log.write(`trustusbank: could not start pod: ${error.message}\n`));
    this.send({ type: 'tub/capture-init', ...launch.capture, listenDir: launch.socketDir });
  }

  /**
   * The pod reports where it listens, but its socket directory is its own to change: a symlink there could
   * point ztunnel at any socket of the host. So the engine takes a hard link of the socket it finds (link(2)
   * does not follow symlinks) into a directory the pod cannot see, checks that link is a socket, and only
   * ever connects to the link.
   */
  private adoptListener(containerPort: number, reported: unknown): SocketAddress | undefined {
    const expected = listenSocketPath(this.launch.socketDir, containerPort);
    if (reported !== expected) {
      this.log.write(`trustusbank: ignored a listener report for ${String(reported)} (expected ${expected})\n`);
      return undefined;
    }
    const link = join(this.launch.linkDir, `${basename(this.launch.socketDir)}-${containerPort}.sock`);
    try {
      rmSync(link, { force: true });
      linkSync(expected, link);
      if (!lstatSync(link).isSocket()) throw new Error('not a socket');
    } catch (error) {
      rmSync(link, { force: true });
      this.log.write(`trustusbank: listener ${expected} refused: ${(error as Error).message}\n`);
      return undefined;
    }
    return { path: link };
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The last lines the process wrote to stderr (why it crashed, usually). */
  stderrTail(): string[] {
    return [...this.stderrLines];
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  send(message: ToPod): void {
    if (this.child.connected) this.child.send(message, (error) => error && undefined);
  }

  onListening(listener: (report: { containerPort: number }) => void): void {
    this.listeners.push(listener);
  }

  private readonly spanListeners: ((body: string) => void)[] = [];

  /** The pod's span batches (OTLP/JSON text, unchecked: the listener parses and bounds them). */
  onSpans(listener: (body: string) => void): void {
    this.spanListeners.push(listener);
  }

  /**
   * Ask the pod to stop, then SIGKILL after the grace period. A sandboxed pod is asked by closing its channel
   * (the shim turns that into its SIGTERM: as PID 1 of its namespace it gets no signal it has no handler for);
   * killing the sandbox's `unshare` takes every process of the pod with it.
   */
  async stop(graceMs = 5000): Promise<PodExit> {
    if (this.running) {
      if (this.launch.isolation === 'kernel' && this.child.connected) this.child.disconnect();
      else this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      const exit = await this.exited;
      clearTimeout(timer);
      return exit;
    }
    return this.exited;
  }
}
