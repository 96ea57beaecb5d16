// What the admin API exposes of a running cluster: data in, data out; the HTTP plumbing is in admin-api.ts.
import { UserError, errorMessage } from '../core/errors.ts';
import { kindByName } from '../manifests/index.ts';
import type { CaptureInit } from '../mesh/capture/protocol.ts';
import type { AdminRoutes } from './admin-api.ts';
import { sendA2aMessage, toolCallsOf, type A2aProtocol } from '../agents/runtime/a2a-client.ts';
import { describeModelChoice } from './agents.ts';
import { createCapturedFetch } from './captured-fetch.ts';
import { reset, restoreClean, rugpull } from './image-ops.ts';
import { inboxLine } from '../evidence/inbox/index.ts';
import type { Cluster } from './cluster.ts';
import { clusterIncidents } from './incidents.ts';
import type { PodLaunch } from '../runtime/pod-process.ts';
import type { PodTermination } from '../runtime/pod.ts';
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { CHAT_DEFAULTS } from '../scenario.ts';
import { ApproveBody, ChatBody, DocumentsBody, parseBody, RugpullBody, TokenBody, WorkloadBody } from './admin-schemas.ts';
import { join } from 'node:path';
import { DASHBOARD_FILE, readDenyLines } from '../evidence/dashboard/index.ts';
import { dashboardSnapshot } from '../evidence/dashboard/snapshot.ts';
import { attribute, toResourceSpans } from '../evidence/traces/otlp.ts';

const optional = (key: string, value: string | undefined): Record<string, string> => (value === undefined ? {} : { [key]: value });
import { inSpan, ROOT_CONTEXT, SpanKind, SpanStatusCode, traceHeaders } from '../core/tracing.ts';

type EphemeralIdentity = Awaited<ReturnType<Cluster['engine']['ephemeralWorkload']>>;

/** What `exec` needs to start a command inside a pod's sandbox (see podCommand). */
export type ExecSandbox = Pick<PodLaunch, 'readPaths' | 'volumeDir' | 'socketDir' | 'allowAddons' | 'shimFile' | 'isolation'>;

export interface PodStatus {
  namespace: string;
  name: string;
  workload: string;
  identity: string;
  ip: string;
  image: string;
  digest: string;
  phase: string;
  ready: boolean;
  restarts: number;
  lastExit?: string;
  /** Why the process last ended: exit code or signal, and the last lines of its stderr. */
  lastTermination?: PodTermination;
  /** While in CrashLoopBackOff: when the next start is due. */
  nextStartAt?: string;
  /** Why the pod's last start was refused (its image's bytes no longer match its digest), while it is. */
  startRefusal?: string;
  pid?: number;
  nativeAddons: boolean;
  policies: string[];
}

export interface StackStatus {
  pid: number;
  startedAt: string;
  dataDir: string;
  pods: PodStatus[];
  services: { namespace: string; name: string; clusterIp: string; ports: number[] }[];
  forwards: Cluster['forwards'];
  /** The built-in proxies: agent gateways and waypoints. */
  gateways: ReturnType<Cluster['waypoints']['describe']>;
  images: Cluster['builds'];
  policies: string[];
  warnings: string[];
  /** The agents' model, e.g. "scripted (offline stand-in, deterministic)". */
  model: string;
  /** How pods are isolated: `kernel` (namespaces) or `shim` (capture shim only, not kernel-enforced), and why. */
  isolation: Cluster['isolation'];
  /** Set when `up` restored the desired state a previous run stored, instead of the initial manifests. */
  restoredState?: Cluster['restoredState'];
}

export function adminRoutes(cluster: Cluster, startedAt: Date): AdminRoutes {
  const { engine } = cluster;
  let lastWarnings: string[] = [];
  const status = (): StackStatus => ({
    pid: process.pid,
    startedAt: startedAt.toISOString(),
    dataDir: cluster.dataDir,
    pods: engine.allPods().map((pod) => ({
      namespace: pod.namespace,
      name: pod.name,
      workload: pod.workload,
      identity: pod.spiffeId,
      ip: pod.ip,
      image: pod.image,
      digest: pod.imageDigest,
      phase: pod.phase,
      ready: pod.ready,
      restarts: pod.restarts,
      ...(pod.lastExit ? { lastExit: pod.lastExit } : {}),
      ...(pod.lastTermination ? { lastTermination: pod.lastTermination } : {}),
      ...(pod.nextStartAt && !pod.ready ? { nextStartAt: pod.nextStartAt.toISOString() } : {}),
      ...(pod.startRefusal ? { startRefusal: pod.startRefusal } : {}),
      ...(pod.pid ? { pid: pod.pid } : {}),
      nativeAddons: pod.template.launch.allowAddons,
      policies: engine.authz.policiesFor({ namespace: pod.namespace, labels: pod.labels }),
    })),
    services: engine.allServices().map((s) => ({ namespace: s.namespace, name: s.name, clusterIp: s.clusterIp, ports: s.ports.map((p) => p.port) })),
    forwards: cluster.forwards,
    gateways: cluster.waypoints.describe(),
    images: cluster.builds,
    policies: engine.list('AuthorizationPolicy').map(({ resource }) => `${resource.metadata.namespace}/${resource.metadata.name}`),
    warnings: lastWarnings,
    model: describeModelChoice(cluster.model),
    isolation: cluster.isolation,
    ...(cluster.restoredState ? { restoredState: cluster.restoredState } : {}),
  });

  return {
    'GET /status': () => status(),
    'POST /apply': async (body) => {
      const result = await cluster.engine.apply(parseBody(DocumentsBody, body).documents);
      lastWarnings = result.warnings;
      return result;
    },
    'POST /delete': async (body) => cluster.engine.delete(parseBody(DocumentsBody, body).documents),
    'GET /resources': (_body, query) => {
      const kindName = query.get('kind') ?? '';
      const kind = kindByName(kindName);
      if (!kind) throw new UserError(`unknown resource kind "${kindName}"`);
      const namespace = query.get('namespace') ?? undefined;
      const name = query.get('name') ?? undefined;
      const items = engine.list(kind, namespace).filter(({ resource }) => name === undefined || resource.metadata.name === name);
      if (name !== undefined && items.length === 0) throw new UserError(`${kind} "${name}" not found${namespace ? ` in namespace ${namespace}` : ''}`);
      return { kind, items: items.map(({ resource }) => resource) };
    },
    'POST /exec': (body) => {
      const { namespace, workload } = parseBody(WorkloadBody, body);
      const grant = engine.execToken(namespace, workload);
      if (!grant) throw new UserError(`no pod of ${workload} in namespace ${namespace}`);
      // The command joins the pod as kubectl exec does: the pod's capture socket, file view and sandbox.
      const { launch } = grant.pod.template;
      const init: CaptureInit = { type: 'tub/capture-init', token: grant.token, ztunnel: launch.capture.ztunnel, listenDir: launch.socketDir, namespace, dns: engine.dnsRecords() };
      const sandbox: ExecSandbox = { readPaths: launch.readPaths, volumeDir: launch.volumeDir, socketDir: launch.socketDir, allowAddons: launch.allowAddons, shimFile: launch.shimFile, isolation: launch.isolation };
      return { init, sandbox, pod: grant.pod.name, identity: grant.pod.spiffeId };
    },
    'POST /exec/release': (body) => {
      engine.releaseExecToken(parseBody(TokenBody, body).token);
      return {};
    },
    'POST /restart': async (body) => {
      const { namespace, workload } = parseBody(WorkloadBody, body);
      if (engine.podsOf(namespace, workload).length === 0) throw new UserError(`no pod of ${workload} in namespace ${namespace}`);
      const deleted = await engine.deletePods(namespace, workload);
      return { deleted, pods: engine.podsOf(namespace, workload).map((pod) => pod.name) };
    },
    'GET /metrics': async () => ({ text: await cluster.metrics.metrics() }),
    'GET /images': (): ImageListing => ({
      images: cluster.images.list().map(({ ref, digest }) => {
        const variant = cluster.builds.find((b) => b.digest === digest)?.variant;
        return { ref, digest, ...(variant ? { variant } : {}), signers: cluster.supplyChain.signersOf(digest) };
      }),
    }),
    'POST /images/rugpull': (body) => {
      return rugpull(cluster, parseBody(RugpullBody, body).variant);
    },
    'POST /images/restore': () => restoreClean(cluster),
    'POST /reset': () => reset(cluster),
    'GET /registry/entries': () => ({ entries: cluster.registry.view() }),
    'GET /registry/entries/*': (_body, query) => {
      const name = query.get('rest') ?? '';
      const entry = cluster.registry.view().find((e) => e.entry.name === name);
      if (!entry) throw new UserError(`no registry entry "${name}" (see \`trustusbank registry list\`)`);
      return entry;
    },
    'GET /events': () => ({ events: cluster.supplyChain.events() }),
    // `trustusbank alerts`: the rules the embedded Prometheus runs and the alerts pending or firing now.
    'GET /alerts': () => ({
      prometheus: cluster.forwards.find((f) => f.service === 'prometheus')?.url,
      rules: cluster.evidence.monitor.ruleGroups().flatMap(({ runner }) =>
        runner.group.rules.filter((r) => r.kind === 'alert').map((r) => ({ group: runner.group.name, name: r.name, expr: r.exprText, for: r.forMs / 1000, labels: r.labels })),
      ),
      alerts: cluster.evidence.monitor.alerts().map((a) => ({ name: a.rule, state: a.state, labels: a.labels, annotations: a.annotations, activeAt: new Date(a.activeAt).toISOString(), value: a.value })),
      evaluatedThrough: ((t) => (t === undefined ? null : new Date(t).toISOString()))(cluster.evidence.monitor.evaluatedThrough()),
    }),
    // `trustusbank incidents`: derived from the ledger, the register and the metric store, newest first.
    'GET /incidents': () => ({ incidents: clusterIncidents(cluster).reverse() }),
    // `trustusbank evidence export`: what the stack can say now, beside the ledger: the dashboard's data, the deny
    // log lines, the incidents and the traces they cite.
    'GET /evidence/snapshot': () => evidenceSnapshot(cluster),
    // The refusals a trace records (the demo's receipt that the deny sits in the customer's trace).
    'GET /traces/*': (_body, query) => {
      const match = /^([0-9a-f]{32})\/denies$/.exec(query.get('rest') ?? '');
      if (!match) throw new UserError('expected /traces/<32 hex digits>/denies');
      cluster.traces.flush();
      const spans = cluster.traces.collector.store.trace(match[1]!) ?? [];
      const denies = spans
        .filter((s) => attribute(s.attributes, 'trustusbank.decision') === 'deny')
        .map((s) => ({ service: attribute(s.resource, 'service.name') ?? '?', layer: attribute(s.attributes, 'trustusbank.layer') ?? '?', ...optional('source', attribute(s.attributes, 'src.identity')), ...optional('destination', attribute(s.attributes, 'dst.identity')), ...optional('policy', attribute(s.attributes, 'trustusbank.policy')) }));
      return { traceId: match[1], spans: spans.length, denies };
    },
    // `trustusbank mail`: the SOC inbox, newest first.
    'GET /mail': () => ({ inbox: cluster.evidence.inbox.url, messages: cluster.evidence.inbox.messages().map((m) => ({ ...inboxLine(m), text: m.decoded.text ?? '' })) }),
    // `trustusbank chat`: one A2A message to an agent, sent through the mesh as a service account's workload.
    'POST /chat': async (body) => chat(cluster, parseChatRequest(parseBody(ChatBody, body))),
    // Tool pinning: what each agent gateway pinned, what drifted since, and the operator's re-approval.
    'GET /gateway/tools': (_body, query) => {
      const server = query.get('server') ?? undefined;
      return {
        gateways: cluster.waypoints.agentGateways().map((gateway) => ({
          gateway: gateway.key,
          servers: gateway.pins.status(server),
          pins: gateway.pins.pins(server).map(({ definition: _definition, ...pin }) => pin),
          events: gateway.pins.events({ ...(server ? { server } : {}), limit: 100 }),
        })),
      };
    },
    'POST /gateway/approve': (body) => {
      const { server, tools, by: approver } = parseBody(ApproveBody, body);
      const by = approver ?? 'operator';
      const gateways = cluster.waypoints.agentGateways().filter((g) => g.pins.status().some((r) => r.server === server));
      if (gateways.length === 0) throw new UserError(`no agent gateway has seen the MCP server "${server}" (see \`trustusbank gateway tools\`)`);
      const approved = gateways.map((gateway) => {
        try {
          const pins = gateway.pins.approve(server, { ...(tools ? { tools: tools as string[] } : {}), by });
          return { gateway: gateway.key, pinned: pins.map((p) => ({ tool: p.tool, fingerprint: p.fingerprint })) };
        } catch (error) {
          throw new UserError(errorMessage(error));
        }
      });
      return { server, approved };
    },
  };
}

export interface ImageListing {
  images: { ref: string; digest: string; variant?: string; signers: { signer: string; keyId: string }[] }[];
}

export interface ChatRequest {
  prompt: string;
  agent: string;
  namespace: string;
  as: { namespace: string; serviceAccount: string };
  protocol: A2aProtocol;
  contextId?: string;
}

export interface ChatAnswer {
  reply: string;
  author: string;
  model: string;
  tools: ReturnType<typeof toolCallsOf>;
  state: string;
  status: number;
  contextId: string;
  taskId: string;
  caller: string;
  failed: boolean;
  /** The trace of this exchange, from `chat` through the agents, the gateway and the mesh (GET /api/traces/<id> on 18003). */
  traceId: string;
}

const CHAT_TIMEOUT_MS = 180_000;

function parseChatRequest(body: z.output<typeof ChatBody>): ChatRequest {
  const as = body.as || CHAT_DEFAULTS.as;
  const slash = as.indexOf('/');
  return {
    prompt: body.prompt,
    agent: body.agent || CHAT_DEFAULTS.agent,
    namespace: body.namespace || CHAT_DEFAULTS.namespace,
    as: { namespace: as.slice(0, slash), serviceAccount: as.slice(slash + 1) },
    protocol: body.protocol ?? '0.3',
    ...(body.contextId ? { contextId: body.contextId } : {}),
  };
}

async function chat(cluster: Cluster, request: ChatRequest): Promise<ChatAnswer> {
  const { engine } = cluster;
  if (!engine.list('Agent', request.namespace).some(({ resource }) => resource.metadata.name === request.agent)) {
    throw new UserError(`Agent "${request.agent}" not found in namespace ${request.namespace} (see \`trustusbank get agents -A\`)`);
  }
  const identity = await engine.ephemeralWorkload(request.as.namespace, request.as.serviceAccount, 'trustusbank-chat');
  // The customer's question starts the trace, as the chatbot's page starts it for a browser.
  const attributes = { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': request.agent, 'src.identity': identity.workload.spiffeId, 'dst.service': `${request.agent}.${request.namespace}.svc.cluster.local` };
  return inSpan('trustusbank-chat', `chat ${request.agent}`, { kind: SpanKind.CLIENT, attributes, parent: ROOT_CONTEXT }, async (span) => {
    try {
      const answer = await chatAs(cluster, request, identity);
      if (answer.failed) span.setStatus({ code: SpanStatusCode.ERROR, message: `${answer.state} (HTTP ${answer.status})` });
      return { ...answer, traceId: span.spanContext().traceId };
    } finally {
      identity.release();
    }
  });
}

async function chatAs(cluster: Cluster, request: ChatRequest, identity: EphemeralIdentity): Promise<Omit<ChatAnswer, 'traceId'>> {
  const { engine } = cluster;
  {
    const reply = await sendA2aMessage(`http://${request.agent}.${request.namespace}.svc.cluster.local:8080/`, request.prompt, {
      protocol: request.protocol,
      ...(request.contextId ? { contextId: request.contextId } : {}),
      fetch: createCapturedFetch(() => engine.captureEndpoint(), identity.token),
      headers: traceHeaders(),
      signal: AbortSignal.timeout(CHAT_TIMEOUT_MS),
    }).catch((error: Error & { code?: string }) => {
      // A connection the mesh refused (an L4 deny) fails to connect, as it would for the chatbot.
      throw new UserError(`could not reach ${request.agent}.${request.namespace} as ${identity.workload.spiffeId}: ${error.message}`);
    });
    return {
      reply: reply.text,
      author: reply.author,
      model: reply.model,
      tools: toolCallsOf(reply.chain),
      state: reply.state,
      status: reply.status,
      contextId: reply.contextId,
      taskId: reply.taskId,
      caller: identity.workload.spiffeId,
      failed: reply.failed,
    };
  }
}

async function evidenceSnapshot(cluster: Cluster): Promise<Record<string, unknown>> {
  const prometheus = cluster.forwards.find((f) => f.service === 'prometheus')!.url;
  const get = async (path: string, params: Record<string, string>): Promise<unknown> => (await fetch(new URL(`${path.slice(1)}?${new URLSearchParams(params)}`, prometheus))).json();
  const incidents = clusterIncidents(cluster).reverse();
  cluster.traces.flush();
  const traces: Record<string, unknown> = {};
  for (const id of new Set(incidents.flatMap((i) => i.links.traceIds))) {
    const spans = cluster.traces.collector.store.trace(id);
    if (spans) traces[id] = { batches: toResourceSpans(spans) };
  }
  return {
    dashboard: await dashboardSnapshot(JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')), get),
    'deny-log': { lines: readDenyLines(join(cluster.dataDir, 'logs'), { sinceMs: 0, limit: 1000 }) },
    incidents: { incidents },
    traces,
  };
}

