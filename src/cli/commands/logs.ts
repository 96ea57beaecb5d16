// `trustusbank logs`: a workload's pod logs, or the control plane's and ztunnel's, from the data directory.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_DIR_ENV, resolveDataDir } from '../../core/data-dir.ts';
import { UsageError, UserError } from '../../core/errors.ts';
import { parseCommandArgs, type Command } from '../command.ts';

const usage = `Usage: trustusbank logs -n NAMESPACE <workload> [--tail N] [--data-dir DIR]
       trustusbank logs ztunnel|agentgateway|waypoint|control-plane [--tail N]

Print the logs of a workload's pods (newest pod last), or of ztunnel (its access log: one
"connection complete" line per connection, with both identities and any policy rejection), of the agent
gateway (one "request" line per request: caller identity, route, MCP method, tool, status, reason; tool
drift), of the waypoints, or of the control plane. Lines are JSON.

Options:
  -n, --namespace NS   the workload's namespace
  --tail N             only the last N lines of each log
  --data-dir DIR       state directory (default: ${DATA_DIR_ENV} or .trustusbank)
  -h, --help           show this help`;

export const logsCommand: Command = {
  name: 'logs',
  summary: "print a workload's, ztunnel's, the gateway's or the control plane's logs",
  usage,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { namespace: { type: 'string', short: 'n' }, tail: { type: 'string' }, 'data-dir': { type: 'string' } }, usage);
    const [name, ...extra] = positionals;
    if (name === undefined) throw new UsageError('whose logs? name a workload (with -n NAMESPACE), ztunnel, agentgateway, waypoint or control-plane', usage);
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, usage);
    const tail = values.tail === undefined ? undefined : Number(values.tail);
    if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw new UsageError(`--tail takes a whole number, got "${values.tail}"`, usage);
    const logs = join(resolveDataDir(values['data-dir']), 'logs');
    let files: string[];
    if (['ztunnel', 'agentgateway', 'waypoint', 'control-plane'].includes(name) && values.namespace === undefined) {
      files = [join(logs, `${name}.log`)].filter((file) => existsSync(file));
    } else {
      if (values.namespace === undefined) throw new UsageError(`which namespace is ${name} in? give -n NAMESPACE`, usage);
      const dir = join(logs, 'pods', values.namespace);
      files = existsSync(dir)
        ? readdirSync(dir)
            .filter((file) => file.startsWith(`${name}-`) && file.endsWith('.log') && /^[a-f0-9]{8}-[a-z0-9]{5}\.log$/.test(file.slice(name.length + 1)))
            .map((file) => join(dir, file))
            .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs)
        : [];
    }
    if (files.length === 0) throw new UserError(`no logs for ${values.namespace ? `${values.namespace}/` : ''}${name} in ${logs}`);
    for (const file of files) {
      const lines = readFileSync(file, 'utf8').split('\n').filter((line) => line !== '');
      if (files.length > 1) console.log(`==> ${file} <==`);
      console.log((tail === undefined ? lines : lines.slice(-tail)).join('\n'));
    }
    return 0;
  },
};
