// A permission ends for connections already open too. The attack: a caller opens a connection into an agent's
// waypoint and into the agent gateway (each its own HBONE server, not the node's inbound listener) while it may,
// keeps it alive, and goes on using it after an AuthorizationPolicy has denied it. The defence: on the policy
// change the tunnel is closed, and the close is counted and logged as a refusal at open would be. The clean run:
// an allowed caller's kept-alive tunnel survives the same (to it unrelated) change, and new connections work.
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturedConnect } from '../src/control-plane/captured-fetch.ts';
import { seriesValue, startTestCluster, type TestCluster } from '../testing/cluster.ts';

const AGENTS = 'trustusbank-bank-agents';
const PLATFORM = 'trustusbank-platform';
const ATTACKER = ['external-attacker', 'mock-attacker'] as const;
const ATTACKER_ID = 'spiffe://cluster.local/ns/external-attacker/sa/mock-attacker';
const SUPPORT_BOT_HOST = `support-bot.${AGENTS}.svc.cluster.local`;
const GATEWAY_HOST = `trustusbank-agentgw.${PLATFORM}.svc.cluster.local`;
/** A path no route serves: the gateway answers it at once (404), and the answer does not matter, only that it comes. */
const GW_PATH = '/no-such-route';

const denyAttacker = (namespace: string, name: string, selector?: Record<string, string>) => ({
  file: `${name}.yaml`,
  text: `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
${selector ? `  selector:\n    matchLabels: ${JSON.stringify(selector)}\n` : ''}  action: DENY
  rules:
    - from:
        - source:
            principals: [cluster.local/ns/external-attacker/sa/mock-attacker]
`,
});

/** An unrelated change: a policy for a namespace none of these callers goes to. */
const UNRELATED = {
  file: 'unrelated.yaml',
  text: `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: unrelated-audit
  namespace: trustusbank-bank-vendors
spec:
  action: AUDIT
  rules: [{}]
`,
};

const ACCOUNT_HOST = 'account-mcp.trustusbank-bank-mcp.svc.cluster.local';
/** The bank's Istio waypoint, and account-mcp sent through it. */
const THROUGH_WAYPOINT = [
  {
    file: 'waypoint.yaml',
    text: `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: trustusbank-waypoint, namespace: ${PLATFORM}, labels: { istio.io/waypoint-for: service } }
spec:
  gatewayClassName: istio-waypoint
  listeners: [{ name: mesh, port: 15008, protocol: HBONE }]
`,
  },
  {
    file: 'svc.yaml',
    text: `apiVersion: v1
kind: Service
metadata:
  name: account-mcp
  namespace: trustusbank-bank-mcp
  labels: { app: account-mcp, istio.io/use-waypoint: trustusbank-waypoint, istio.io/use-waypoint-namespace: ${PLATFORM} }
spec:
  selector: { app: account-mcp }
  ports: [{ name: http, port: 8080, targetPort: http, appProtocol: http }]
`,
  },
];
const DENY_ATTACKER_AT_ACCOUNT = {
  file: 'deny-at-waypoint.yaml',
  text: `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-attacker-to-account, namespace: trustusbank-bank-mcp }
spec:
  targetRefs: [{ kind: Service, group: "", name: account-mcp }]
  action: DENY
  rules: [{ from: [{ source: { principals: [cluster.local/ns/external-attacker/sa/mock-attacker] } }] }]
`,
};

interface KeptAlive {
  /** One HTTP/1.1 request on the same connection; resolves with the status, rejects if the connection ends first. */
  request(path: string, headers?: Record<string, string>): Promise<number>;
  /** Start a request whose body never finishes arriving: it stays in flight. */
  startUpload(path: string, declaredLength: number, sent: string): void;
  /** Resolves 'closed' once the connection has ended, or 'open' after `ms`. */
  closedWithin(ms: number): Promise<'closed' | 'open'>;
  destroy(): void;
}

/** A connection as a pod of `workload` opens it (its identity, through the node's capture socket), kept alive. */
async function keptAlive(t: TestCluster, [namespace, workload]: readonly [string, string], host: string, port: number): Promise<KeptAlive> {
  const grant = t.cluster.engine.execToken(namespace, workload);
  if (!grant) throw new Error(`no pod of ${namespace}/${workload}`);
  const socket: Socket = await capturedConnect(t.cluster.engine.captureEndpoint(), grant.token, host, port);
  socket.on('error', () => undefined);
  let ended = false;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  void closed.then(() => {
    ended = true;
    t.cluster.engine.releaseExecToken(grant.token);
  });
  let buffer = Buffer.alloc(0);
  const waiting: (() => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (const wake of waiting.splice(0)) wake();
  });
  void closed.then(() => {
    for (const wake of waiting.splice(0)) wake();
  });
  const more = () => new Promise<void>((resolve) => waiting.push(resolve));

  /** One whole response off the front of the buffer (content-length or chunked), or undefined while incomplete. */
  const takeResponse = (): number | undefined => {
    const headEnd = buffer.indexOf('\r\n\r\n');
    if (headEnd < 0) return undefined;
    const head = buffer.subarray(0, headEnd).toString('latin1');
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
    if (!Number.isInteger(status)) throw new Error(`not an HTTP response: ${head.slice(0, 80)}`);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    let end: number;
    if (length) {
      end = headEnd + 4 + Number(length[1]);
      if (buffer.length < end) return undefined;
    } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      const last = buffer.indexOf('\r\n0\r\n\r\n', headEnd + 2);
      if (last < 0) return undefined;
      end = last + 7;
    } else end = headEnd + 4;
    buffer = buffer.subarray(end);
    return status;
  };

  return {
    async request(path, headers = {}) {
      if (ended) throw new Error('the connection is closed');
      const lines = [`GET ${path} HTTP/1.1`, `host: ${host}:${port}`, 'connection: keep-alive', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      for (;;) {
        const status = takeResponse();
        if (status !== undefined) return status;
        if (ended) throw new Error('the connection closed before an answer');
        await more();
      }
    },
    startUpload(path, declaredLength, sent) {
      socket.write(`POST ${path} HTTP/1.1\r\nhost: ${host}:${port}\r\ncontent-type: application/json\r\ncontent-length: ${declaredLength}\r\n\r\n${sent}`);
    },
    closedWithin: (ms) => {
      let timer: NodeJS.Timeout | undefined;
      const open = new Promise<'open'>((resolve) => (timer = setTimeout(() => resolve('open'), ms)));
      return Promise.race([closed.then(() => 'closed' as const), open]).finally(() => clearTimeout(timer));
    },
    destroy: () => socket.destroy(),
  };
}

describe('connections that outlive their permission', () => {
  let t: TestCluster;
  beforeAll(async () => {
    t = await startTestCluster();
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  const deniedAtDestination = async (destinationWorkload: string) =>
    seriesValue(await t.metricsText(), 'istio_tcp_connections_failed_total', { reporter: 'destination', response_flags: 'DENY', source_principal: ATTACKER_ID, destination_workload: destinationWorkload });
  /** The log is written as the connection closes; callers read it until the line is there (bounded). */
  const revocationLogged = (policy: string, workload: string) =>
    t
      .ztunnelLog()
      .split('\n')
      .filter((line) => line.includes('"direction":"inbound"'))
      .map((line) => JSON.parse(line) as Record<string, string>)
      .some((line) => line['src.identity'] === ATTACKER_ID && line['dst.workload'] === workload && line.error === `connection closed due to policy rejection: explicitly denied by: ${policy}`);

  it("closes a kept-alive tunnel into an agent's waypoint once a policy denies its caller; an allowed caller's stays up", async () => {
    const card = '/.well-known/agent-card.json';
    const attacker = await keptAlive(t, ATTACKER, SUPPORT_BOT_HOST, 8080);
    const triage = await keptAlive(t, [AGENTS, 'triage-bot'], SUPPORT_BOT_HOST, 8080);
    const policy = denyAttacker(AGENTS, 'deny-attacker-to-agents');
    try {
      expect(await attacker.request(card)).toBe(200);
      expect(await attacker.request(card)).toBe(200); // the same connection, kept alive
      expect(await triage.request(card)).toBe(200);
      const before = await deniedAtDestination('support-bot-waypoint');

      await t.cluster.engine.apply([policy]);
      expect(await attacker.closedWithin(10_000)).toBe('closed');
      await expect(attacker.request(card)).rejects.toThrow(/closed/);
      expect(await deniedAtDestination('support-bot-waypoint')).toBeGreaterThan(before);
      await expect.poll(() => revocationLogged(`${AGENTS}/deny-attacker-to-agents`, 'support-bot-waypoint-gateway'), { timeout: 10_000 }).toBe(true);
      // A new connection is refused at open, as before.
      await expect(keptAlive(t, ATTACKER, SUPPORT_BOT_HOST, 8080).then((again) => again.request(card))).rejects.toThrow(/refused|closed/);

      // The clean run: the allowed caller's tunnel was re-checked too, and kept.
      expect(await triage.request(card)).toBe(200);
      const fresh = await keptAlive(t, [AGENTS, 'triage-bot'], SUPPORT_BOT_HOST, 8080);
      expect(await fresh.request(card)).toBe(200);
      fresh.destroy();
    } finally {
      attacker.destroy();
      triage.destroy();
      await t.cluster.engine.delete([policy]);
    }
  }, 60_000);

  it('closes a kept-alive tunnel into the agent gateway once a policy denies its caller; an allowed caller’s stays up', async () => {
    const attacker = await keptAlive(t, ATTACKER, GATEWAY_HOST, 8080);
    const supportBot = await keptAlive(t, [AGENTS, 'support-bot'], GATEWAY_HOST, 8080);
    const policy = denyAttacker(PLATFORM, 'deny-attacker-to-gateway', { 'gateway.networking.k8s.io/gateway-name': 'trustusbank-agentgw' });
    try {
      // Whatever the gateway answers this caller, it answers: the connection is open and in use.
      const answered = await attacker.request(GW_PATH);
      expect(answered).toBeGreaterThanOrEqual(200);
      expect(await attacker.request(GW_PATH)).toBe(answered);
      const allowed = await supportBot.request(GW_PATH);
      const before = await deniedAtDestination('trustusbank-agentgw');

      await t.cluster.engine.apply([policy]);
      expect(await attacker.closedWithin(10_000)).toBe('closed');
      await expect(attacker.request(GW_PATH)).rejects.toThrow(/closed/);
      expect(await deniedAtDestination('trustusbank-agentgw')).toBeGreaterThan(before);
      await expect.poll(() => revocationLogged(`${PLATFORM}/deny-attacker-to-gateway`, 'trustusbank-agentgw-gateway'), { timeout: 10_000 }).toBe(true);

      expect(await supportBot.request(GW_PATH)).toBe(allowed);
    } finally {
      attacker.destroy();
      supportBot.destroy();
      await t.cluster.engine.delete([policy]);
    }
  }, 60_000);

  it('keeps allowed tunnels into the waypoint and the gateway open across an unrelated policy change', async () => {
    const card = '/.well-known/agent-card.json';
    const toWaypoint = await keptAlive(t, ATTACKER, SUPPORT_BOT_HOST, 8080);
    const toGateway = await keptAlive(t, [AGENTS, 'support-bot'], GATEWAY_HOST, 8080);
    try {
      expect(await toWaypoint.request(card)).toBe(200);
      const answered = await toGateway.request(GW_PATH);
      await t.cluster.engine.apply([UNRELATED]);
      expect(await toWaypoint.request(card)).toBe(200);
      expect(await toGateway.request(GW_PATH)).toBe(answered);
      expect(await toWaypoint.closedWithin(0)).toBe('open');
    } finally {
      toWaypoint.destroy();
      toGateway.destroy();
      await t.cluster.engine.delete([UNRELATED]);
    }
  }, 60_000);

  it('cuts a request still in flight through the Istio waypoint once a policy denies its caller; idle tunnels are judged at their next request', async () => {
    await t.cluster.engine.apply(THROUGH_WAYPOINT);
    await t.cluster.waypoints.sync();
    const uploading = await keptAlive(t, ATTACKER, ACCOUNT_HOST, 8080);
    const idle = await keptAlive(t, ATTACKER, ACCOUNT_HOST, 8080);
    const converter = await keptAlive(t, ['trustusbank-bank-vendors', 'currency-converter'], ACCOUNT_HOST, 8080);
    try {
      for (const connection of [uploading, idle, converter]) expect(await connection.request('/healthz')).toBe(200);
      // A slow upload: the waypoint allowed the request and is forwarding its body as it comes.
      uploading.startUpload('/mcp', 4096, '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_profile","arguments":{"account_id":"12345"');
      // Until the waypoint has judged the upload and is serving it (then a policy change has a request to judge).
      await expect.poll(() => t.cluster.connections.pendingChecks(`${PLATFORM}/trustusbank-waypoint`), { timeout: 10_000 }).toBe(1);
      const before = await deniedAtDestination('trustusbank-waypoint');

      await t.cluster.engine.apply([DENY_ATTACKER_AT_ACCOUNT]);
      expect(await uploading.closedWithin(10_000)).toBe('closed');
      expect(await deniedAtDestination('trustusbank-waypoint')).toBeGreaterThan(before);
      await expect.poll(() => revocationLogged('trustusbank-bank-mcp/deny-attacker-to-account', 'trustusbank-waypoint-waypoint'), { timeout: 10_000 }).toBe(true);
      // Nothing was in flight on the idle tunnel: it stays, and its next request is refused by the waypoint.
      expect(await idle.closedWithin(0)).toBe('open');
      expect(await idle.request('/healthz')).toBe(403);
      // The clean run: another caller's tunnel through the same waypoint is untouched.
      expect(await converter.request('/healthz')).toBe(200);
    } finally {
      for (const connection of [uploading, idle, converter]) connection.destroy();
      await t.cluster.engine.delete([DENY_ATTACKER_AT_ACCOUNT]);
    }
  }, 60_000);
});
