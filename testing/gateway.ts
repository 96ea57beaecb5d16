// Test helpers for the agent gateway in-process: the gateway built from YAML, upstream services mapped to
// loopback workloads, and callers with a mesh identity (a listener whose connections the test hands to the
// gateway as the mesh would, with a proven SPIFFE id; support-bot's unless said otherwise) or without one (the
// host listener).
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { AgentGateway, type AgentGatewayOptions, type CallerIdentity } from '../src/gateway/gateway.ts';
import { createHttpFetch } from '../src/core/http-fetch.ts';
import type { GatewayInputs, GatewayPolicy, ServiceFacts } from '../src/gateway/config.ts';
import { closeServer, listen } from '../src/core/http.ts';
import { createLogger, type Logger } from '../src/core/log.ts';
import { createMetricsRegistry } from '../src/core/metrics.ts';
import { parseManifests } from '../src/manifests/index.ts';
import type { AgentgatewayBackend, Gateway, HTTPRoute, ReferenceGrant, Service } from '../src/manifests/types.ts';
import { tempDir } from './workloads.ts';

export const GATEWAY_YAML = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: trustusbank-agentgw, namespace: trustusbank-platform }
spec:
  gatewayClassName: enterprise-agentgateway-waypoint
  listeners: [{ name: http, port: 8080, protocol: HTTP }]
`;

/** Lets the gateway's HTTPRoutes (in trustusbank-platform) reference Services in `namespace`. */
export function referenceGrantYaml(namespace: string): string {
  return `
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: { name: from-gateway-routes, namespace: ${namespace} }
spec:
  from: [{ group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: trustusbank-platform }]
  to: [{ group: '', kind: Service }]
`;
}

/** A Service document for an upstream, MCP unless said otherwise. */
export function serviceYaml(name: string, namespace: string, appProtocol = 'agentgateway.dev/mcp'): string {
  return `
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  selector: { app: ${name} }
  ports: [{ name: http, port: 8080, targetPort: 8080, appProtocol: ${appProtocol} }]
`;
}

export function routeYaml(name: string, path: string, backend: { service?: string; namespace?: string; agentgatewayBackend?: string }): string {
  const ref = backend.agentgatewayBackend
    ? `{ group: agentgateway.dev, kind: AgentgatewayBackend, name: ${backend.agentgatewayBackend} }`
    : `{ name: ${backend.service}, namespace: ${backend.namespace}, port: 8080 }`;
  return `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: trustusbank-platform }
spec:
  parentRefs: [{ name: trustusbank-agentgw, kind: Gateway }]
  rules:
    - matches: [{ path: { type: PathPrefix, value: ${path} } }]
      backendRefs: [${ref}]
`;
}

export interface TestGateway {
  gateway: AgentGateway;
  /** Where the gateway keeps its state (pins, spans.jsonl). */
  dataDir: string;
  metrics: Registry;
  logs: Record<string, unknown>[];
  /**
   * A listener whose callers are support-bot (`trustusbank-bank-agents/support-bot`, or `caller`), as if the mesh
   * proved it: the agent gateway serves nothing to anonymous callers.
   */
  url: string;
  /** The host listener: callers without a mesh identity (anonymous unless a JWT policy authenticates them). */
  hostUrl: string;
  /** A listener whose callers have this identity, as if the mesh proved it. */
  as(namespace: string, serviceAccount: string): Promise<string>;
  /** Replace the configuration (all documents, as YAML). */
  configure(yaml: string): string[];
  /** Where an upstream Service name points now (a loopback base URL); change it to swap the bytes behind it. */
  upstreams: Map<string, string>;
  close(): Promise<void>;
}

export async function startTestGateway(options: {
  yaml: string;
  upstreams: Record<string, string>;
  namespaceLabels?: Record<string, Record<string, string>>;
  caller?: { namespace: string; serviceAccount: string };
  /** Bounds and clock for MCP sessions, and span rotation (the gateway's documented defaults otherwise). */
  bounds?: Pick<AgentGatewayOptions, 'mcpSessions' | 'now' | 'spanRotation'>;
}): Promise<TestGateway> {
  const dir = tempDir('tub-gw-');
  const logs: Record<string, unknown>[] = [];
  const log: Logger = createLogger('agentgateway', { write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>), level: 'debug' });
  const metrics = createMetricsRegistry();
  const upstreams = new Map(Object.entries(options.upstreams));
  // Cluster names resolve to the loopback servers standing in for the Services.
  const fetchUpstream = createHttpFetch({
    rewrite: (url) => {
      const base = upstreams.get(url.host) ?? upstreams.get(url.hostname);
      return base ? new URL(`${url.pathname}${url.search}`, base) : url;
    },
  });
  const gateway = new AgentGateway({
    key: 'trustusbank-platform/trustusbank-agentgw',
    log,
    metrics,
    dataDir: dir.path,
    fetch: fetchUpstream,
    namespaceLabels: (namespace) => options.namespaceLabels?.[namespace] ?? {},
    ...options.bounds,
  });
  const configure = (yaml: string): string[] => gateway.configure(inputsFrom(GATEWAY_YAML + '\n---\n' + yaml, async (url) => (await fetchUpstream(url, { method: 'GET', headers: {} })).json()));
  configure(options.yaml);
  const host = await gateway.listenOnHost(0, '127.0.0.1', 'n/a');
  const servers: TcpServer[] = [];
  // Clients keep connections alive; closing must not wait for them to time out.
  const sockets = new Set<Socket>();
  const as = async (namespace: string, serviceAccount: string): Promise<string> => {
    const caller: CallerIdentity = { spiffeId: `spiffe://cluster.local/ns/${namespace}/sa/${serviceAccount}`, trustDomain: 'cluster.local', namespace, serviceAccount };
    const server = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      gateway.accept(socket, caller, '10.244.0.9', { kind: 'Gateway' });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    servers.push(server);
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  };
  const caller = options.caller ?? { namespace: 'trustusbank-bank-agents', serviceAccount: 'support-bot' };
  return {
    gateway,
    dataDir: dir.path,
    metrics,
    logs,
    url: await as(caller.namespace, caller.serviceAccount),
    hostUrl: host.url,
    upstreams,
    configure,
    as,
    async close() {
      await gateway.close();
      fetchUpstream.close();
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      dir.remove();
    },
  };
}

function inputsFrom(yaml: string, fetchJwks: GatewayInputs['fetchJwks']): GatewayInputs {
  const resources = parseManifests(yaml, 'test.yaml').map((l) => l.resource);
  const of = <T>(kind: string): T[] => resources.filter((r) => r.kind === kind) as T[];
  const services = of<Service>('Service');
  return {
    gateway: of<Gateway>('Gateway')[0]!,
    routes: of<HTTPRoute>('HTTPRoute'),
    backends: of<AgentgatewayBackend>('AgentgatewayBackend'),
    policies: [...of<GatewayPolicy>('AgentgatewayPolicy'), ...of<GatewayPolicy>('EnterpriseAgentgatewayPolicy')],
    referenceGrants: of<ReferenceGrant>('ReferenceGrant'),
    service(namespace, name): ServiceFacts | undefined {
      const service = services.find((s) => s.metadata.namespace === namespace && s.metadata.name === name);
      if (!service) return undefined;
      return {
        name,
        namespace,
        hostname: `${name}.${namespace}.svc.cluster.local`,
        ports: service.spec.ports.map((p) => ({ port: p.port, ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) })),
        annotations: service.metadata.annotations ?? {},
      };
    },
    fetchJwks,
  };
}

/** POST one JSON-RPC body; returns status, headers and the parsed body. */
export async function rpc(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: Record<string, unknown> & { error?: { code: number; message: string; data?: Record<string, unknown> } } }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as never) : ({} as never) };
}

/** A 2025-11-25 session opened by hand (for raw requests inside a session). */
export async function openSession(url: string, headers: Record<string, string> = {}): Promise<Record<string, string>> {
  const opened = await rpc(url, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }, headers);
  if (opened.status !== 200) throw new Error(`initialize: ${opened.status} ${JSON.stringify(opened.body)}`);
  const session = { ...headers, 'mcp-session-id': opened.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-11-25' };
  await rpc(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, session);
  return session;
}

/**
 * A minimal MCP server on the older HTTP+SSE transport (the SDK no longer ships one): GET /sse announces
 * /messages?session=…; answers to POSTs arrive on the event stream.
 */
export async function startSseMcpServer(tools: { name: string; description: string }[]): Promise<{ url: string; close(): Promise<void> }> {
  const streams = new Map<string, ServerResponse>();
  let next = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/sse') {
      const id = String(++next);
      streams.set(id, res);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(`event: endpoint\ndata: /messages?session=${id}\n\n`);
      req.on('close', () => streams.delete(id));
      return;
    }
    if (req.method === 'POST' && url.pathname === '/messages') {
      const stream = streams.get(url.searchParams.get('session') ?? '');
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (!stream) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(202).end();
        const message = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: number; method: string; params?: { name?: string; arguments?: unknown } };
        if (message.id === undefined) return;
        let result: unknown;
        if (message.method === 'initialize') result = { protocolVersion: '2025-11-25', capabilities: { tools: {}, prompts: {}, resources: {} }, serverInfo: { name: 'sse-fixture', version: '1.0.0' } };
        else if (message.method === 'tools/list') result = { tools: tools.map((t) => ({ ...t, inputSchema: { type: 'object', properties: { text: { type: 'string' } } } })) };
        else if (message.method === 'tools/call') result = { content: [{ type: 'text', text: `${message.params?.name}: ${JSON.stringify(message.params?.arguments)}` }] };
        else if (message.method === 'prompts/list') result = { prompts: [{ name: 'summarise', description: 'Summarise a text.' }, { name: 'translate', description: 'Translate a text.' }] };
        else if (message.method === 'prompts/get') result = { messages: [{ role: 'user', content: { type: 'text', text: `prompt ${message.params?.name}` } }] };
        else if (message.method === 'resources/list') result = { resources: [{ uri: 'catalog://items', name: 'items' }] };
        else if (message.method === 'resources/read') result = { contents: [{ uri: (message.params as { uri?: string } | undefined)?.uri, text: 'item list' }] };
        const answer = result === undefined ? { jsonrpc: '2.0', id: message.id, error: { code: -32601, message: 'Method not found' } } : { jsonrpc: '2.0', id: message.id, result };
        stream.write(`event: message\ndata: ${JSON.stringify(answer)}\n\n`);
      });
      return;
    }
    res.writeHead(404).end();
  });
  const bound = await listen(server, { host: '127.0.0.1', port: 0, portHint: 'n/a' });
  return {
    url: bound.url,
    close: async () => {
      for (const stream of streams.values()) stream.end();
      await closeServer(server);
    },
  };
}
