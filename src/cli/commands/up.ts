// `trustusbank up`: start the embedded cluster — control plane, ztunnel, the bank's pods — and keep it
// running until Ctrl-C (or, with --detach, in the background until `trustusbank down`).
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StackStatus } from '../../control-plane/admin-routes.ts';
import { adminRoutes } from '../../control-plane/admin-routes.ts';
import { callAdminApi, serveAdminApi } from '../../control-plane/admin-api.ts';
import { parseModelChoice, type ModelChoice } from '../../control-plane/agents.ts';
import { AGENTS_UI_PORT, PROMETHEUS_PORT, REGISTRY_PORT, startCluster } from '../../control-plane/cluster.ts';
import { ALERTMANAGER_PORT, INBOX_PORT, SMTP_PORT } from '../../control-plane/evidence.ts';
import { DASHBOARD_PORT } from '../../evidence/dashboard/index.ts';
import { DATA_DIR_ENV, ensureDir, ensurePrivateDir, resolveDataDir, restrictUmask } from '../../core/data-dir.ts';
import { UserError } from '../../core/errors.ts';
import { CONTROL_ROOM_PORT, startControlRoom } from '../../control-room/host.ts';
import { CONTROL_ROOM_SERVICE } from '../../control-room/uis.ts';
import { adminSocketPath, isAlive, readLiveStack, removeStackState, writeStackState } from '../../runtime/stack-state.ts';
import { CLI_BIN } from '../bin-path.ts';
import { parseCommandArgs, parsePortFlag, type Command } from '../command.ts';
import { formatControlRoom, formatIsolation, formatRestoredState, formatUrlTable, type ControlRoomAddress } from '../stack-view.ts';
import { TRACES_PORT } from '../../evidence/traces/collector.ts';

export const ATTACKER_PORT = 18011;
export const GATEWAY_PORT = 18008;
export const CHATBOT_PORT = 18009;
const GATEWAY_KEY = 'trustusbank-platform/trustusbank-agentgw';
const ATTACKER_KEY = 'external-attacker/mock-attacker';
const CHATBOT_KEY = 'trustusbank-bank-frontend/chatbot';
export const MODEL_ENV = 'TRUSTUSBANK_MODEL';
const DETACH_TIMEOUT_MS = 90_000;

const usage = `Usage: trustusbank up [--detach] [--data-dir DIR] [--model MODEL] [--control-room-port N] [--chatbot-port N]
                      [--attacker-port N] [--gateway-port N] [--agents-ui-port N] [--registry-port N] [--metrics-port N]
                      [--alertmanager-port N] [--inbox-port N] [--smtp-port N] [--dashboard-port N] [--traces-port N]
                      [--host-port NS/SERVICE=N]...

Start TrustUsBank: build the images, start the control plane and the node's ztunnel, apply
deploy/manifests/ (everything but policies/), wait until every pod is ready, and print the URL table.
Runs until Ctrl-C; with --detach it runs in the background until \`trustusbank down\`.
Logs: <data-dir>/logs/ (control-plane.log, ztunnel.log, pods/<namespace>/<pod>.log).

Options:
  --detach                  start in the background and return once everything is ready
  --data-dir DIR            state directory (default: ${DATA_DIR_ENV} or .trustusbank)
  --model MODEL             the agents' model (default: ${MODEL_ENV}, else scripted):
                              scripted            the offline, deterministic stand-in (no key, no network)
                              anthropic[:MODEL]   Anthropic's Messages API (ANTHROPIC_API_KEY)
                              openai[:MODEL]      OpenAI-compatible Chat Completions (OPENAI_API_KEY,
                                                  OPENAI_BASE_URL for Ollama, vLLM, LM Studio)
                              modelconfig         each Agent's ModelConfig exactly as written
  --control-room-port N     host port of the control room, the operator's console (default ${CONTROL_ROOM_PORT};
                            0 picks a free one); its URL carries this stack's token: \`trustusbank open\` opens it
  --chatbot-port N          host port of the bank's chat page (default ${CHATBOT_PORT}; 0 picks a free one)
  --attacker-port N         host port of the mock attacker (default ${ATTACKER_PORT}; 0 picks a free one)
  --gateway-port N          host port of the agent gateway (default ${GATEWAY_PORT}; 0 picks a free one)
  --agents-ui-port N        host port of the agents UI (default ${AGENTS_UI_PORT}; 0 picks a free one)
  --registry-port N         host port of the registry (default ${REGISTRY_PORT}; 0 picks a free one)
  --metrics-port N          host port of the cluster's Prometheus-compatible /metrics (default ${PROMETHEUS_PORT};
                            0 picks a free one; the PromQL API and /federate are served there too)
  --alertmanager-port N     host port of the Alertmanager API v2 (default ${ALERTMANAGER_PORT}; 0 picks a free one)
  --inbox-port N            host port of the SOC inbox's page and MailHog API (default ${INBOX_PORT}; 0 picks a free one)
  --smtp-port N             the SOC inbox's SMTP port (default ${SMTP_PORT}; 0 picks a free one)
  --dashboard-port N        host port of the DORA evidence dashboard (default ${DASHBOARD_PORT}; 0 picks a free one)
  --traces-port N           host port of the trace collector: Tempo's API, OTLP/HTTP JSON in (default ${TRACES_PORT}; 0 picks a free one)
  --host-port NS/SVC=N      move any other host port (repeatable)
  -h, --help                show this help`;

export const upCommand: Command = {
  name: 'up',
  summary: 'start the cluster and the bank (foreground, or --detach)',
  usage,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      {
        detach: { type: 'boolean' },
        'data-dir': { type: 'string' },
        model: { type: 'string' },
        'control-room-port': { type: 'string' },
        'chatbot-port': { type: 'string' },
        'attacker-port': { type: 'string' },
        'gateway-port': { type: 'string' },
        'agents-ui-port': { type: 'string' },
        'registry-port': { type: 'string' },
        'metrics-port': { type: 'string' },
        'alertmanager-port': { type: 'string' },
        'inbox-port': { type: 'string' },
        'smtp-port': { type: 'string' },
        'dashboard-port': { type: 'string' },
        'traces-port': { type: 'string' },
        'host-port': { type: 'string', multiple: true },
      },
      usage,
    );
    if (positionals.length > 0) throw new UserError(`unexpected argument "${positionals[0]}"; see trustusbank up --help`, 2);
    // Everything `up` and its pods (which inherit the mask) write is customer data or keys: owner only.
    restrictUmask();
    const dataDir = ensurePrivateDir(resolveDataDir(values['data-dir']));
    const hostPorts: Record<string, number> = {
      [CHATBOT_KEY]: parsePortFlag(values['chatbot-port'], '--chatbot-port', CHATBOT_PORT, usage),
      [ATTACKER_KEY]: parsePortFlag(values['attacker-port'], '--attacker-port', ATTACKER_PORT, usage),
      [GATEWAY_KEY]: parsePortFlag(values['gateway-port'], '--gateway-port', GATEWAY_PORT, usage),
    };
    for (const entry of (values['host-port'] as string[] | undefined) ?? []) {
      const match = /^([a-z0-9-]+\/[a-z0-9-]+)=(\d+)$/.exec(entry);
      if (!match) throw new UserError(`--host-port takes NAMESPACE/SERVICE=PORT, got "${entry}"`, 2);
      hostPorts[match[1]!] = parsePortFlag(match[2], '--host-port', 0, usage);
    }
    const model = modelFromFlags(values.model, process.env);
    const agentsUiPort = parsePortFlag(values['agents-ui-port'], '--agents-ui-port', AGENTS_UI_PORT, usage);
    const registryPort = parsePortFlag(values['registry-port'], '--registry-port', REGISTRY_PORT, usage);
    const metricsPort = parsePortFlag(values['metrics-port'], '--metrics-port', PROMETHEUS_PORT, usage);
    const alertmanagerPort = parsePortFlag(values['alertmanager-port'], '--alertmanager-port', ALERTMANAGER_PORT, usage);
    const inboxPort = parsePortFlag(values['inbox-port'], '--inbox-port', INBOX_PORT, usage);
    const smtpPort = parsePortFlag(values['smtp-port'], '--smtp-port', SMTP_PORT, usage);
    const controlRoomPort = parsePortFlag(values['control-room-port'], '--control-room-port', CONTROL_ROOM_PORT, usage);
    const dashboardPort = parsePortFlag(values['dashboard-port'], '--dashboard-port', DASHBOARD_PORT, usage);
    const tracesPort = parsePortFlag(values['traces-port'], '--traces-port', TRACES_PORT, usage);
    const running = readLiveStack(dataDir);
    if (running) throw new UserError(`TrustUsBank is already running from this data directory (pid ${running.pid}); stop it with \`trustusbank down\``);
    if (values.detach) return detach(dataDir, argv.filter((arg) => arg !== '--detach'));
    return foreground(dataDir, hostPorts, model, controlRoomPort, { agentsUiPort, registryPort, metricsPort, alertmanagerPort, inboxPort, smtpPort, dashboardPort, tracesPort });
  },
};

/** The model from --model or the environment; a real provider without its key fails here, before anything starts. */
export function modelFromFlags(flag: string | undefined, env: NodeJS.ProcessEnv): ModelChoice {
  const choice = parseModelChoice(flag ?? env[MODEL_ENV]);
  if (choice instanceof Error) throw new UserError(`${flag !== undefined ? '--model' : MODEL_ENV}: ${choice.message}`, 2);
  if (choice.mode === 'provider' && choice.provider === 'anthropic' && !env.ANTHROPIC_API_KEY) {
    throw new UserError('--model anthropic needs ANTHROPIC_API_KEY in the environment (or use the offline --model scripted)', 2);
  }
  if (choice.mode === 'provider' && choice.provider === 'openai' && !env.OPENAI_API_KEY && !env.OPENAI_BASE_URL) {
    throw new UserError('--model openai needs OPENAI_API_KEY, or OPENAI_BASE_URL for a local server such as Ollama (or use the offline --model scripted)', 2);
  }
  return choice;
}

async function foreground(dataDir: string, hostPorts: Record<string, number>, model: ModelChoice, controlRoomPort: number, ports: { agentsUiPort: number; registryPort: number; metricsPort: number; alertmanagerPort: number; inboxPort: number; smtpPort: number; dashboardPort: number; tracesPort: number }): Promise<number> {
  // Listen for Ctrl-C before anything starts: a signal that arrived before the handler would take the
  // default action and leave pods behind.
  const stop = stopSignal();
  const started = new Date();
  console.log(`Starting TrustUsBank (data in ${dataDir})…`);
  const cluster = await startCluster({ dataDir, hostPorts, model, ...ports, hostPortFlags: { [CHATBOT_KEY]: '--chatbot-port N', [ATTACKER_KEY]: '--attacker-port N', [GATEWAY_KEY]: '--gateway-port N' } });
  const socket = adminSocketPath(dataDir);
  const routes = adminRoutes(cluster, started);
  // The operator's console runs the same admin operations in-process; it is part of `up`, not a pod.
  const controlRoom = await startControlRoom({ routes, dataDir, port: controlRoomPort, log: cluster.log }).catch(async (error: unknown) => {
    await cluster.close();
    throw error;
  });
  cluster.forwards.unshift({ namespace: 'trustusbank-platform', service: CONTROL_ROOM_SERVICE, port: controlRoom.port, url: controlRoom.url });
  // `trustusbank open` asks here for the address with the token (the admin API answers only this user).
  routes['GET /control-room'] = (): ControlRoomAddress => ({ url: controlRoom.url, tokenUrl: controlRoom.tokenUrl });
  const admin = await serveAdminApi(socket, routes).catch(async (error: unknown) => {
    await controlRoom.close();
    await cluster.close();
    throw error;
  });
  const shutdown = async (): Promise<void> => {
    await new Promise<void>((resolve) => admin.close(() => resolve()));
    await controlRoom.close();
    await cluster.close();
    removeStackState(dataDir, process.pid);
  };
  if (stop.received) {
    console.log(`${stop.received} during start-up: stopping…`);
    await shutdown();
    return 0;
  }
  writeStackState(dataDir, { pid: process.pid, started_at: started.toISOString(), data_dir: dataDir, socket, ready: true });
  const status = await callAdminApi<StackStatus>(socket, 'GET', '/status');
  console.log(`Ready in ${((Date.now() - started.getTime()) / 1000).toFixed(1)} s: ${status.pods.length} pods, all with SPIFFE identities, every connection through ztunnel.\n`);
  console.log(formatUrlTable(status));
  console.log(`\n${formatControlRoom({ url: controlRoom.url, tokenUrl: controlRoom.tokenUrl }, process.stdout.isTTY === true)}`);
  console.log(`\nAgents' model: ${status.model}.`);
  console.log(formatIsolation(status));
  if (status.restoredState) console.log(formatRestoredState(status));
  console.log('\n`trustusbank status` lists the pods and policies; Ctrl-C (or `trustusbank down`) stops everything.');
  const signal = await stop.signal;
  console.log(`\n${signal}: stopping…`);
  await shutdown();
  console.log('Stopped.');
  return 0;
}

async function detach(dataDir: string, args: string[]): Promise<number> {
  const logFile = join(ensureDir(join(dataDir, 'logs')), 'up.log');
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, [CLI_BIN, 'up', ...args, '--data-dir', dataDir], { detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  child.unref();
  // A child that died stays a zombie until reaped, and kill(pid, 0) still succeeds on it: watch its exit.
  let exited = false;
  child.once('exit', () => (exited = true));
  console.log(`Starting TrustUsBank in the background (pid ${child.pid}, log ${logFile})…`);
  const deadline = Date.now() + DETACH_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const stack = readLiveStack(dataDir);
    if (stack?.ready && stack.pid === child.pid) {
      const status = await callAdminApi<StackStatus>(stack.socket, 'GET', '/status');
      console.log(`Ready: ${status.pods.length} pods. ${formatIsolation(status)}`);
      if (status.restoredState) console.log(formatRestoredState(status));
      console.log('');
      console.log(formatUrlTable(status));
      const controlRoom = await callAdminApi<ControlRoomAddress>(stack.socket, 'GET', '/control-room');
      console.log(`\n${formatControlRoom(controlRoom, process.stdout.isTTY === true)}`);
      console.log('\n`trustusbank status` lists the pods; `trustusbank down` stops everything.');
      return 0;
    }
    if (exited || child.pid === undefined || !isAlive(child.pid)) {
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-8).join('\n  ');
      throw new UserError(`TrustUsBank did not start:\n  ${tail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new UserError(`TrustUsBank was not ready after ${DETACH_TIMEOUT_MS / 1000} s; see ${logFile}`);
}

interface StopSignal {
  signal: Promise<string>;
  received?: string;
}

function stopSignal(): StopSignal {
  const stop: StopSignal = {
    signal: new Promise<string>((resolve) => {
      const on = (name: string) => () => {
        stop.received ??= name;
        resolve(name);
      };
      process.once('SIGINT', on('SIGINT'));
      process.once('SIGTERM', on('SIGTERM'));
    }),
  };
  return stop;
}

