// `trustusbank status`: what the running stack is, and whether each workload answers its health check.
import { DATA_DIR_ENV, resolveDataDir } from '../../core/data-dir.ts';
import { UserError } from '../../core/errors.ts';
import { readLiveStack } from '../../runtime/stack-state.ts';
import { parseCommandArgs, type Command } from '../command.ts';
import { formatTable } from '../table.ts';

const usage = `Usage: trustusbank status [--data-dir DIR] [--json]

Show the running stack and each workload's health. Exit code 0 when running, 3 when not.

Options:
  --data-dir DIR   state directory (default: ${DATA_DIR_ENV} or .trustusbank)
  --json           print the status as JSON
  -h, --help       show this help`;

export const statusCommand: Command = {
  name: 'status',
  summary: 'show the running stack and its health',
  usage,
  async run(argv) {
    const { values, positionals, help } = parseCommandArgs(argv, { 'data-dir': { type: 'string' }, json: { type: 'boolean' } }, usage);
    if (help) {
      console.log(usage);
      return 0;
    }
    if (positionals.length > 0) throw new UserError(`unexpected argument "${positionals[0]}"; see trustusbank status --help`, 2);
    const dataDir = resolveDataDir(values['data-dir']);
    const stack = readLiveStack(dataDir);
    if (!stack) {
      if (values.json) console.log(JSON.stringify({ running: false, data_dir: dataDir }));
      else console.log(`TrustUsBank is not running (data directory ${dataDir}). Start it with \`npm start\` or \`trustusbank up\`.`);
      return 3;
    }
    const health = await Promise.all(stack.workloads.map((w) => probe(w.url)));
    if (values.json) {
      console.log(JSON.stringify({ running: true, ...stack, workloads: stack.workloads.map((w, i) => ({ ...w, health: health[i] })) }, null, 2));
      return 0;
    }
    console.log(`TrustUsBank is running (pid ${stack.pid}, since ${stack.started_at}, data in ${stack.data_dir}).\n`);
    console.log(formatTable(['WORKLOAD', 'BUILD', 'HEALTH', 'URL'], stack.workloads.map((w, i) => [w.name, w.variant, health[i]!, w.url])));
    return 0;
  },
};

async function probe(url: string): Promise<string> {
  try {
    const response = await fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.ok ? 'ready' : `unhealthy (${response.status})`;
  } catch {
    return 'unreachable';
  }
}
