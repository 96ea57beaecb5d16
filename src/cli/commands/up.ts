// `trustusbank up`: start the bank's workloads and keep them running until Ctrl-C.
import { createServer } from 'node:net';
import { join } from 'node:path';
import { WORKLOADS } from '../../../apps/catalog.ts';
import { DATA_DIR_ENV, ensureDir, resolveDataDir } from '../../core/data-dir.ts';
import { UserError, errorMessage } from '../../core/errors.ts';
import { describeExit, startProcess, type ManagedProcess } from '../../runtime/supervisor.ts';
import { readLiveStack, removeStackState, writeStackState, type StackWorkload } from '../../runtime/stack-state.ts';
import { parseCommandArgs, parsePortFlag, type Command } from '../command.ts';
import { formatTable } from '../table.ts';

export const ATTACKER_PORT = 18011;

const usage = `Usage: trustusbank up [--data-dir DIR] [--attacker-port N]

Start the bank's workloads (the MCP tool servers, the vendor's currency converter and the mock attacker)
as child processes, print where each one listens, and keep them running until Ctrl-C or \`trustusbank down\`.
Logs go to <data-dir>/logs/<workload>.log.

Options:
  --data-dir DIR       state directory (default: ${DATA_DIR_ENV} or .trustusbank)
  --attacker-port N    host port of the mock attacker's page and receiver (default ${ATTACKER_PORT}; 0 picks a free one)
  -h, --help           show this help`;

export const upCommand: Command = {
  name: 'up',
  summary: 'start the bank and keep it running until Ctrl-C',
  usage,
  async run(argv) {
    const { values, positionals, help } = parseCommandArgs(argv, { 'data-dir': { type: 'string' }, 'attacker-port': { type: 'string' } }, usage);
    if (help) {
      console.log(usage);
      return 0;
    }
    if (positionals.length > 0) throw new UserError(`unexpected argument "${positionals[0]}"; see trustusbank up --help`, 2);
    const attackerPort = parsePortFlag(values['attacker-port'], '--attacker-port', ATTACKER_PORT, usage);
    const dataDir = ensureDir(resolveDataDir(values['data-dir']));

    const running = readLiveStack(dataDir);
    if (running) throw new UserError(`TrustUsBank is already running from this data directory (pid ${running.pid}); stop it with \`trustusbank down\``);
    await assertPortFree(attackerPort, '--attacker-port N');

    // Listen for Ctrl-C before anything starts: a signal that arrived before the handler would take the
    // default action, killing this process and leaving its workloads behind.
    const stopRequested = stopSignal();
    const fixedPorts: Record<string, number> = { 'mock-attacker': attackerPort };
    console.log(`Starting ${WORKLOADS.length} workloads (data in ${dataDir})…`);
    const started = Date.now();
    const results = await Promise.allSettled(
      WORKLOADS.map((workload) =>
        startProcess({
          name: workload.name,
          args: ['workload', workload.name, '--port', String(fixedPorts[workload.name] ?? 0), '--data-dir', dataDir],
          env: { ...process.env, [DATA_DIR_ENV]: dataDir },
          logFile: join(dataDir, 'logs', `${workload.name}.log`),
        }),
      ),
    );
    const processes = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failures = results.flatMap((result) => (result.status === 'rejected' ? [errorMessage(result.reason)] : []));
    if (failures.length > 0) {
      await Promise.all(processes.map((p) => p.stop()));
      throw new UserError(`could not start the bank:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
    }
    if (stopRequested.received !== undefined) {
      console.log(`${stopRequested.received} during start-up: stopping…`);
      await Promise.all(processes.map((p) => p.stop()));
      return 0;
    }

    const workloads: StackWorkload[] = WORKLOADS.map((workload, i) => ({
      name: workload.name,
      image: workload.image,
      variant: workload.defaultVariant,
      pid: processes[i]!.pid,
      url: processes[i]!.url,
      log_file: join(dataDir, 'logs', `${workload.name}.log`),
    }));
    writeStackState(dataDir, { pid: process.pid, started_at: new Date().toISOString(), data_dir: dataDir, workloads });

    console.log(`Ready in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`);
    console.log(formatTable(['WORKLOAD', 'IMAGE', 'URL'], workloads.map((w) => [w.name, w.image, endpointUrl(w)])));
    console.log(
      '\nThe workloads run as plain local processes for now: the mesh, the gateway and the agents are not part of this stack yet.' +
        '\nCtrl-C (or `trustusbank down`) stops everything.',
    );

    await supervise(processes, stopRequested.signal);
    removeStackState(dataDir, process.pid);
    console.log('Stopped.');
    return 0;
  },
};

function endpointUrl(workload: StackWorkload): string {
  return workload.name.endsWith('-mcp') || workload.name === 'currency-converter' ? `${workload.url}/mcp` : `${workload.url}/`;
}

interface StopSignal {
  signal: Promise<string>;
  /** The signal's name once one has arrived. */
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

/** Wait for the stop signal, reporting any workload that dies meanwhile; then stop them all. */
async function supervise(processes: ManagedProcess[], stopRequested: Promise<string>): Promise<void> {
  let stopping = false;
  for (const p of processes) {
    void p.exited.then((status) => {
      if (!stopping) console.error(`${p.name} stopped unexpectedly (${describeExit(status)}); its log has the reason.`);
    });
  }
  const signal = await stopRequested;
  stopping = true;
  console.log(`\n${signal}: stopping ${processes.length} workloads…`);
  await Promise.all(processes.map((p) => p.stop()));
}

function assertPortFree(port: number, flag: string): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new UserError(`port ${port} on 127.0.0.1 is already in use; choose another with ${flag}`) : error),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}
