// The Deployment controller and the node's pod registry: it watches the store and turns Deployments into running
// pods with identities and addresses, and answers the mesh's questions (which workload has this token or address,
// which Service is this, its endpoints) with what the Services and AuthorizationPolicy controllers hold. The
// desired state itself is the store's (store.ts); apply goes through here only to return once the pods follow.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { UserError } from '../core/errors.ts';
import { join } from 'node:path';
import type { Logger } from '../core/log.ts';
import type { ManifestIssue } from '../manifests/errors.ts';
import type { Deployment, LoadedResource } from '../manifests/types.ts';
import type { AuthorizationPolicyEngine } from '../mesh/authz/index.ts';
import type { SvidRotator } from '../mesh/ca/rotator.ts';
import { spiffeIdFor } from '../mesh/ca/spiffe-id.ts';
import type { MeshService, MeshServicePort, MeshWorkload } from '../mesh/ztunnel/state.ts';
import type { SocketAddress } from '../mesh/capture/protocol.ts';
import type { ImageStore } from '../runtime/images.ts';
import type { IsolationMode } from '../runtime/sandbox.ts';
import { forbiddenEnvNames } from '../runtime/pod-process.ts';
import { AddressPool } from './addresses.ts';
import { issueOf, type ResourceChange, type ResourceCheck, type ResourceStore } from './store.ts';
import type { PolicyController } from './controllers/policies.ts';
import type { ServiceController } from './controllers/services.ts';
import type { DataPlaneState } from '../mesh/ztunnel/data-plane.ts';
import { planRollout, templateHashOf } from './controllers/rollout.ts';
import { Pod, PodStartError, type PodTemplate, type ReadinessProbe, type RestartBackoff } from '../runtime/pod.ts';

export const ALLOW_ADDONS_ANNOTATION = 'trustusbank.io/allow-native-addons';

export type { ChangeAction, Controller, ResourceChange } from './store.ts';

export interface ApplyResult {
  changes: ResourceChange[];
  warnings: string[];
}

export interface EngineOptions {
  dataDir: string;
  images: Pick<ImageStore, 'resolve' | 'entryFile' | 'imageDir' | 'baseLayerDir'>;
  rotator: Pick<SvidRotator, 'ensure'>;
  shimFile: string;
  log: Logger;
  /** The node's ztunnel: each pod gets its own capture socket; the node's is for identities without a pod. */
  capture: { attach(uid: string, path: string): Promise<SocketAddress>; detach(path: string): Promise<void>; nodeSocket(): SocketAddress };
  /** A short private directory for the pods' sockets (Unix socket paths are limited to ~100 bytes). */
  runtimeDir: string;
  isolation: IsolationMode;
  /** Hook run before a pod is created (admission); throw to refuse. The hook logs and counts its refusals. */
  admit?: (template: PodTemplate) => void;
  /** A pod's span batch (OTLP/JSON over its channel), for the trace collector; the pod is who sent it. */
  onSpans?: (pod: Pod, body: string) => void;
  /** Hook run before every start of a pod's process, the first and each restart: throw to refuse that start (the
   *  pod waits and retries with backoff). The hook reports its refusals. */
  verifyStart?: (template: PodTemplate) => void;
  /** The desired state this engine's Deployment controller watches. */
  store: ResourceStore;
  /** Service addresses and DNS. */
  services: ServiceController;
  /** Pushes the AuthorizationPolicies to the data plane's `authz`. */
  policies: PolicyController;
  /** The data plane's workload and Service state, which the engine pushes to. */
  dataPlane: DataPlaneState;
  /** Where `trustusbank.io/env-from-host` variables are read (default process.env). */
  hostEnv?: NodeJS.ProcessEnv;
  /** How a pod comes to life (default: a `Pod` running its process under supervision); tests pass a fake
   *  runtime whose pods become ready when the test says so, calling `onChange` as a real pod does. */
  podRuntime?: (template: PodTemplate, onChange: () => void) => Pod;
  /** Pods' restart backoff (default DEFAULT_RESTART_BACKOFF; tests shorten the reset). */
  restartBackoff?: RestartBackoff;
}

/**
 * What Kubernetes would refuse or fail on later for a Deployment, refused at apply so that nothing is
 * half-applied: its service account must exist, its image must be in the local store, and its env may not set
 * what changes how the pod's runtime starts.
 */
export function deploymentReferences(images: Pick<ImageStore, 'resolve'>): ResourceCheck {
  return (loaded, visible) => {
    const accounts = new Set([...visible, ...loaded].filter((l) => l.resource.kind === 'ServiceAccount').map((l) => `${l.resource.metadata.namespace}/${l.resource.metadata.name}`));
    const issues: ManifestIssue[] = [];
    for (const l of loaded) {
      const { resource } = l;
      if (resource.kind !== 'Deployment') continue;
      const pod = resource.spec.template.spec;
      const account = pod.serviceAccountName ?? 'default';
      if (account !== 'default' && !accounts.has(`${resource.metadata.namespace}/${account}`)) {
        issues.push(issueOf(l, 'spec.template.spec.serviceAccountName', `service account "${account}" does not exist in namespace ${resource.metadata.namespace}`));
      }
      const container = pod.containers[0];
      if (images.resolve(container.image) === undefined) {
        issues.push(issueOf(l, 'spec.template.spec.containers[0].image', `image ${container.image} is not in the local image store (see \`trustusbank images\`)`));
      }
      for (const name of forbiddenEnvNames(Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? ''])))) {
        const index = (container.env ?? []).findIndex((e) => e.name === name);
        issues.push(issueOf(l, `spec.template.spec.containers[0].env[${index}].name`, `${name} may not be set on a pod: it would change how the pod's runtime starts`));
      }
    }
    return issues;
  };
}

/** A pod of a Deployment with this annotation gets these host variables (comma-separated), like secretKeyRef env. */
export const ENV_FROM_HOST_ANNOTATION = 'trustusbank.io/env-from-host';
/** Only what a model provider needs (a key, a base URL); a manifest cannot read arbitrary host variables this way. */
const HOST_ENV_NAME = /^(?:[A-Z][A-Z0-9_]*_(?:API_KEY|KEY|TOKEN)|ANTHROPIC_BASE_URL|OPENAI_BASE_URL)$/;

export function isHostEnvName(name: string): boolean {
  return HOST_ENV_NAME.test(name);
}

export class Engine {
  /** The data plane's policy state, as the AuthorizationPolicy controller pushed it last (for `status`). */
  get authz(): AuthorizationPolicyEngine {
    return this.dataPlane.authz;
  }
  private readonly resources: ResourceStore;
  private readonly serviceController: ServiceController;
  private readonly policies: PolicyController;
  /** The last admission refusal per Deployment (`ns/name`), until a pod of it is admitted. */
  private readonly refusals = new Map<string, { digest: string; reason: string; at: string }>();
  private readonly pods = new Map<string, Pod>();
  /** Where workloads, their tokens and addresses are pushed as they come and go: the data plane's own state. */
  private readonly dataPlane: DataPlaneState;
  private readonly podIps = new AddressPool('10.244');
  private podSerial = 0;
  private readonly listeners = new Set<() => void>();
  private reconciling: Promise<void> = Promise.resolve();
  /** The pass the store's last change started: an apply returns when it is done. */
  private changePass: Promise<void> = Promise.resolve();
  private shuttingDown = false;

  constructor(private readonly options: EngineOptions) {
    this.resources = options.store;
    this.serviceController = options.services;
    this.policies = options.policies;
    this.dataPlane = options.dataPlane;
    // The Deployment controller: every change of the desired state is a reconciliation pass.
    this.resources.watch(() => {
      const pass = this.reconcile();
      pass.catch(() => undefined);
      this.changePass = pass;
    });
    // New DNS records reach every running pod's resolver.
    this.serviceController.onDns((dns) => {
      for (const pod of this.pods.values()) pod.send({ type: 'tub/dns', dns });
    });
  }

  // --- desired state: the store's changes, returned once the pods follow ----------------------------------

  /** Validate every document, then apply them all, or throw a ManifestError and change nothing. */
  async apply(documents: { file: string; text: string }[]): Promise<ApplyResult> {
    const changes = this.resources.apply(documents);
    await this.changePass;
    return { changes, warnings: this.warnings() };
  }

  /** Delete the resources the documents name (their content is validated too). */
  async delete(documents: { file: string; text: string }[]): Promise<ApplyResult> {
    const changes = this.resources.delete(documents);
    await this.changePass;
    return { changes, warnings: [] };
  }

  /** Make these documents the whole desired state (`reset`); all or nothing. */
  async replaceAll(documents: { file: string; text: string }[]): Promise<ApplyResult> {
    const changes = this.resources.replaceAll(documents);
    await this.changePass;
    return { changes, warnings: this.warnings() };
  }

  /** The desired state a previous run stored, applied; undefined when none was stored. */
  async restore(): Promise<ApplyResult | undefined> {
    const changes = this.resources.restore();
    if (changes === undefined) return undefined;
    await this.changePass;
    return { changes, warnings: this.warnings() };
  }

  /** Every resource: applied ones and those the controllers generated (marked by their origin). */
  list(kind?: string, namespace?: string): LoadedResource[] {
    return this.resources.list(kind, namespace);
  }

  private warnings(): string[] {
    return [...this.policies.warnings, ...this.resources.warnings];
  }

  // --- reconciliation --------------------------------------------------------------------------------------

  /** Bring services, policies and pods in line with the desired state. Serialised: one pass at a time. */
  reconcile(): Promise<void> {
    const pass = this.reconciling.then(() => this.reconcileOnce());
    this.reconciling = pass.catch(() => undefined);
    return pass;
  }

  private async reconcileOnce(): Promise<void> {
    // Once shutdown begins, stopped pods must stay stopped: nothing may recreate them.
    if (this.shuttingDown) return;
    const deployments = this.list('Deployment').map((l) => l.resource as Deployment);
    const wanted = new Set(deployments.map((d) => `${d.metadata.namespace}/${d.metadata.name}`));
    const stops: Promise<void>[] = [];
    for (const pod of this.pods.values()) {
      if (!wanted.has(`${pod.namespace}/${pod.workload}`)) stops.push(this.removePod(pod));
    }
    for (const deployment of deployments) await this.reconcileDeployment(deployment, stops);
    await Promise.all(stops);
    this.notify();
  }

  private async reconcileDeployment(deployment: Deployment, stops: Promise<void>[]): Promise<void> {
    const namespace = deployment.metadata.namespace!;
    const name = deployment.metadata.name;
    const container = deployment.spec.template.spec.containers[0];
    const digest = this.options.images.resolve(container.image);
    if (digest === undefined) {
      this.options.log.warn('image not found; pods not created', { deployment: `${namespace}/${name}`, image: container.image });
      return;
    }
    const templateHash = templateHashOf(deployment, digest);
    // In creation order: the oldest surplus pods are kept.
    const owned = [...this.pods.values()].filter((p) => p.namespace === namespace && p.workload === name);
    const plan = planRollout(owned.map((pod) => ({ pod, templateHash: pod.template.templateHash, ready: pod.ready, phase: pod.phase })), templateHash, deployment.spec.replicas ?? 1);
    for (let i = 0; i < plan.create; i++) await this.createPod(deployment, digest, templateHash);
    for (const { pod } of plan.remove) stops.push(this.removePod(pod));
  }

  private async createPod(deployment: Deployment, digest: string, templateHash: string): Promise<Pod | undefined> {
    const { images, dataDir } = this.options;
    const namespace = deployment.metadata.namespace!;
    const name = `${deployment.metadata.name}-${templateHash.slice(0, 8)}-${randomSuffix()}`;
    const podSpec = deployment.spec.template.spec;
    const container = podSpec.containers[0];
    const serviceAccount = podSpec.serviceAccountName ?? 'default';
    const containerPorts = (container.ports ?? []).map((p) => p.containerPort);
    const template: PodTemplate = {
      name,
      namespace,
      deployment: deployment.metadata.name,
      templateHash,
      labels: { ...deployment.spec.template.metadata.labels, 'pod-template-hash': templateHash },
      serviceAccount,
      ip: this.podIps.assign(`${namespace}/${name}`),
      spiffeId: spiffeIdFor(namespace, serviceAccount),
      image: container.image,
      imageDigest: digest,
      probe: readinessProbeOf(container, containerPorts),
      launch: {
        name,
        namespace,
        entryFile: images.entryFile(digest),
        args: container.args ?? [],
        env: { ...Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? ''])), ...hostEnvFor(deployment, this.options.hostEnv ?? process.env) },
        readPaths: [images.imageDir(digest), join(images.imageDir(digest), '..', '..', '..', 'node_modules'), images.baseLayerDir(), this.options.shimFile],
        volumeDir: join(dataDir, 'volumes', namespace, deployment.metadata.name),
        shimFile: this.options.shimFile,
        allowAddons: deployment.spec.template.metadata.annotations?.[ALLOW_ADDONS_ANNOTATION] === 'true',
        logFile: join(dataDir, 'logs', 'pods', namespace, `${name}.log`),
        socketDir: join(this.options.runtimeDir, `p${++this.podSerial}`),
        linkDir: join(this.options.runtimeDir, 'links'),
        isolation: this.options.isolation,
        capture: { ztunnel: { path: '' }, namespace, dns: this.serviceController.records() },
      },
    };
    const deploymentKey = `${namespace}/${deployment.metadata.name}`;
    try {
      this.options.admit?.(template);
    } catch (error) {
      this.podIps.release(`${namespace}/${name}`);
      // The admission hook reports its refusals (log, event, metric), as a webhook does; every reconciliation
      // retries (a policy may have changed), and the rollout's status says why it is stuck.
      this.refusals.set(deploymentKey, { digest, reason: (error as Error).message, at: new Date().toISOString() });
      return undefined;
    }
    this.refusals.delete(deploymentKey);
    await this.options.rotator.ensure({ namespace, serviceAccount });
    mkdirSync(template.launch.socketDir, { recursive: true, mode: 0o700 });
    template.launch.capture.ztunnel = await this.options.capture.attach(`${namespace}/${name}`, join(template.launch.socketDir, 'ztunnel.sock'));
    const verifyStart = this.options.verifyStart;
    const pod =
      this.options.podRuntime?.(template, () => this.onPodChange()) ??
      new Pod(template, this.options.log, () => this.onPodChange(), verifyStart && (() => verifyStart(template)), this.options.restartBackoff, (pod, body) => this.options.onSpans?.(pod, body));
    this.pods.set(pod.uid, pod);
    const namedPorts = Object.fromEntries((container.ports ?? []).flatMap((p) => (p.name ? [[p.name, p.containerPort]] : [])));
    this.dataPlane.putWorkload({ workload: pod, kind: 'pod', serving: () => pod.phase === 'Running', namedPorts }, [pod.token]);
    this.options.log.info('pod created', { pod: pod.uid, image: container.image, digest, identity: pod.spiffeId, ip: pod.ip });
    pod.start();
    return pod;
  }

  private async removePod(pod: Pod): Promise<void> {
    if (pod.phase === 'Terminating' || pod.phase === 'Terminated') return;
    await pod.stop();
    await this.options.capture.detach(join(pod.template.launch.socketDir, 'ztunnel.sock'));
    this.pods.delete(pod.uid);
    // Its own token and every exec token speaking as it go with it.
    this.dataPlane.removeWorkload(pod);
    this.podIps.release(pod.uid);
    this.options.log.info('pod deleted', { pod: pod.uid });
    this.notify();
  }

  private onPodChange(): void {
    // Readiness moves rollouts forward and changes endpoints.
    void this.reconcile();
  }

  // --- queries ---------------------------------------------------------------------------------------------

  allPods(): Pod[] {
    return [...this.pods.values()].sort((a, b) => a.uid.localeCompare(b.uid));
  }

  podsOf(namespace: string, workload: string): Pod[] {
    return this.allPods().filter((p) => p.namespace === namespace && p.workload === workload);
  }

  allServices(): MeshService[] {
    return this.serviceController.all();
  }

  /** Where a Deployment's rollout stands: every pod on the wanted digest and ready, or refused at admission. */
  rolloutStatus(namespace: string, name: string): { digest?: string; complete: boolean; pods: { name: string; digest: string; ready: boolean }[]; refused?: { digest: string; reason: string; at: string } } {
    const deployment = this.list('Deployment', namespace).find(({ resource }) => resource.metadata.name === name)?.resource as Deployment | undefined;
    if (!deployment) throw new UserError(`no Deployment ${name} in namespace ${namespace}`);
    const digest = this.options.images.resolve(deployment.spec.template.spec.containers[0].image);
    const pods = this.podsOf(namespace, name)
      .filter((p) => p.phase !== 'Terminated')
      .map((p) => ({ name: p.name, digest: p.imageDigest, ready: p.ready && p.phase === 'Running' }));
    const refusal = this.refusals.get(`${namespace}/${name}`);
    const complete = pods.length === (deployment.spec.replicas ?? 1) && pods.every((p) => p.digest === digest && p.ready);
    return { ...(digest ? { digest } : {}), complete, pods, ...(refusal && refusal.digest === digest ? { refused: { digest: refusal.digest, reason: refusal.reason, at: refusal.at } } : {}) };
  }

  /** Wait until the rollout completes or admission refuses it. */
  async waitRollout(namespace: string, name: string, timeoutMs: number): Promise<ReturnType<Engine['rolloutStatus']>> {
    const deadline = Date.now() + timeoutMs;
    await this.reconciling;
    for (;;) {
      const status = this.rolloutStatus(namespace, name);
      if (status.complete || status.refused) return status;
      if (Date.now() > deadline) throw new Error(`rollout of ${namespace}/${name} not complete after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.listeners.delete(done);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(done, 100);
        this.listeners.add(done);
      });
    }
  }

  /**
   * Resolves once every Deployment has all its replicas ready (or rejects after the timeout). With
   * `failFast`, a pod whose process ended before it was ever ready rejects at once with its exit and the end
   * of its stderr: at start-up a crash is a broken file or setting that waiting will not mend.
   */
  async waitReady(timeoutMs: number, options: { failFast?: boolean } = {}): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const crashed = options.failFast ? this.allPods().find((p) => p.failedBeforeReady) : undefined;
        if (crashed) {
          this.listeners.delete(listener);
          clearTimeout(timer);
          reject(new PodStartError(crashed));
          return true;
        }
        const pending = this.list('Deployment').filter(({ resource }) => {
          const d = resource as Deployment;
          const ready = this.podsOf(d.metadata.namespace!, d.metadata.name).filter((p) => p.ready && p.phase === 'Running').length;
          return ready < (d.spec.replicas ?? 1);
        });
        if (pending.length === 0) {
          this.listeners.delete(listener);
          clearTimeout(timer);
          resolve();
          return true;
        }
        return false;
      };
      const listener = (): void => void check();
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        const waiting = this.list('Deployment')
          .map((l) => l.resource as Deployment)
          .filter((d) => this.podsOf(d.metadata.namespace!, d.metadata.name).filter((p) => p.ready).length < (d.spec.replicas ?? 1))
          .map((d) => `${d.metadata.namespace}/${d.metadata.name}`);
        reject(new UserError(`not ready after ${timeoutMs / 1000} s: ${waiting.join(', ')}; see their logs in ${join(this.options.dataDir, 'logs', 'pods')}`));
      }, Math.max(0, deadline - Date.now()));
      timer.unref();
      this.listeners.add(listener);
      check();
    });
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /**
   * Delete a workload's pods (`kubectl delete pod`, or a rollout restart): the Deployment brings up new ones
   * with new names and addresses and the same identity. Resolves once the replacements are ready.
   */
  async deletePods(namespace: string, workload: string, timeoutMs = 30_000): Promise<string[]> {
    const pods = this.podsOf(namespace, workload);
    await Promise.all(pods.map((pod) => this.removePod(pod)));
    await this.reconcile();
    await this.waitReady(timeoutMs);
    return pods.map((pod) => pod.name);
  }

  /** Let a process started by `exec` speak as a pod of this workload: same identity, same capture. */
  execToken(namespace: string, workload: string): { token: string; pod: Pod } | undefined {
    const pod = this.podsOf(namespace, workload).find((p) => p.ready) ?? this.podsOf(namespace, workload)[0];
    if (!pod) return undefined;
    // As unguessable as a pod's own token, and nothing of the pod's token in it.
    const token = randomBytes(24).toString('base64url');
    this.dataPlane.putToken(token, pod);
    return { token, pod };
  }

  releaseExecToken(token: string): void {
    this.dataPlane.removeToken(token);
  }

  captureEndpoint(): SocketAddress {
    return this.options.capture.nodeSocket();
  }

  dnsRecords(): Record<string, string> {
    return this.serviceController.records();
  }

  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    await this.reconciling;
    await Promise.all(this.allPods().map((pod) => pod.stop()));
    this.pods.clear();
    this.resources.close();
  }

  // --- the mesh as the data plane sees it (what was pushed to it), for the control plane's own questions -----

  workloadByToken(token: string): MeshWorkload | undefined {
    return this.dataPlane.workloadByToken(token);
  }

  workloadByIp(ip: string): MeshWorkload | undefined {
    return this.dataPlane.workloadByIp(ip);
  }

  /**
   * A short-lived mesh identity of a service account, with no process behind it (as `kubectl run --rm
   * --serviceaccount` would give): its connections, opened through the node's capture socket with the token,
   * are carried and authorized like any pod's. It is never a service endpoint. Release it when done.
   */
  async ephemeralWorkload(namespace: string, serviceAccount: string, purpose: string): Promise<{ token: string; workload: MeshWorkload; release(): void }> {
    if (!this.list('Namespace').some(({ resource }) => resource.metadata.name === namespace)) throw new UserError(`namespace "${namespace}" does not exist`);
    if (serviceAccount !== 'default' && !this.list('ServiceAccount', namespace).some(({ resource }) => resource.metadata.name === serviceAccount)) {
      throw new UserError(`service account "${serviceAccount}" does not exist in namespace ${namespace}`);
    }
    await this.options.rotator.ensure({ namespace, serviceAccount });
    const name = `${purpose}-${randomSuffix()}`;
    const uid = `${namespace}/${name}`;
    const workload: MeshWorkload = {
      uid,
      name,
      namespace,
      workload: purpose,
      serviceAccount,
      labels: { 'app.kubernetes.io/name': purpose },
      ip: this.podIps.assign(uid),
      spiffeId: spiffeIdFor(namespace, serviceAccount),
      listeners: new Map(),
      ready: false,
      imageDigest: '',
      image: '',
    };
    const token = randomBytes(24).toString('base64url');
    this.dataPlane.putWorkload({ workload, kind: 'identity' }, [token]);
    return {
      token,
      workload,
      release: () => {
        this.dataPlane.removeWorkload(workload);
        this.podIps.release(uid);
      },
    };
  }

  /** A cluster address for something that is not a pod (a waypoint). */
  assignAddress(key: string): string {
    return this.podIps.assign(key);
  }

  /** Provision (or, with `undefined` ports, remove) a Service the control plane owns, e.g. a Gateway's. */
  setProvisionedService(namespace: string, name: string, spec: { ports: MeshService['ports']; selector: Record<string, string>; labels?: Record<string, string> } | undefined): void {
    this.serviceController.setProvisioned(namespace, name, spec);
  }

  /** A built-in proxy (a waypoint or gateway) joins the mesh: selected by Services like a pod. */
  addWorkload(workload: MeshWorkload): void {
    this.dataPlane.putWorkload({ workload, kind: 'proxy' });
  }

  removeWorkload(workload: MeshWorkload): void {
    this.dataPlane.removeWorkload(workload);
    this.podIps.release(workload.uid);
  }

  service(host: string, fromNamespace: string): MeshService | undefined {
    return this.dataPlane.service(host, fromNamespace);
  }

  endpoints(service: MeshService): MeshWorkload[] {
    return this.dataPlane.endpoints(service);
  }

  containerPort(service: MeshService, port: MeshServicePort, pod: MeshWorkload): number | undefined {
    return this.dataPlane.containerPort(service, port, pod);
  }
}

function readinessProbeOf(container: Deployment['spec']['template']['spec']['containers'][0], containerPorts: number[]): ReadinessProbe {
  const probe = container.readinessProbe;
  const named = (port: number | string): number =>
    typeof port === 'number' ? port : (container.ports?.find((p) => p.name === port)?.containerPort ?? containerPorts[0] ?? 8080);
  return {
    path: probe?.httpGet.path ?? '/healthz',
    containerPort: probe ? named(probe.httpGet.port) : (containerPorts[0] ?? 8080),
    periodMs: (probe?.periodSeconds ?? 5) * 1000,
    timeoutMs: (probe?.timeoutSeconds ?? 1) * 1000,
    failureThreshold: probe?.failureThreshold ?? 3,
  };
}

/** The host variables a pod of this Deployment receives at start (its env-from-host annotation, allowed names only). */
export function hostEnvFor(deployment: Deployment, hostEnv: NodeJS.ProcessEnv): Record<string, string> {
  const names = deployment.spec.template.metadata.annotations?.[ENV_FROM_HOST_ANNOTATION]?.split(',').map((n) => n.trim()) ?? [];
  const env: Record<string, string> = {};
  for (const name of names) {
    const value = hostEnv[name];
    if (HOST_ENV_NAME.test(name) && value !== undefined && value !== '') env[name] = value;
  }
  return env;
}

function randomSuffix(): string {
  return Math.random().toString(36).slice(2, 7).padEnd(5, '0');
}
