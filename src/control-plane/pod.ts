// A pod's life: its identity and address (stable across restarts, like a pod's), its process, restarts with
// exponential backoff after a crash, and readiness from an HTTP probe.
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Logger } from '../core/log.ts';
import { connect } from 'node:net';
import { encodeSourceLine, type SocketAddress } from '../mesh/capture/protocol.ts';
import { PodProcess, type PodLaunch } from '../runtime/pod-process.ts';
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

export const MAX_BACKOFF_MS = 30_000;

export class Pod implements MeshWorkload {
  readonly uid: string;
  readonly token = randomBytes(24).toString('base64url');
  readonly startedAt = new Date();
  phase: PodPhase = 'Pending';
  ready = false;
  restarts = 0;
  lastExit: string | undefined;
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
      this.refusedStarts++;
      this.phase = 'CreateContainerError';
      const delay = Math.min(1000 * 2 ** (this.refusedStarts - 1), MAX_BACKOFF_MS);
      this.log.warn('pod start refused; retrying', { pod: this.uid, reason: this.startRefusal, backoff_ms: delay });
      this.restartTimer = setTimeout(() => this.start(), delay);
      this.restartTimer.unref();
      this.onChange(this);
      return;
    }
    this.startRefusal = undefined;
    this.refusedStarts = 0;
    const process = new PodProcess({ ...this.template.launch, capture: { ...this.template.launch.capture, token: this.token } });
    this.process = process;
    this.phase = 'Running';
    process.onListening(({ containerPort }) => {
      this.onChange(this);
      if (containerPort === this.template.probe.containerPort) void this.probe();
    });
    void process.exited.then((exit) => {
      if (this.process !== process) return;
      this.setReady(false);
      clearTimeout(this.probeTimer);
      if (this.stopped) return;
      this.lastExit = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
      this.restarts++;
      const delay = Math.min(1000 * 2 ** (this.restarts - 1), MAX_BACKOFF_MS);
      this.phase = 'CrashLoopBackOff';
      this.log.warn('pod exited; restarting', { pod: this.uid, exit: this.lastExit, restarts: this.restarts, backoff_ms: delay });
      this.restartTimer = setTimeout(() => this.start(), delay);
      this.restartTimer.unref();
    });
  }

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
    this.log.info(ready ? 'pod ready' : 'pod not ready', { pod: this.uid });
    this.onChange(this);
  }
}

/** One HTTP GET to a pod's listener, as the kubelet's httpGet probe: 2xx and 3xx are ready. */
function httpProbe(address: SocketAddress, path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    // The node's own connection: its source line says so (PROXY UNKNOWN), as every connection to a pod starts.
    const createConnection = () => {
      const socket = 'path' in address ? connect(address.path) : connect(address.port, address.host);
      socket.write(encodeSourceLine(undefined));
      return socket;
    };
    const req = request({ createConnection, path, method: 'GET', headers: { host: 'localhost', 'user-agent': 'kube-probe/1.31' }, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) >= 200 && (res.statusCode ?? 500) < 400);
    });
    req.on('timeout', () => req.destroy(new Error('probe timed out')));
    req.on('error', () => resolve(false));
    req.end();
  });
}
