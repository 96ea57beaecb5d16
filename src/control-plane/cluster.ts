// One embedded cluster on this machine: images built and tagged, a CA, the node's ztunnel with its HBONE
// listener, the control plane, the base manifests applied and every pod ready, the host port forwards.
// `trustusbank up` runs this in its own process; tests start it in-process.
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { build, stop as stopEsbuild } from 'esbuild';
import type { Registry } from 'prom-client';
import { WORKLOADS, entryPath } from '../../apps/catalog.ts';
import { ensureDir, ensurePrivateDir } from '../core/data-dir.ts';
import { UserError } from '../core/errors.ts';
import { listen } from '../core/http.ts';
import { createMetricsRegistry } from '../core/metrics.ts';
import { LEDGER_DIR, Ledger } from '../evidence/ledger/ledger.ts';
import { securityEventOf } from '../evidence/ledger/events.ts';
import { cachedFor, clusterIncidents, incidentRecorder, registerIncidentMetrics } from './incidents.ts';
import type { Incident } from '../evidence/incidents/derive.ts';
import { PROMETHEUS_PORT, createPrometheusApi, type PrometheusApi } from '../evidence/prometheus-api.ts';
import { createLogger, type Logger } from '../core/log.ts';
import { createGuardedServer } from '../core/request-guard.ts';
import { CertificateAuthority } from '../mesh/ca/authority.ts';
import { CaStoreError } from '../mesh/ca/ca-store.ts';
import { SvidRotator } from '../mesh/ca/rotator.ts';
import { createHboneTransport, type HboneTransport } from '../mesh/ztunnel/hbone-transport.ts';
import { ConnectionManager } from '../mesh/inbound/connection-manager.ts';
import { ZtunnelTelemetry } from '../mesh/ztunnel/telemetry.ts';
import { Ztunnel } from '../mesh/ztunnel/ztunnel.ts';
import { ImageStore, PROJECT_ROOT } from '../runtime/images.ts';
import { POD_CURL_FILE } from '../runtime/stack-state.ts';
import { detectIsolation, type Isolation } from '../runtime/sandbox.ts';
import { createAgentsUi } from '../agents/ui/server.ts';
import { SESSIONS_FILE } from '../agents/runtime/config.ts';
import { MANAGED_BY_LABEL, createAgentsController, type ModelChoice } from './agents.ts';
import { Engine, deploymentReferences } from './engine.ts';
import { AuthorizationPolicyEngine } from '../mesh/authz/index.ts';
import { DataPlaneState } from '../mesh/ztunnel/data-plane.ts';
import { PolicyController } from './controllers/policies.ts';
import { ServiceController } from './controllers/services.ts';
import { RuleController } from './controllers/rules.ts';
import { AdmissionController } from './controllers/admission.ts';
import { EgressController } from './controllers/egress.ts';
import { ResourceStore } from './store.ts';
import { ALERTMANAGER_PORT, INBOX_PORT, SMTP_PORT, startEvidence, type Evidence } from './evidence.ts';
import { DASHBOARD_PORT, startDashboard } from '../evidence/dashboard/index.ts';
import { TRACES_PORT } from '../evidence/traces/collector.ts';
import { startClusterTraces, type ClusterTraces } from './traces.ts';
import { DESIRED_STATE_FILE, sqliteDesiredState } from './desired-state.ts';
import type { RestartBackoff } from '../runtime/pod.ts';
import { meshConfigController } from './mesh-config.ts';
import { SupplyChain } from './supply-chain.ts';
import { registerImageMetrics } from './image-metrics.ts';
import { loadCatalogue, type Catalogue } from '../registry/catalogue.ts';
import { registryView, type Observed, type RegistryEntryView } from '../registry/drift.ts';
import { createRegistryServer } from '../registry/server.ts';
import { observeRegistry, recordOnboarding } from './registry-observer.ts';
import { HOST_PORT_ANNOTATION, forwardHostPort, type HostForward } from './host-port.ts';
import { WaypointDirectory } from './waypoints.ts';
import { startListeningPost, type ListeningPost } from '../../apps/mock-attacker/listening-post.ts';
import { DEFAULT_MANIFESTS } from '../scenario.ts';
import { readManifestDocuments } from '../manifests/load.ts';

export { HOST_PORT_ANNOTATION, type HostForward };
export { DEFAULT_MANIFESTS };
/** Applied on demand (`policies on`), not by `up`. */
const ON_DEMAND_DIR = 'policies';

export interface ClusterOptions {
  dataDir: string;
  manifestsDir?: string;
  /** Host port overrides by `namespace/service` (0 picks a free port). */
  hostPorts?: Record<string, number>;
  /** How the user moves a host port, by `namespace/service`, for the "port in use" error. */
  hostPortFlags?: Record<string, string>;
  readyTimeoutMs?: number;
  /** Pods' restart backoff (default: 1 s doubling to 30 s, reset after 10 minutes ready). */
  restartBackoff?: RestartBackoff;
  /** Log to stdout as well as to the log files (for `up` in the foreground with --verbose). */
  logWrite?: (line: string) => void;
  /** The agents' model (default: the offline scripted model). */
  model?: ModelChoice;
  /** Host port of the agents UI (default 18007; 0 picks a free one). */
  agentsUiPort?: number;
  /** Host port of the registry (default 18006; 0 picks a free one). */
  registryPort?: number;
  /** Host ports of the Alertmanager API (default 18013), the SOC inbox's page and MailHog API (18012) and its
   *  SMTP server (1025); 0 picks a free one. */
  alertmanagerPort?: number;
  inboxPort?: number;
  smtpPort?: number;
  /** Scrape and rule evaluation intervals of the embedded Prometheus (default 2 s each). */
  scrapeIntervalMs?: number;
  evaluationIntervalMs?: number;
  /** Host port of the Prometheus-compatible API, /metrics (default 18002; 0 picks a free one). */
  metricsPort?: number;
  /** Host port of the DORA evidence dashboard (default 18001; 0 picks a free one). */
  dashboardPort?: number;
  /** Host port of the trace collector's Tempo API and OTLP/HTTP receiver (default 18003; 0 picks a free one). */
  tracesPort?: number;
}

export interface ImageBuild {
  image: string;
  variant: string;
  digest: string;
}

export interface Cluster {
  engine: Engine;
  ztunnel: Ztunnel;
  waypoints: WaypointDirectory;
  /** The open tunnels of every HBONE server, judged again on each policy change. */
  connections: ConnectionManager;
  images: ImageStore;
  builds: ImageBuild[];
  metrics: Registry;
  /** The listener on the Prometheus-compatible host port: /metrics today; modules add their routes to it. */
  prometheusApi: PrometheusApi;
  /** Metrics scraped and stored, alert rules, the Alertmanager and the SOC inbox. */
  evidence: Evidence;
  /** The trace collector (host port 18003) and the node's and pods' spans into it. */
  traces: ClusterTraces;
  ca: CertificateAuthority;
  forwards: HostForward[];
  dataDir: string;
  /** The agents' model, as chosen at start. */
  model: ModelChoice;
  /** How pods are isolated: by the kernel (namespaces), or by the capture shim alone. */
  isolation: Isolation;
  /** Image signatures and admission. */
  supplyChain: SupplyChain;
  /** The registry's catalogue and its view of what runs (onboarded against current, drift). */
  registry: { catalogue: Catalogue; view(): RegistryEntryView[] };
  log: Logger;
  /** The attacker's UDP and DNS listeners outside the cluster (where the udp and dns rug-pull variants send). */
  listeningPost: ListeningPost;
  /** The tamper-evident ledger of security events (`<data dir>/state/ledger`). */
  ledger: Ledger;
  /** The desired state a previous run left, when `up` restored it instead of applying the initial manifests. */
  restoredState?: { location: string; resources: number };
  /** The manifests `up` applies to a fresh cluster (and `reset` returns to). */
  initialDocuments(): { file: string; text: string }[];
  /** Documents of every YAML file under a path, for apply/delete. */
  readDocuments(path: string): { file: string; text: string }[];
  close(): Promise<void>;
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const dataDir = ensurePrivateDir(options.dataDir);
  const logDir = ensureDir(join(dataDir, 'logs'));
  // The ledger hears every component's log lines and keeps the security events among them (signed, chained).
  const ledger = new Ledger({ dir: join(dataDir, 'state', LEDGER_DIR), onError: (error) => process.stderr.write(`ledger: ${error.message}\n`) });
  const fileLogger = (component: string, file: string): Logger => {
    const stream = createWriteStream(join(logDir, file), { flags: 'a' });
    return createLogger(component, {
      write: (line) => {
        stream.write(line + '\n');
        const event = securityEventOf(line);
        if (event) ledger.append(event.kind, event.subject, event.data, new Date(event.time));
        options.logWrite?.(line);
      },
    });
  };
  const log = fileLogger('control-plane', 'control-plane.log');
  const ztunnelLog = fileLogger('ztunnel', 'ztunnel.log');
  const isolation = detectIsolation();
  log.info('pod isolation', { mode: isolation.mode, reason: isolation.reason });
  // Pods' sockets: a short private directory (Unix socket paths are limited to about 100 bytes), gone with us.
  const runtimeDir = mkdtempSync(join(tmpdir(), 'tub-'));

  const images = new ImageStore(join(dataDir, 'images'), log);
  const builds = await buildImages(images);
  const shimFile = await bundleShim(dataDir);
  // esbuild keeps a service process alive for further builds; there are none until the next `up`.
  void stopEsbuild();

  const ca = await CertificateAuthority.open({ directory: join(dataDir, 'ca') }).catch((error: unknown) => {
    rmSync(runtimeDir, { recursive: true, force: true });
    ledger.close();
    if (!(error instanceof CaStoreError)) throw error;
    // Every SVID is issued afresh at start, so a new CA costs nothing but the old root's trust.
    throw new UserError(`the mesh CA cannot be loaded: ${error.message}. Restore the file from a backup, or empty ${join(dataDir, 'ca')} to make a new CA`);
  });
  const rotator = new SvidRotator(ca);
  // The cluster's own endpoint (ztunnel, waypoints, agent gateways, admission) with the `up` process's metrics.
  const metrics = createMetricsRegistry({ processMetrics: true });
  const telemetry = new ZtunnelTelemetry(metrics, ztunnelLog);
  const prometheusApi = createPrometheusApi({ metrics });

  // ztunnel and its HBONE transport need each other; the transport is created once ztunnel exists.
  const hbone: { transport?: HboneTransport } = {};
  const model = options.model ?? { mode: 'scripted' };
  const defaultVariant = (image: string): string | undefined => WORKLOADS.find((w) => w.image === image)?.defaultVariant;
  const supplyChain: SupplyChain = new SupplyChain({
    dataDir,
    images,
    builds,
    defaultVariant,
    metrics,
    log,
    policies: () => admission.policies(),
  });
  supplyChain.signBuilds();
  const catalogue = loadCatalogue();
  const onboarded = recordOnboarding(dataDir, catalogue, (image) => builds.find((b) => b.image === image && b.variant === defaultVariant(image))?.digest);
  const observeNow = (): Observed => observeRegistry({ engine, waypoints }, catalogue, onboarded);
  const registry = { catalogue, view: () => registryView(catalogue, observeNow()) };
  registerImageMetrics(metrics, {
    pods: () => engine.allPods().filter((p) => p.phase === 'Running').map((p) => ({ namespace: p.namespace, workload: p.workload, image: p.template.image, digest: p.imageDigest, startedAt: p.startedAt })),
    signersOf: (digest) => supplyChain.signersOf(digest),
    registry: () => registry.view(),
  });
  // The control plane: the store, and the controllers that watch it, each owning what it derives.
  const desiredState = sqliteDesiredState(join(dataDir, 'state', DESIRED_STATE_FILE));
  const store = new ResourceStore({
    log,
    persist: desiredState,
    controllers: [createAgentsController(model), meshConfigController],
    checks: [deploymentReferences(images)],
  });
  // The data plane's state, pushed by the controllers: policies into `authz`, Services and workloads into
  // `dataPlane`. ztunnel, the waypoints and the gateways decide with it and nothing else.
  const authz = new AuthorizationPolicyEngine();
  const dataPlane = new DataPlaneState(authz);
  const policies = new PolicyController(store, authz);
  const services = new ServiceController(store, dataPlane);
  const admission = new AdmissionController(store);
  // Lives as long as the store's watch on it.
  new EgressController(store, dataPlane);
  const evidenceLog = fileLogger('evidence', 'evidence.log');
  const rules = new RuleController(store, evidenceLog);
  const engine: Engine = new Engine({
    store,
    services,
    policies,
    dataPlane,
    dataDir,
    images,
    rotator,
    shimFile,
    log,
    capture: {
      attach: (uid, path) => ztunnel.attachPod(uid, path),
      detach: (path) => ztunnel.detachPod(path),
      nodeSocket: () => ({ path: join(runtimeDir, 'ztunnel.sock') }),
    },
    runtimeDir,
    isolation: isolation.mode,
    admit: (template) => supplyChain.admit(template),
    onSpans: (pod, body) => traces?.fromPod(pod, body),
    verifyStart: (template) => supplyChain.verifyStart(template),
    ...(options.restartBackoff ? { restartBackoff: options.restartBackoff } : {}),
  });
  // Every HBONE server's open tunnels (the node's inbound listener, the gateways', the waypoints'), judged
  // again on each policy change.
  const connections = new ConnectionManager();
  const waypoints = new WaypointDirectory({
    engine,
    view: dataPlane,
    rotator,
    telemetry,
    connections,
    trustBundlePem: ca.trustBundlePem(),
    log: fileLogger('waypoint', 'waypoint.log'),
    metrics,
    gatewayDataDir: join(dataDir, 'gateways'),
    gatewayLog: fileLogger('agentgateway', 'agentgateway.log'),
    ...(options.hostPorts ? { hostPorts: options.hostPorts } : {}),
    ...(options.hostPortFlags ? { hostPortFlags: options.hostPortFlags } : {}),
    open: (source, destination, authority) =>
      hbone.transport!.open({ source, destination, server: hbone.transport!.inboundEndpoint(), authority, headers: { forwarded: `for=${source.ip}` } }),
  });
  const ztunnel = new Ztunnel({
    waypoints,
    view: dataPlane,
    telemetry,
    log: ztunnelLog,
    dialer: { open: (request) => hbone.transport!.open(request), close: async () => undefined },
    inbound: () => hbone.transport!.inboundEndpoint(),
    nodeSocket: join(runtimeDir, 'ztunnel.sock'),
    egress: ({ source, host, port }) => dataPlane.egress({ sourceNamespace: source.namespace, host, port }),
  });
  hbone.transport = await createHboneTransport({ ca, rotator, view: dataPlane, ztunnel, log: ztunnelLog, connections });
  // A policy change applies to connections already open too, as ztunnel's connection manager does it: at once
  // when the policies are pushed, and again after each reconciliation (a pod gone changes who holds an identity).
  policies.onPush(() => connections.revokeDenied());
  engine.onChange(() => connections.revokeDenied());
  // The gateways and waypoints controller follows what it reads, all in the store (Gateways, routes, backends,
  // policies, Services, Namespaces), not every pod's readiness. A failed pass is logged by the directory; the
  // next change, or `up`'s own sync, tries again.
  store.watch(() => void waypoints.sync().catch(() => undefined));
  await ztunnel.start();

  const forwards: HostForward[] = [];
  const servers: Server[] = [];
  let restoredState: Cluster['restoredState'];
  // Not a pod: the attacker's machine on the internet, which here is the host's loopback.
  const listeningPost = await startListeningPost({ metrics, log: fileLogger('listening-post', 'listening-post.log') });
  let evidence: Evidence | undefined;
  let traces: ClusterTraces | undefined;
  const close = async (): Promise<void> => {
    await evidence?.close();
    await traces?.close();
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    await listeningPost.close();
    await engine.shutdown();
    await waypoints.close();
    await ztunnel.close();
    await hbone.transport?.close();
    rotator.stop();
    ledger.close();
    rmSync(runtimeDir, { recursive: true, force: true });
  };

  try {
    // Before any pod starts, so that no span of theirs is lost; a port in use fails start-up here.
    traces = await startClusterTraces({ port: options.tracesPort ?? TRACES_PORT, portHint: '--traces-port N', metrics, log: fileLogger('evidence', 'traces.log') });
    // What the last run stored wins over the initial manifests: a restart must not drop a policy.
    const restored = await engine.restore();
    if (restored) {
      restoredState = { location: desiredState.location, resources: restored.changes.length };
      log.info('desired state restored', restoredState);
    } else await engine.apply(initialDocuments(options.manifestsDir));
    // Host ports first, pods' readiness last: a port in use fails start-up at once, naming the port and the
    // flag that moves it, instead of after the pods' start. Gateways start on the change the apply made.
    await waypoints.sync();
    for (const [key, url] of waypoints.hostUrls) {
      const [namespace, name] = key.split('/') as [string, string];
      forwards.push({ namespace, service: name, port: Number(new URL(url).port), url });
    }
    // One at a time, each kept as soon as it listens, so that a later failure closes the earlier ones too.
    for (const start of [
      () => serveOnHost('agents-ui', createAgentsUi({ sources: () => agentSessionFiles(engine, dataDir) }), options.agentsUiPort ?? AGENTS_UI_PORT, '--agents-ui-port N'),
      () => serveOnHost('registry', createRegistryServer({ catalogue: () => catalogue, observe: observeNow }), options.registryPort ?? REGISTRY_PORT, '--registry-port N'),
      () => serveOnHost('prometheus', prometheusApi, options.metricsPort ?? PROMETHEUS_PORT, '--metrics-port N'),
    ]) {
      const ui = await start();
      servers.push(ui.server);
      forwards.push(ui.forward);
    }
    const prometheusUrl = forwards.find((f) => f.service === 'prometheus')!.url.replace(/\/$/, '');
    // Derived from the whole ledger: at most once every 2 s for the pages and the scrape, however many ask.
    const incidentsCached = cachedFor(2_000, () => clusterIncidents({ ledger, registry, evidence: evidence! }).reverse());
    const incidentsNow = (): Incident[] => (evidence ? incidentsCached() : []);
    registerIncidentMetrics(metrics, incidentsNow);
    const recordIncidents = incidentRecorder(
      () => (evidence ? clusterIncidents({ ledger, registry, evidence }) : []),
      (kind, subject, data) => ledger.append(kind, subject, data),
    );
    evidence = await startEvidence({
      engine,
      rules,
      nodeMetrics: metrics,
      prometheusApi,
      prometheusUrl: () => prometheusUrl,
      manifestsDir: options.manifestsDir ?? DEFAULT_MANIFESTS,
      alertmanagerPort: options.alertmanagerPort ?? ALERTMANAGER_PORT,
      inboxPort: options.inboxPort ?? INBOX_PORT,
      smtpPort: options.smtpPort ?? SMTP_PORT,
      log: evidenceLog,
      record: (kind, subject, data) => {
        ledger.append(kind, subject, data);
        // Once the alert is written (the next turn), the incidents it opens or grows are ledgered too.
        if (kind === 'alert.firing') setImmediate(recordIncidents);
      },
      ...(options.scrapeIntervalMs !== undefined ? { scrapeIntervalMs: options.scrapeIntervalMs } : {}),
      ...(options.evaluationIntervalMs !== undefined ? { evaluationIntervalMs: options.evaluationIntervalMs } : {}),
    });
    const dashboard = await startDashboard({
      port: options.dashboardPort ?? DASHBOARD_PORT,
      portHint: '--dashboard-port N',
      prometheusUrl: () => prometheusUrl,
      logsDir: logDir,
      tracesUrl: () => `${traces?.collector.url}/`,
      incidents: () => incidentsNow(),
      ledgerRecord: (seq) => ledger.record(seq),
      inboxUrl: () => (evidence ? `${evidence.inbox.url}/` : undefined),
    });
    servers.push(dashboard.server);
    forwards.push(
      { namespace: 'trustusbank-observability', service: 'evidence-dashboard', port: dashboard.port, url: dashboard.pageUrl },
      { namespace: 'trustusbank-observability', service: 'alertmanager', port: evidence.alertmanager.port, url: `${evidence.alertmanager.url}/` },
      { namespace: 'trustusbank-observability', service: 'soc-inbox', port: evidence.inbox.httpPort, url: `${evidence.inbox.url}/` },
      { namespace: 'trustusbank-observability', service: 'traces', port: Number(new URL(traces.collector.url).port), url: `${traces.collector.url}/` },
    );
    for (const service of engine.list('Service')) {
      const annotation = service.resource.metadata.annotations?.[HOST_PORT_ANNOTATION];
      if (annotation === undefined) continue;
      const key = `${service.resource.metadata.namespace}/${service.resource.metadata.name}`;
      const port = options.hostPorts?.[key] ?? Number(annotation);
      const forward = await forwardHostPort(dataPlane, service.resource.metadata.namespace!, service.resource.metadata.name, port, options.hostPortFlags?.[key]);
      servers.push(forward.server);
      forwards.push(forward.forward);
    }
    await engine.waitReady(options.readyTimeoutMs ?? 30_000, { failFast: true });
  } catch (error) {
    await close();
    throw error;
  }

  return {
    engine,
    ztunnel,
    waypoints,
    connections,
    images,
    builds,
    metrics,
    prometheusApi,
    evidence: evidence!,
    traces: traces!,
    ca,
    forwards,
    dataDir,
    model,
    isolation,
    supplyChain,
    registry,
    listeningPost,
    ledger,
    log,
    readDocuments: (path) => readManifestDocuments(path, []),
    initialDocuments: () => initialDocuments(options.manifestsDir),
    ...(restoredState ? { restoredState } : {}),
    close,
  };
}

/**
 * Build every workload's every variant. A reference points at its default build, unless it already points at
 * another build of this run (a same-tag rug-pull before a restart stays in place, as a registry's tag would).
 */
async function buildImages(images: ImageStore): Promise<ImageBuild[]> {
  const builds: ImageBuild[] = [];
  await Promise.all(
    WORKLOADS.flatMap((workload) =>
      Object.keys(workload.variants).map(async (variant) => {
        const digest = await images.build(entryPath(workload, variant), await workload.imageFiles?.());
        builds.push({ image: workload.image, variant, digest });
      }),
    ),
  );
  for (const workload of WORKLOADS) {
    const current = images.resolve(workload.image);
    if (builds.some((b) => b.image === workload.image && b.digest === current)) continue;
    images.tag(workload.image, builds.find((b) => b.image === workload.image && b.variant === workload.defaultVariant)!.digest);
  }
  return builds.sort((a, b) => `${a.image}${a.variant}`.localeCompare(`${b.image}${b.variant}`));
}

/** The capture shim every pod preloads, and `curl` for commands exec'd into pods: one file each. */
async function bundleShim(dataDir: string): Promise<string> {
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  const bundle = async (source: string, name: string): Promise<string> => {
    const result = await build({ entryPoints: [source], bundle: true, platform: 'node', format: 'esm', target: 'node20', write: false, logLevel: 'silent' });
    const file = join(ensureDir(join(dataDir, 'mesh')), name);
    writeFileSync(file, result.outputFiles[0]!.contents);
    return file;
  };
  const [shim] = await Promise.all([bundle(join(PROJECT_ROOT, 'src', 'mesh', 'capture', `shim.${ext}`), 'capture.mjs'), bundle(join(PROJECT_ROOT, 'src', 'cli', `pod-curl.${ext}`), POD_CURL_FILE)]);
  return shim;
}

/** The initial desired state: every manifest except the on-demand policy layers. */
function initialDocuments(manifestsDir = DEFAULT_MANIFESTS): { file: string; text: string }[] {
  return readManifestDocuments(manifestsDir, [ON_DEMAND_DIR]);
}

export { readManifestDocuments };

export const AGENTS_UI_PORT = 18007;
export const REGISTRY_PORT = 18006;
export { PROMETHEUS_PORT };

/** The registry's page and REST API on the host. */
/** A read-only UI of the `up` process on a host port (the agents UI, the registry), listed with the forwards. */
async function serveOnHost(service: string, app: { handle(req: IncomingMessage, res: ServerResponse): unknown; close(): void }, port: number, portHint: string): Promise<{ server: Server; forward: HostForward }> {
  const server = createGuardedServer({ shape: 'json' }, (req, res) => app.handle(req, res));
  server.on('close', () => app.close());
  const bound = await listen(server, { host: '127.0.0.1', port, portHint });
  return { server: server as unknown as Server, forward: { namespace: 'trustusbank-platform', service, port: bound.port, url: `${bound.url}/` } };
}

/** Every agent's session file, where its pod keeps it. */
function agentSessionFiles(engine: Engine, dataDir: string): { namespace: string; agent: string; file: string }[] {
  return engine
    .list('Deployment')
    .filter(({ resource }) => resource.metadata.labels?.[MANAGED_BY_LABEL] === 'kagent')
    .map(({ resource }) => ({ namespace: resource.metadata.namespace!, agent: resource.metadata.name, file: join(dataDir, 'volumes', resource.metadata.namespace!, resource.metadata.name, SESSIONS_FILE) }));
}
