// `trustusbank status`: the pods (identity, address, image and digest, readiness), host ports and policies.
import type { StackStatus } from '../../control-plane/admin-routes.ts';
import { callAdminApi } from '../../control-plane/admin-api.ts';
import { DATA_DIR_ENV, resolveDataDir } from '../../core/data-dir.ts';
import { UserError } from '../../core/errors.ts';
import { adminSocketPath, readLiveStack } from '../../runtime/stack-state.ts';
import { parseCommandArgs, type Command } from '../command.ts';
import { formatGateways, formatIsolation, formatPodTable, formatPolicies, formatUrlTable } from '../stack-view.ts';

const usage = `Usage: trustusbank status [--data-dir DIR] [--json]

Show the running stack: every pod with its namespace, SPIFFE identity, cluster address, image and digest
and readiness; the agent gateways and waypoints with their identities; the host ports; the AuthorizationPolicies in force and the workloads they apply to.
Exit code 0 when running, 3 when not.

Options:
  --data-dir DIR   state directory (default: ${DATA_DIR_ENV} or .trustusbank)
  --json           print the status as JSON
  -h, --help       show this help`;

export const statusCommand: Command = {
  name: 'status',
  summary: 'show the pods, identities, images and policies',
  usage,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { 'data-dir': { type: 'string' }, json: { type: 'boolean' } }, usage);
    if (positionals.length > 0) throw new UserError(`unexpected argument "${positionals[0]}"; see trustusbank status --help`, 2);
    const dataDir = resolveDataDir(values['data-dir']);
    if (!readLiveStack(dataDir)) {
      if (values.json) console.log(JSON.stringify({ running: false, dataDir }));
      else console.log(`TrustUsBank is not running (data directory ${dataDir}). Start it with \`npm start\` or \`trustusbank up --detach\`.`);
      return 3;
    }
    const status = await callAdminApi<StackStatus>(adminSocketPath(dataDir), 'GET', '/status');
    if (values.json) {
      console.log(JSON.stringify({ running: true, ...status }, null, 2));
      return 0;
    }
    console.log(`TrustUsBank is running (pid ${status.pid}, since ${status.startedAt}, data in ${status.dataDir}).\n`);
    console.log(formatPodTable(status));
    console.log('\nGateways and waypoints (built-in proxies):');
    console.log(formatGateways(status));
    console.log('\nHost ports:');
    console.log(formatUrlTable(status));
    console.log(`\nAgents' model: ${status.model}.`);
    console.log(formatIsolation(status));
    console.log('\nAuthorizationPolicies:');
    console.log(formatPolicies(status));
    if (status.pods.some((p) => p.nativeAddons)) {
      console.log(`\nPods allowed native addons (outside Node's permission model): ${status.pods.filter((p) => p.nativeAddons).map((p) => p.workload).join(', ')}`);
    }
    return 0;
  },
};
