// One pod: a Node process running an image, with the mesh capture preloaded and Node's permission model on.
// The pod may read only its image, the shared base layer, the capture shim and its volume; write only its
// volume; spawn no processes and no workers; load native addons only when its Deployment allows it.
// Its environment is the Deployment's plus the pod's own names: nothing leaks in from the host.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import type { CaptureInit, FromPod, ToPod } from '../mesh/capture/protocol.ts';

/** Environment variables a pod may not set: they would change how Node itself starts or resolves code. */
const FORBIDDEN_ENV = /^(NODE_OPTIONS|NODE_PATH|NODE_EXTRA_CA_CERTS|NODE_REPL_EXTERNAL_MODULE|NODE_PENDING_DEPRECATION|UV_THREADPOOL_SIZE)$/;

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
  capture: Omit<CaptureInit, 'type'>;
}

export interface PodExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class PodProcess {
  readonly ports = new Map<number, number>();
  readonly exited: Promise<PodExit>;
  private readonly child: ChildProcess;
  private readonly log: WriteStream;
  private listeners: ((report: { containerPort: number; hostPort: number }) => void)[] = [];

  constructor(readonly launch: PodLaunch) {
    mkdirSync(launch.volumeDir, { recursive: true });
    mkdirSync(dirname(launch.logFile), { recursive: true });
    this.log = createWriteStream(launch.logFile, { flags: 'a' });
    const flags = [
      '--experimental-permission',
      '--max-semi-space-size=1',
      '--v8-pool-size=1',
      ...[...launch.readPaths, launch.volumeDir].map((path) => `--allow-fs-read=${path}`),
      `--allow-fs-write=${launch.volumeDir}`,
      ...(launch.allowAddons ? ['--allow-addons'] : []),
      '--disable-warning=ExperimentalWarning',
      '--disable-warning=SecurityWarning',
      '--import',
      pathToFileURL(launch.shimFile).href,
    ];
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...Object.fromEntries(Object.entries(launch.env).filter(([name]) => !FORBIDDEN_ENV.test(name))),
      HOSTNAME: launch.name,
      POD_NAME: launch.name,
      POD_NAMESPACE: launch.namespace,
      TRUSTUSBANK_DATA_DIR: launch.volumeDir,
    };
    this.child = spawn(process.execPath, [...flags, launch.entryFile, ...launch.args], {
      cwd: launch.volumeDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => this.log.end());
    for (const stream of [this.child.stdout!, this.child.stderr!]) createInterface({ input: stream }).on('line', (line) => this.log.write(line + '\n'));
    this.child.on('message', (message: FromPod) => {
      if (message?.type !== 'tub/listening' || !Number.isInteger(message.hostPort)) return;
      this.ports.set(message.containerPort, message.hostPort);
      for (const listener of this.listeners) listener(message);
    });
    this.child.on('error', (error) => this.log.write(`trustusbank: could not start pod: ${error.message}\n`));
    this.send({ type: 'tub/capture-init', ...launch.capture });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  send(message: ToPod): void {
    if (this.child.connected) this.child.send(message, (error) => error && undefined);
  }

  onListening(listener: (report: { containerPort: number; hostPort: number }) => void): void {
    this.listeners.push(listener);
  }

  /** SIGTERM, then SIGKILL after the grace period. */
  async stop(graceMs = 5000): Promise<PodExit> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      const exit = await this.exited;
      clearTimeout(timer);
      return exit;
    }
    return this.exited;
  }
}
