// `trustusbank down`: stop a stack started with `up` from another terminal.
import { DATA_DIR_ENV, resolveDataDir } from '../../core/data-dir.ts';
import { UserError } from '../../core/errors.ts';
import { isAlive, readLiveStack } from '../../runtime/stack-state.ts';
import { parseCommandArgs, type Command } from '../command.ts';

const usage = `Usage: trustusbank down [--data-dir DIR]

Stop the stack that \`trustusbank up\` (or \`npm start\`) started from this data directory.

Options:
  --data-dir DIR   state directory (default: ${DATA_DIR_ENV} or .trustusbank)
  -h, --help       show this help`;

const STOP_TIMEOUT_MS = 15_000;

export const downCommand: Command = {
  name: 'down',
  summary: 'stop the running stack and every pod',
  usage,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { 'data-dir': { type: 'string' } }, usage);
    if (positionals.length > 0) throw new UserError(`unexpected argument "${positionals[0]}"; see trustusbank down --help`, 2);
    const dataDir = resolveDataDir(values['data-dir']);
    const stack = readLiveStack(dataDir);
    if (!stack) {
      console.log('TrustUsBank is not running; nothing to stop.');
      return 0;
    }
    console.log(`Stopping TrustUsBank (pid ${stack.pid})…`);
    process.kill(stack.pid, 'SIGTERM');
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (isAlive(stack.pid)) {
      if (Date.now() > deadline) throw new UserError(`pid ${stack.pid} is still running after ${STOP_TIMEOUT_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    console.log('Stopped.');
    return 0;
  },
};
