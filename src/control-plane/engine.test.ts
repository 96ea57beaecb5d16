// The Deployment controller (the engine) with a fake runtime: pods are objects that become ready when the test
// says so, images a map of tags to digests, the CA and ztunnel stand-ins that answer at once. What is under test
// is the controller's own work: pods with identities and addresses from Deployments, rolling updates when the
// digest behind a tag changes, admission refusals that keep the old pod, the mesh view's answers, clean-up.
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/log.ts';
import { AuthorizationPolicyEngine } from '../mesh/authz/index.ts';
import { Pod, type PodTemplate } from '../runtime/pod.ts';
import { tempDir } from '../../testing/workloads.ts';
import { PolicyController } from './controllers/policies.ts';
import { ServiceController } from './controllers/services.ts';
import { Engine, deploymentReferences } from './engine.ts';
import { ResourceStore } from './store.ts';
import { DataPlaneState } from '../mesh/ztunnel/data-plane.ts';

/** A pod of the fake runtime: no process; ready when the test says so, and it tells the engine as a real pod does. */
class FakePod extends Pod {
  constructor(
    template: PodTemplate,
    private readonly changed: () => void,
  ) {
    super(template, silentLogger, () => changed());
  }
  override start(): void {
    this.phase = 'Running';
  }
  override stop(): Promise<void> {
    this.phase = 'Terminated';
    this.ready = false;
    return Promise.resolve();
  }
  becomeReady(): void {
    this.ready = true;
    this.changed();
  }
}

const IMAGE = 'bank/web:1.0.0';
const MANIFESTS = `apiVersion: v1
kind: Namespace
metadata:
  name: bank
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: web
  namespace: bank
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: bank
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: bank
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      serviceAccountName: web
      containers:
      - name: web
        image: ${IMAGE}
        ports:
        - containerPort: 8080`;

const dirs: { remove(): void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

function fakeCluster() {
  const dir = tempDir('tub-engine-');
  dirs.push(dir);
  const refs = new Map<string, string>([[IMAGE, 'sha256:aaaa']]);
  const images = { resolve: (ref: string) => refs.get(ref), entryFile: (d: string) => `/images/${d}/main.mjs`, imageDir: (d: string) => `/images/${d}`, baseLayerDir: () => '/images/base' };
  const refused = new Set<string>();
  const identities: string[] = [];
  const attached: string[] = [];
  const pods: FakePod[] = [];
  const store = new ResourceStore({ log: silentLogger, checks: [deploymentReferences(images)] });
  const authz = new AuthorizationPolicyEngine();
  const dataPlane = new DataPlaneState(authz);
  const engine = new Engine({
    store,
    services: new ServiceController(store, dataPlane),
    policies: new PolicyController(store, authz),
    dataPlane,
    dataDir: dir.path,
    runtimeDir: dir.path,
    images,
    rotator: { ensure: (account) => (identities.push(`${account.namespace}/${account.serviceAccount}`), Promise.resolve(undefined as never)) },
    shimFile: '/shim.mjs',
    log: silentLogger,
    isolation: 'shim',
    capture: {
      attach: (uid, path) => (attached.push(uid), Promise.resolve({ path })),
      detach: () => Promise.resolve(),
      nodeSocket: () => ({ path: '/node.sock' }),
    },
    admit: (template) => {
      if (refused.has(template.imageDigest)) throw new Error(`image ${template.image}@${template.imageDigest} is not signed by the bank`);
    },
    podRuntime: (template, onChange) => {
      const pod = new FakePod(template, onChange);
      pods.push(pod);
      return pod;
    },
  });
  return { engine, dataPlane, refs, refused, identities, attached, pods };
}

describe('Engine: the Deployment controller over a fake runtime', () => {
  it('makes a pod with its identity, address and labels for a Deployment; a Service selects it once ready', async () => {
    const { engine, identities, attached, pods } = fakeCluster();
    await engine.apply([{ file: 'bank.yaml', text: MANIFESTS }]);
    expect(pods).toHaveLength(1);
    const [pod] = pods;
    expect(pod!.spiffeId).toBe('spiffe://cluster.local/ns/bank/sa/web');
    expect(pod!.ip).toMatch(/^10\.244\./);
    expect(pod!.labels).toMatchObject({ app: 'web', 'pod-template-hash': expect.stringMatching(/^[0-9a-f]{10}$/) });
    expect(pod!.template.launch.capture.dns).toEqual({ 'web.bank.svc.cluster.local': expect.stringMatching(/^10\.96\./) });
    expect(identities).toEqual(['bank/web']);
    expect(attached).toEqual([pod!.uid]);
    expect(engine.workloadByToken(pod!.token)).toBe(pod);
    expect(engine.workloadByIp(pod!.ip)).toBe(pod);

    const service = engine.service('web', 'bank')!;
    expect(engine.endpoints(service)).toEqual([]);
    pod!.becomeReady();
    await engine.reconcile();
    expect(engine.endpoints(service)).toEqual([pod]);
    expect(engine.containerPort(service, service.ports[0]!, pod!)).toBe(8080);
    expect(engine.rolloutStatus('bank', 'web')).toMatchObject({ digest: 'sha256:aaaa', complete: true });
  });

  it('rolls a same-tag digest change: the new pod first, the old one removed only once the new one is ready', async () => {
    const { engine, refs, pods } = fakeCluster();
    await engine.apply([{ file: 'bank.yaml', text: MANIFESTS }]);
    const [old] = pods;
    old!.becomeReady();
    await engine.reconcile();

    refs.set(IMAGE, 'sha256:bbbb');
    await engine.reconcile();
    expect(pods).toHaveLength(2);
    const fresh = pods[1]!;
    expect(fresh.imageDigest).toBe('sha256:bbbb');
    expect(fresh.spiffeId).toBe(old!.spiffeId);
    expect(old!.phase).toBe('Running');
    expect(engine.rolloutStatus('bank', 'web').complete).toBe(false);

    fresh.becomeReady();
    await engine.reconcile();
    expect(old!.phase).toBe('Terminated');
    expect(engine.allPods()).toEqual([fresh]);
    expect(engine.workloadByToken(old!.token)).toBeUndefined();
    expect(engine.rolloutStatus('bank', 'web')).toMatchObject({ digest: 'sha256:bbbb', complete: true, pods: [{ name: fresh.name, ready: true }] });
  });

  it('keeps the old pod when admission refuses the new digest, and says why in the rollout status', async () => {
    const { engine, refs, refused, pods } = fakeCluster();
    await engine.apply([{ file: 'bank.yaml', text: MANIFESTS }]);
    pods[0]!.becomeReady();
    await engine.reconcile();

    refused.add('sha256:evil');
    refs.set(IMAGE, 'sha256:evil');
    await engine.reconcile();
    expect(pods).toHaveLength(1);
    expect(pods[0]!.phase).toBe('Running');
    expect(engine.rolloutStatus('bank', 'web')).toMatchObject({ digest: 'sha256:evil', complete: false, refused: { digest: 'sha256:evil', reason: expect.stringMatching(/not signed by the bank/) } });
  });

  it('refuses a Deployment whose image or service account does not exist, and creates nothing', async () => {
    const { engine, pods } = fakeCluster();
    await expect(engine.apply([{ file: 'bank.yaml', text: MANIFESTS.replace(IMAGE, 'bank/missing:1.0.0') }])).rejects.toThrow(/image bank\/missing:1\.0\.0 is not in the local image store/);
    await expect(engine.apply([{ file: 'bank.yaml', text: MANIFESTS.replace('serviceAccountName: web', 'serviceAccountName: nobody') }])).rejects.toThrow(/service account "nobody" does not exist/);
    expect(pods).toEqual([]);
    expect(engine.list()).toEqual([]);
  });

  it('pushes each pod, its token and its exec tokens to the data plane, and takes them all back when the Deployment is deleted', async () => {
    const { engine, dataPlane, pods } = fakeCluster();
    await engine.apply([{ file: 'bank.yaml', text: MANIFESTS }]);
    const [pod] = pods;
    const exec = engine.execToken('bank', 'web')!;
    expect(dataPlane.workloadByToken(pod!.token)).toBe(pod);
    expect(dataPlane.workloadByToken(exec.token)).toBe(pod);
    expect(dataPlane.service('web', 'bank')).toMatchObject({ selector: { app: 'web' } });
    await engine.delete([{ file: 'bank.yaml', text: MANIFESTS.split('---').at(-1)! }]);
    expect(pod!.phase).toBe('Terminated');
    expect(engine.allPods()).toEqual([]);
    expect(engine.workloadByToken(pod!.token)).toBeUndefined();
    expect(engine.workloadByIp(pod!.ip)).toBeUndefined();
    expect(dataPlane.workloadByToken(exec.token)).toBeUndefined();
  });
});
