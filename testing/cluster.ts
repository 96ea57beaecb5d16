// A whole embedded cluster for end-to-end tests: started in-process (so tests can look at its parts), with
// its admin API and stack record in place so the real CLI (`exec`, `status`, …) works against it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { encodeSourceLine } from '../src/mesh/capture/protocol.ts';
import type { MeshWorkload } from '../src/mesh/ztunnel/state.ts';
import { callAdminApi, serveAdminApi, type AdminRoutes } from '../src/control-plane/admin-api.ts';
import { adminRoutes, type ChatAnswer } from '../src/control-plane/admin-routes.ts';
import { startCluster, type Cluster, type ClusterOptions } from '../src/control-plane/cluster.ts';
import { adminSocketPath, removeStackState, writeStackState } from '../src/runtime/stack-state.ts';
import { seriesSum } from '../src/core/prometheus-text.ts';
import { runCli, type CliResult } from './cli.ts';
import { tempDir } from './workloads.ts';

export interface TestCluster {
  cluster: Cluster;
  dataDir: string;
  /** The admin API's routes, as served (a test may add one, as `up` adds the control room's). */
  routes: AdminRoutes;
  /** Run `trustusbank <args>` against this cluster. */
  cli(args: string[]): Promise<CliResult>;
  /** `trustusbank exec -n ns workload -- trustusbank curl …`: a request made with that pod's identity. */
  curlFrom(namespace: string, workload: string, curlArgs: string[]): Promise<CliResult>;
  attackerLoot(): Promise<{ count: number }>;
  metricsText(): Promise<string>;
  /** What `trustusbank chat` asks the stack (through its admin API, without a child process). */
  chat(prompt: string, options?: { as?: string; agent?: string; protocol?: '0.3' | '1.0' }): Promise<ChatAnswer>;
  ztunnelLog(): string;
  close(): Promise<void>;
}

/**
 * A loopback TCP port in front of a pod's listener (pods listen on Unix sockets only the node reaches), for
 * tests that speak to a pod directly, as `kubectl port-forward` would.
 */
export async function forwardToPod(pod: MeshWorkload, containerPort: number): Promise<{ url: string; close(): Promise<void> }> {
  const target = pod.listeners.get(containerPort);
  if (!target) throw new Error(`${pod.uid} does not listen on ${containerPort}`);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target);
    // As every connection to a pod starts: the node's line saying who is calling (here, the test on loopback).
    upstream.write(encodeSourceLine({ address: '127.0.0.1', port: client.remotePort ?? 0 }));
    for (const [s, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(s);
      s.once('close', () => {
        sockets.delete(s);
        other.destroy();
      });
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export async function startTestCluster(overrides: Partial<Omit<ClusterOptions, 'dataDir'>> = {}): Promise<TestCluster> {
  const dir = tempDir('tub-cluster-');
  const cluster = await startCluster({ dataDir: dir.path, agentsUiPort: 0, registryPort: 0, metricsPort: 0, alertmanagerPort: 0, inboxPort: 0, smtpPort: 0, dashboardPort: 0, tracesPort: 0, ...overrides, hostPorts: { 'external-attacker/mock-attacker': 0, 'trustusbank-platform/trustusbank-agentgw': 0, 'trustusbank-bank-frontend/chatbot': 0 } });
  let admin: Server;
  const routes = adminRoutes(cluster, new Date());
  try {
    const socket = adminSocketPath(dir.path);
    admin = await serveAdminApi(socket, routes);
    writeStackState(dir.path, { pid: process.pid, started_at: new Date().toISOString(), data_dir: dir.path, socket, ready: true });
  } catch (error) {
    await cluster.close();
    throw error;
  }
  const cli = (args: string[]) => runCli([...args, '--data-dir', dir.path]);
  const attackerUrl = cluster.forwards.find((f) => f.service === 'mock-attacker')!.url;
  return {
    cluster,
    dataDir: dir.path,
    routes,
    cli,
    curlFrom: (namespace, workload, curlArgs) => runCli(['exec', '--data-dir', dir.path, '-n', namespace, workload, '--', 'trustusbank', 'curl', ...curlArgs]),
    attackerLoot: async () => (await (await fetch(new URL('/loot', attackerUrl))).json()) as { count: number },
    metricsText: () => cluster.metrics.metrics(),
    chat: (prompt, options = {}) => callAdminApi<ChatAnswer>(adminSocketPath(dir.path), 'POST', '/chat', { prompt, ...options }),
    ztunnelLog: () => readFileSync(join(dir.path, 'logs', 'ztunnel.log'), 'utf8'),
    close: async () => {
      await new Promise<void>((resolve) => admin.close(() => resolve()));
      await cluster.close();
      removeStackState(dir.path, process.pid);
      dir.remove();
    },
  };
}

/** The value of one Prometheus series whose labels include all of `labels`, or 0. */
export const seriesValue = seriesSum;
