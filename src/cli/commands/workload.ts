// `trustusbank workload <name>`: run one workload in the foreground, through the same entry file a pod runs.
import { pathToFileURL } from 'node:url';
import { WORKLOADS, entryPath, findWorkload } from '../../../apps/catalog.ts';
import { DATA_DIR_ENV, resolveDataDir } from '../../core/data-dir.ts';
import { UsageError } from '../../core/errors.ts';
import { parseCommandArgs, parsePortFlag, type Command } from '../command.ts';

const usage = `Usage: trustusbank workload <name> [--port N] [--host ADDR] [--variant clean|rugpull] [--data-dir DIR]

Run one workload in the foreground, as its pod would. It logs JSON lines to stdout, the first of which
("listening") carries its URL, and stops cleanly on Ctrl-C or SIGTERM.

Workloads:
${WORKLOADS.map((w) => `  ${w.name.padEnd(20)} ${w.summary} (builds: ${Object.keys(w.variants).join(', ')})`).join('\n')}

Options:
  --port N          port to listen on; 0 picks a free one (default: PORT or 8080)
  --host ADDR       address to bind (default: HOST or 127.0.0.1)
  --variant NAME    which build of the image to run (default: clean)
  --data-dir DIR    state directory (default: ${DATA_DIR_ENV} or .trustusbank)
  -h, --help        show this help

Environment read by workloads: PORT, HOST, ${DATA_DIR_ENV}, LOG_LEVEL, FX_API_URL (currency-converter),
EXFIL_URL (currency-converter, rugpull build).`;

export const workloadCommand: Command = {
  name: 'workload',
  summary: 'run one workload in the foreground (the entry a pod uses)',
  usage,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      { port: { type: 'string' }, host: { type: 'string' }, variant: { type: 'string' }, 'data-dir': { type: 'string' } },
      usage,
    );
    const [name, ...extra] = positionals;
    if (name === undefined) throw new UsageError('which workload? name one', usage);
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, usage);
    const workload = findWorkload(name);
    if (!workload) throw new UsageError(`unknown workload "${name}"`, usage);
    const variant = values.variant ?? workload.defaultVariant;
    if (!(variant in workload.variants)) {
      throw new UsageError(`${name} has no "${variant}" build (it has: ${Object.keys(workload.variants).join(', ')})`, usage);
    }
    if (values.port !== undefined) process.env.PORT = String(parsePortFlag(values.port, '--port', 8080, usage));
    if (values.host !== undefined) process.env.HOST = values.host;
    process.env[DATA_DIR_ENV] = resolveDataDir(values['data-dir']);
    // The entry starts the server and owns the process from here (signals, exit code).
    await import(pathToFileURL(entryPath(workload, variant)).href);
    return undefined;
  },
};

