// A pod's life: its identity and address (stable across restarts, like a pod's), its process, restarts with
// exponential backoff after a crash, and readiness from an HTTP probe.
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { UserError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { connect, type Socket } from 'node:net';
import { visible } from '../core/terminal.ts';
import { encodeSourceLine, type SocketAddress } from '../mesh/capture/protocol.ts';
import { PodProcess, type PodLaunch } from './pod-process.ts';
import type { MeshWorkload } from '../mesh/ztunnel/state.ts';

/** CreateContainerError: the start hook refused to start the process (kubelet's name for a container it could not create). */
export type PodPhase = 'Pending' | 'Running' | 'CrashLoopBackOff' | 'CreateContainerError' | 'Terminating' | 'Terminated';

export interface ReadinessProbe {
  path: string;
  containerPort: number;
  periodMs: number;
  timeoutMs: number;
  failureThreshold: number;
}

export interface PodTemplate {
  name: string;
  namespace: string;
  deployment: string;
  templateHash: string;
  labels: Record<string, string>;
  serviceAccount: string;
  ip: string;
  spiffeId: string;
  image: string;
  imageDigest: string;
  probe: ReadinessProbe;
  launch: Omit<PodLaunch, 'capture'> & { capture: Omit<PodLaunch['capture'], 'token'> };
}

/**
 * Restart backoff: 1 s doubling to 30 s (kubelet: 10 s to 5 min; ours is shorter because a demo waits on
 * it). A pod that ran ready for `resetAfterMs` before exiting starts its streak over, as the kubelet does after
 * 10 minutes of running: one crash a day must not wait 30 s because of last week's crashes.
 */
export interface RestartBackoff {
  initialMs: number;
  maxMs: number;
  resetAfterMs: number;
}

export const DEFAULT_RESTART_BACKOFF: RestartBackoff = { initialMs: 1000, maxMs: 30_000, resetAfterMs: 10 * 60_000 };

/** The crash streak an exit continues and the delay before the next start. `healthyForMs`: how long the run was ready. */
export function nextRestart(backoff: RestartBackoff, streak: number, healthyForMs: number): { streak: number; delayMs: number } {
  const next = healthyForMs >= backoff.resetAfterMs ? 1 : streak + 1;
  return { streak: next, delayMs: Math.min(backoff.initialMs * 2 ** (next - 1), backoff.maxMs) };
}

/** Why a pod's process last ended, as Kubernetes' `lastState.terminated`, with the end of its stderr. */
export interface PodTermination {
  exitCode: number | null;
  signal: string | null;
  /** `Completed` for exit code 0, else `Error` (the kubelet's reasons). */
  reason: 'Completed' | 'Error';
  startedAt: string;
  finishedAt: string;
  /** The last lines it wrote to stderr (src/runtime/pod-process.ts keeps at most 10 lines, 2 KB). */
  stderr: string[];
}

/** One line: `exit code 1`, `killed by SIGKILL`. */
export function describeExit(exit: { exitCode: number | null; signal: string | null }): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.exitCode}`;
}

/** A pod whose process ended before it was ever ready: names the pod, its exit, the end of its stderr and its log. */
export class PodStartError extends UserError {
  override readonly name = 'PodStartError';
  constructor(readonly pod: Pod) {
    const last = pod.lastTermination!;
    const stderr = last.stderr.length > 0 ? last.stderr.map((line) => `\n  | ${visible(line)}`).join('') : '\n  (nothing on stderr)';
    super(`pod ${pod.uid} exited before it was ready (${describeExit(last)}):${stderr}\nIts log: ${pod.template.launch.logFile}`);
  }
}

export class Pod implements MeshWorkload {
  readonly uid: string;
  readonly token = randomBytes(24).toString('base64url');
  readonly startedAt = new Date();
  phase: PodPhase = 'Pending';
  ready = false;
  restarts = 0;
  lastExit: string | undefined;
  lastTermination: PodTermination | undefined;
  /** When the next start is due, while the pod waits out its backoff. */
  nextStartAt: Date | undefined;
  /** Crashes since the pod last ran healthy for the backoff's reset time: what the backoff doubles on. */
  private crashStreak = 0;
  private readySince: number | undefined;
  /** The longest the current process has been ready without a break. */
  private longestReadyMs = 0;
  private everReady = false;
  /** Why the last start was refused, while it stays refused. */
  startRefusal: string | undefined;
  private refusedStarts = 0;
  private process: PodProcess | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private probeFailures = 0;
  private stopped = false;

  constructor(
    readonly template: PodTemplate,
    private readonly log: Logger,
    /** Called whenever readiness or the listening ports change. */
    private readonly onChange: (pod: Pod) => void,
    /** Run before every start of the process, restarts included; throws to refuse the start. */
    private readonly beforeStart?: () => void,
    private readonly backoff: RestartBackoff = DEFAULT_RESTART_BACKOFF,
    /** The pod's span batches, for the node's trace collector. */
    private readonly onSpans?: (pod: Pod, body: string) => void,
  ) {
    this.uid = `${template.namespace}/${template.name}`;
  }

  get name(): string {
    return this.template.name;
  }
  get namespace(): string {
    return this.template.namespace;
  }
  get workload(): string {
    return this.template.deployment;
  }
  get serviceAccount(): string {
    return this.template.serviceAccount;
  }
  get labels(): Record<string, string> {
    return this.template.labels;
  }
  get ip(): string {
    return this.template.ip;
  }
  get spiffeId(): string {
    return this.template.spiffeId;
  }
  get image(): string {
    return this.template.image;
  }
  get imageDigest(): string {
    return this.template.imageDigest;
  }
  get listeners(): ReadonlyMap<number, SocketAddress> {
    return this.process?.ports ?? new Map();
  }
  get pid(): number | undefined {
    return this.process?.pid;
  }

  start(): void {
    if (this.stopped) return;
    try {
      this.beforeStart?.();
    } catch (error) {
      // What was verified at admission may have changed on disk since: nothing starts unverified, and the pod
      // retries with backoff (the bytes may be restored).
      this.startRefusal = error instanceof Error ? error.message : String(error);
      const { streak, delayMs: delay } = nextRestart(this.backoff, this.refusedStarts, 0);
      this.refusedStarts = streak;
      this.phase = 'CreateContainerError';
      this.log.warn('pod start refused; retrying', { pod: this.uid, reason: this.startRefusal, backoff_ms: delay });
      this.scheduleStart(delay);
      this.onChange(this);
      return;
    }
    this.startRefusal = undefined;
    this.refusedStarts = 0;
    this.nextStartAt = undefined;
    this.readySince = undefined;
    this.longestReadyMs = 0;
    const process = new PodProcess({ ...this.template.launch, capture: { ...this.template.launch.capture, token: this.token } });
    this.process = process;
    this.phase = 'Running';
    const onSpans = this.onSpans;
    if (onSpans) process.onSpans((body) => onSpans(this, body));
    process.onListening(({ containerPort }) => {
      this.onChange(this);
      if (containerPort === this.template.probe.containerPort) void this.probe();
    });
    void process.exited.then((exit) => {
      if (this.process !== process) return;
      // The probe may have failed a moment before the exit was seen: the longest ready stretch of the run counts.
      const healthyForMs = Math.max(this.longestReadyMs, this.readySince === undefined ? 0 : Date.now() - this.readySince);
      this.setReady(false);
      clearTimeout(this.probeTimer);
      if (this.stopped) return;
      const termination: PodTermination = {
        exitCode: exit.code,
        signal: exit.signal,
        reason: exit.code === 0 ? 'Completed' : 'Error',
        startedAt: process.startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        stderr: process.stderrTail(),
      };
      // The last lines of a crash may still be in the pipe when 'exit' fires.
      void process.closed.then(() => {
        termination.stderr = process.stderrTail();
        if (this.lastTermination === termination) this.terminationDrained = true;
        this.onChange(this);
      });
      this.terminationDrained = false;
      this.lastTermination = termination;
      this.lastExit = describeExit(termination);
      this.restarts++;
      const { streak, delayMs: delay } = nextRestart(this.backoff, this.crashStreak, healthyForMs);
      this.crashStreak = streak;
      this.phase = 'CrashLoopBackOff';
      this.log.warn('pod exited; restarting', { pod: this.uid, exit: this.lastExit, restarts: this.restarts, backoff_ms: delay, ...(streak === 1 && healthyForMs > 0 ? { backoff: 'reset after a healthy run' } : {}) });
      this.scheduleStart(delay);
      this.onChange(this);
    });
  }

  private scheduleStart(delayMs: number): void {
    this.nextStartAt = new Date(Date.now() + delayMs);
    this.restartTimer = setTimeout(() => this.start(), delayMs);
    this.restartTimer.unref();
  }

  /** Whether the pod's process has ended at least once without ever having been ready. */
  get failedBeforeReady(): boolean {
    return this.lastTermination !== undefined && this.terminationDrained && !this.everReady;
  }
  private terminationDrained = false;

  async stop(): Promise<void> {
    this.stopped = true;
    this.phase = 'Terminating';
    clearTimeout(this.probeTimer);
    clearTimeout(this.restartTimer);
    this.setReady(false);
    await this.process?.stop();
    this.phase = 'Terminated';
  }

  send(message: Parameters<PodProcess['send']>[0]): void {
    this.process?.send(message);
  }

  private async probe(): Promise<void> {
    const { probe } = this.template;
    const address = this.listeners.get(probe.containerPort);
    if (this.stopped || address === undefined || !this.process?.running) return;
    const ok = await httpProbe(address, probe.path, probe.timeoutMs);
    this.probeFailures = ok ? 0 : this.probeFailures + 1;
    if (ok) this.setReady(true);
    else if (this.probeFailures >= probe.failureThreshold) this.setReady(false);
    if (this.stopped) return;
    // Until first ready, probe quickly so start-up is not held back by the period.
    const delay = this.ready ? probe.periodMs : Math.min(probe.periodMs, 100 * 2 ** Math.min(this.probeFailures, 4));
    this.probeTimer = setTimeout(() => void this.probe(), delay);
    this.probeTimer.unref();
  }

  private setReady(ready: boolean): void {
    if (this.ready === ready) return;
    this.ready = ready;
    if (ready) {
      this.everReady = true;
      this.readySince ??= Date.now();
    } else {
      if (this.readySince !== undefined) this.longestReadyMs = Math.max(this.longestReadyMs, Date.now() - this.readySince);
      this.readySince = undefined;
    }
    this.log.info(ready ? 'pod ready' : 'pod not ready', { pod: this.uid });
    this.onChange(this);
  }
}

/** A connection from the node itself to a pod's listener: its source line says so (PROXY UNKNOWN), as every
 *  connection to a pod starts (the probe's, the scraper's). */
export function connectAsNode(address: SocketAddress): Socket {
  const socket = 'path' in address ? connect(address.path) : connect(address.port, address.host);
  socket.write(encodeSourceLine(undefined));
  return socket;
}

/** One HTTP GET to a pod's listener, as the kubelet's httpGet probe: 2xx and 3xx are ready. */
function httpProbe(address: SocketAddress, path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ createConnection: () => connectAsNode(address), path, method: 'GET', headers: { host: 'localhost', 'user-agent': 'kube-probe/1.31' }, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) >= 200 && (res.statusCode ?? 500) < 400);
    });
    req.on('timeout', () => req.destroy(new Error('probe timed out')));
    req.on('error', () => resolve(false));
    req.end();
  });
}
