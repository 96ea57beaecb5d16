// HBONE against plain loopback TCP, measured in the same run: bulk throughput through one tunnel, request/response
// latency over an established tunnel, and what a new connection costs (a stream on a warm session, a cold
// session, a new TCP connection). Also times SVID issuance, which bounds how fast a node's pods get identities.
//
// Throughput is measured in two layouts. "one thread": sender, HBONE client, HBONE server and sink share one
// event loop, the worst case. "two nodes": the source side (sender + HBONE client) on the main thread and the
// destination side (HBONE server + sink) on a worker, as two ztunnels on two cores would run; the direct
// baseline then also crosses the two threads (sender on main, sink on the worker).
import { connect as connectTcp, createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { CertificateAuthority, type Svid } from '../src/mesh/ca/index.ts';
import { HboneClient, HboneServer, type Http2Tuning } from '../src/mesh/hbone/index.ts';
import { report, type Sample, sized, summarise, time } from './stats.ts';

const MiB = 1024 * 1024;
const THROUGHPUT_BYTES = sized(128, 1) * MiB;
const THROUGHPUT_ROUNDS = sized(5, 1);
const THROUGHPUT_WARMUP_BYTES = sized(16, 1) * MiB;
const SVIDS = sized(20, 3);
const NEW_CONNECTIONS = sized(300, 5);
const COLD_SESSIONS = sized(100, 3);
const WRITE_CHUNK = 64 * 1024; // what a Node TCP read hands over, so what a capturing proxy would forward
const ECHO_MESSAGE = Buffer.alloc(64, 0x2a);
const NODE_DEFAULT_HTTP2: Partial<Http2Tuning> = { streamWindowBytes: 65_535, connectionWindowBytes: 65_535, maxFrameBytes: 16_384, maxSessionMemoryMiB: 10 };

interface DestinationSide {
  sinkPort: number;
  echoPort: number;
  hbonePort: number;
  close(): Promise<void>;
}

/** A sink that counts what it receives and, when the sender half-closes, answers the count and ends. */
function countingSink(socket: Socket): void {
  let bytes = 0;
  socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
  socket.on('end', () => socket.end(String(bytes)));
}

function echoBack(socket: Socket): void {
  socket.pipe(socket);
}

async function listen(handler: (socket: Socket) => void): Promise<Server> {
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    socket.on('error', () => undefined);
    handler(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const portOf = (server: Server) => (server.address() as { port: number }).port;

/** The destination node: sink and echo targets, and an HBONE server that lets everything through to them. */
async function startDestination(destination: Svid, trustBundlePem: string, tuning?: Partial<Http2Tuning>): Promise<DestinationSide> {
  const sink = await listen(countingSink);
  const echo = await listen(echoBack);
  const targets = new Map([
    [`10.244.0.2:${portOf(sink)}`, portOf(sink)],
    [`10.244.0.2:${portOf(echo)}`, portOf(echo)],
  ]);
  const hbone = new HboneServer({
    trustBundlePem,
    serverIdentity: () => destination,
    authorize: ({ authority }) => {
      const port = targets.get(authority);
      return port ? { allow: true, target: { host: '127.0.0.1', port } } : { allow: false, reason: 'unknown target' };
    },
    tuning,
  });
  const { port: hbonePort } = await hbone.listen(0, '127.0.0.1');
  return {
    sinkPort: portOf(sink),
    echoPort: portOf(echo),
    hbonePort,
    close: async () => {
      await hbone.close();
      await Promise.all([sink, echo].map((server) => new Promise((resolve) => server.close(resolve))));
    },
  };
}

// The worker half of the "two nodes" layout: this same file, loaded on a worker thread.
if (!isMainThread && (workerData as { role?: string } | null)?.role === 'hbone-destination') {
  const { destination, trustBundlePem } = workerData as { destination: Svid; trustBundlePem: string };
  const side = await startDestination(destination, trustBundlePem);
  parentPort!.postMessage({ sinkPort: side.sinkPort, echoPort: side.echoPort, hbonePort: side.hbonePort });
  parentPort!.once('message', () => void side.close().then(() => parentPort!.close()));
}

async function startDestinationWorker(destination: Svid, trustBundlePem: string): Promise<DestinationSide & { worker: Worker }> {
  // Workers do not inherit tsx's loader hooks on Node 20; register them in the worker before importing this file.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `(async () => { const { register } = await import(${JSON.stringify(tsxApi)}); register(); await import(${JSON.stringify(import.meta.url)}); })()`;
  const worker = new Worker(bootstrap, { eval: true, workerData: { role: 'hbone-destination', destination, trustBundlePem } });
  const ports = await new Promise<{ sinkPort: number; echoPort: number; hbonePort: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    ...ports,
    worker,
    close: async () => {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage('close');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
      await worker.terminate();
    },
  };
}

/** Write `bytes` in WRITE_CHUNK pieces honouring backpressure, half-close, wait for the sink's count; MiB/s. */
async function pushThrough(stream: Duplex, bytes: number): Promise<number> {
  const chunk = Buffer.alloc(WRITE_CHUNK, 7);
  const answer = new Promise<string>((resolve, reject) => {
    let text = '';
    stream.on('data', (data: Buffer) => (text += data.toString()));
    stream.once('end', () => resolve(text));
    stream.once('error', reject);
  });
  const started = performance.now();
  for (let sent = 0; sent < bytes; sent += chunk.length) {
    if (!stream.write(chunk)) await new Promise((resolve) => stream.once('drain', resolve));
  }
  stream.end();
  const counted = Number(await answer);
  const seconds = (performance.now() - started) / 1000;
  if (counted !== bytes) throw new Error(`sink counted ${counted} bytes, sent ${bytes}`);
  return bytes / MiB / seconds;
}

async function directConnection(port: number): Promise<Socket> {
  const socket = connectTcp({ host: '127.0.0.1', port, allowHalfOpen: true, noDelay: true });
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return socket;
}

interface Mesh {
  ca: CertificateAuthority;
  source: Svid;
  destination: Svid;
}

function tunnel(client: HboneClient, mesh: Mesh, hbonePort: number, targetPort: number): Promise<Duplex> {
  return client.connect({
    svid: mesh.source,
    server: { host: '127.0.0.1', port: hbonePort },
    serverSpiffeId: mesh.destination.spiffeId,
    authority: `10.244.0.2:${targetPort}`,
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

function printThroughput(title: string, rows: { label: string; mibPerSecond: number[] }[]): void {
  const baseline = median(rows[0]!.mibPerSecond);
  console.log(`\n${title}`);
  console.log(`  ${'case'.padEnd(52)} ${'median'.padStart(12)} ${'min'.padStart(10)} ${'max'.padStart(10)}  ratio vs baseline`);
  for (const [index, row] of rows.entries()) {
    const mid = median(row.mibPerSecond);
    const ratio = index === 0 ? 'baseline' : `${(mid / baseline).toFixed(2)} ×`;
    const fmt = (value: number) => `${value.toFixed(0)} MiB/s`;
    console.log(`  ${row.label.padEnd(52)} ${fmt(mid).padStart(12)} ${fmt(Math.min(...row.mibPerSecond)).padStart(10)} ${fmt(Math.max(...row.mibPerSecond)).padStart(10)}  ${ratio}`);
  }
}

async function svidIssuance(ca: CertificateAuthority): Promise<void> {
  const count = SVIDS;
  await ca.issueSvid({ namespace: 'warm', serviceAccount: 'up' });
  let started = performance.now();
  for (let i = 0; i < count; i++) await ca.issueSvid({ namespace: 'trustusbank-bank-mcp', serviceAccount: `workload-${i}` });
  const sequential = performance.now() - started;
  started = performance.now();
  await Promise.all(Array.from({ length: count }, (_, i) => ca.issueSvid({ namespace: 'trustusbank-bank-mcp', serviceAccount: `workload-${i}` })));
  const concurrent = performance.now() - started;
  console.log(`\nSVID issuance (ECDSA P-256 leaf, chain to the cluster intermediate)`);
  console.log(`  ${count} SVIDs one after another: ${sequential.toFixed(0)} ms (${(sequential / count).toFixed(1)} ms each)`);
  console.log(`  ${count} SVIDs at once:           ${concurrent.toFixed(0)} ms`);
}

async function throughputOneThread(mesh: Mesh): Promise<void> {
  const tuned = await startDestination(mesh.destination, mesh.ca.trustBundlePem());
  const untuned = await startDestination(mesh.destination, mesh.ca.trustBundlePem(), NODE_DEFAULT_HTTP2);
  const tunedClient = new HboneClient({ trustBundlePem: mesh.ca.trustBundlePem() });
  const untunedClient = new HboneClient({ trustBundlePem: mesh.ca.trustBundlePem(), tuning: NODE_DEFAULT_HTTP2 });
  const direct: number[] = [];
  const hbone: number[] = [];
  const hboneUntuned: number[] = [];
  try {
    await pushThrough(await tunnel(tunedClient, mesh, tuned.hbonePort, tuned.sinkPort), THROUGHPUT_WARMUP_BYTES); // warm-up
    for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
      direct.push(await pushThrough(await directConnection(tuned.sinkPort), THROUGHPUT_BYTES));
      hbone.push(await pushThrough(await tunnel(tunedClient, mesh, tuned.hbonePort, tuned.sinkPort), THROUGHPUT_BYTES));
      hboneUntuned.push(await pushThrough(await tunnel(untunedClient, mesh, untuned.hbonePort, untuned.sinkPort), THROUGHPUT_BYTES / 4));
    }
  } finally {
    await Promise.all([tunedClient.close(), untunedClient.close()]);
    await Promise.all([tuned.close(), untuned.close()]);
  }
  printThroughput(`Throughput, one thread: ${THROUGHPUT_BYTES / MiB} MiB per round, ${THROUGHPUT_ROUNDS} rounds`, [
    { label: 'direct loopback TCP (baseline)', mibPerSecond: direct },
    { label: 'HBONE tunnel, tuned (4 MiB stream / 16 MiB conn windows)', mibPerSecond: hbone },
    { label: "HBONE tunnel, Node's default 64 KiB windows", mibPerSecond: hboneUntuned },
  ]);
}

async function throughputTwoNodes(mesh: Mesh): Promise<void> {
  const destination = await startDestinationWorker(mesh.destination, mesh.ca.trustBundlePem());
  const client = new HboneClient({ trustBundlePem: mesh.ca.trustBundlePem() });
  const direct: number[] = [];
  const hbone: number[] = [];
  try {
    await pushThrough(await tunnel(client, mesh, destination.hbonePort, destination.sinkPort), THROUGHPUT_WARMUP_BYTES);
    for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
      direct.push(await pushThrough(await directConnection(destination.sinkPort), THROUGHPUT_BYTES));
      hbone.push(await pushThrough(await tunnel(client, mesh, destination.hbonePort, destination.sinkPort), THROUGHPUT_BYTES));
    }
  } finally {
    await client.close();
    await destination.close();
  }
  printThroughput(`Throughput, two nodes (destination side on a worker thread): ${THROUGHPUT_BYTES / MiB} MiB per round, ${THROUGHPUT_ROUNDS} rounds`, [
    { label: 'direct loopback TCP, main → worker (baseline)', mibPerSecond: direct },
    { label: 'HBONE tunnel, client on main → server on worker', mibPerSecond: hbone },
  ]);
}

/** Resolves once `expected` more bytes have come back on `stream`. */
function echoWaiter(stream: Duplex): (expected: number) => Promise<void> {
  let received = 0;
  let waiting: { until: number; resolve: () => void } | undefined;
  stream.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (waiting && received >= waiting.until) {
      const { resolve } = waiting;
      waiting = undefined;
      resolve();
    }
  });
  return (expected) => new Promise((resolve) => (waiting = { until: received + expected, resolve }));
}

async function roundTrip(stream: Duplex, wait: (expected: number) => Promise<void>): Promise<void> {
  const back = wait(ECHO_MESSAGE.length);
  stream.write(ECHO_MESSAGE);
  await back;
}

async function latency(mesh: Mesh): Promise<void> {
  const side = await startDestination(mesh.destination, mesh.ca.trustBundlePem());
  const client = new HboneClient({ trustBundlePem: mesh.ca.trustBundlePem() });
  try {
    const direct = await directConnection(side.echoPort);
    const directWait = echoWaiter(direct);
    const tunnelled = await tunnel(client, mesh, side.hbonePort, side.echoPort);
    const tunnelWait = echoWaiter(tunnelled);
    const options = { n: 3000, warmup: 200, maxMs: 5000 };
    const baseline = await time('direct loopback TCP (baseline)', () => roundTrip(direct, directWait), options);
    const hbone = await time('HBONE tunnel (established)', () => roundTrip(tunnelled, tunnelWait), options);
    report('Latency: 64-byte request/response round trip, one thread', baseline, [hbone]);
    direct.destroy();
    tunnelled.destroy();
  } finally {
    await client.close();
    await side.close();
  }
}

async function connectionCost(mesh: Mesh): Promise<void> {
  const side = await startDestination(mesh.destination, mesh.ca.trustBundlePem());
  const warmClient = new HboneClient({ trustBundlePem: mesh.ca.trustBundlePem() });
  // Each case: open, one 64-byte round trip (so the path is really usable), then close outside the timing.
  const openAndEcho = async (open: () => Promise<Duplex>): Promise<Duplex> => {
    const stream = await open();
    await roundTrip(stream, echoWaiter(stream));
    return stream;
  };
  const measure = async (label: string, open: () => Promise<Duplex>, after: (stream: Duplex) => Promise<void>, n: number): Promise<Sample> => {
    const millis: number[] = [];
    const deadline = performance.now() + 5000;
    const warmup = sized(10, 1);
    for (let i = 0; i < n + warmup && performance.now() < deadline; i++) {
      const started = performance.now();
      const stream = await openAndEcho(open);
      if (i >= warmup) millis.push(performance.now() - started);
      await after(stream);
    }
    return summarise(label, millis);
  };
  const endStream = async (stream: Duplex) => {
    const closed = new Promise((resolve) => stream.once('close', resolve));
    stream.end();
    stream.resume();
    await closed;
  };
  try {
    const baseline = await measure('new direct TCP connection (baseline)', () => directConnection(side.echoPort), endStream, NEW_CONNECTIONS);
    const warm = await measure('new CONNECT stream on a warm session', () => tunnel(warmClient, mesh, side.hbonePort, side.echoPort), endStream, NEW_CONNECTIONS);
    let coldClient: HboneClient | undefined;
    const cold = await measure(
      'cold: new TLS + HTTP/2 session, then CONNECT',
      () => {
        coldClient = new HboneClient({ trustBundlePem: mesh.ca.trustBundlePem() });
        return tunnel(coldClient, mesh, side.hbonePort, side.echoPort);
      },
      async () => coldClient!.close(),
      COLD_SESSIONS,
    );
    report('New connection: open + first 64-byte round trip, one thread', baseline, [warm, cold]);
    if (warmClient.sessionCount() !== 1) throw new Error(`expected one pooled session, found ${warmClient.sessionCount()}`);
  } finally {
    await warmClient.close();
    await side.close();
  }
}

export async function run(): Promise<void> {
  const ca = await CertificateAuthority.open();
  await svidIssuance(ca);
  const [source, destination] = await Promise.all([
    ca.issueSvid({ namespace: 'trustusbank-bank-agents', serviceAccount: 'support-bot' }),
    ca.issueSvid({ namespace: 'trustusbank-bank-mcp', serviceAccount: 'account-mcp' }),
  ]);
  const mesh: Mesh = { ca, source, destination };
  await throughputOneThread(mesh);
  await throughputTwoNodes(mesh);
  await latency(mesh);
  await connectionCost(mesh);
}
