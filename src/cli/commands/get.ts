// `trustusbank get <kind> [name]`: list resources of the running stack, as a table or as YAML/JSON.
import type { StackStatus } from '../../control-plane/admin-routes.ts';
import { UsageError } from '../../core/errors.ts';
import { formatResources } from '../../manifests/index.ts';
import type { KnownResource } from '../../manifests/types.ts';
import { dataDirHelp, stackCommand } from '../stack-command.ts';
import { formatPodTable } from '../stack-view.ts';
import { formatTable } from '../table.ts';

const usage = `Usage: trustusbank get <kind> [name] [-n NAMESPACE | -A] [-o yaml|json] [--data-dir DIR]

List resources of the running stack. Kinds: namespaces (ns), serviceaccounts (sa), deployments (deploy),
services (svc), authorizationpolicies (ap), peerauthentications (pa), and pods (po: the running pods,
with their identity and image digest).

Options:
  -n, --namespace NS    only this namespace
  -A, --all-namespaces  every namespace (the default)
  -o, --output FORMAT   yaml or json instead of a table
${dataDirHelp(22)}
  -h, --help            show this help`;

export const getCommand = stackCommand({
  name: 'get',
  summary: 'list resources (namespaces, deployments, services, policies, pods)',
  usage,
  options: { namespace: { type: 'string', short: 'n' }, 'all-namespaces': { type: 'boolean', short: 'A' }, output: { type: 'string', short: 'o' } },
  maxPositionals: Infinity,
  async run({ values, positionals, stack }) {
    const [kindName, name, ...extra] = positionals;
    if (kindName === undefined) throw new UsageError('which kind? e.g. `trustusbank get pods`', usage);
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, usage);
    if (values.output !== undefined && values.output !== 'yaml' && values.output !== 'json') throw new UsageError(`-o takes yaml or json, got "${values.output}"`, usage);
    const namespace = values['all-namespaces'] ? undefined : values.namespace;

    if (['po', 'pod', 'pods'].includes(kindName)) {
      const status = await stack().call<StackStatus>('GET', '/status');
      const pods = status.pods.filter((p) => (namespace === undefined || p.namespace === namespace) && (name === undefined || p.name === name || p.workload === name));
      if (values.output) console.log(values.output === 'json' ? JSON.stringify(pods, null, 2) : pods.map((p) => JSON.stringify(p)).join('\n'));
      else console.log(formatPodTable({ ...status, pods }));
      return 0;
    }

    const query = new URLSearchParams({ kind: kindName, ...(namespace ? { namespace } : {}), ...(name ? { name } : {}) });
    const { kind, items } = await stack().call<{ kind: string; items: KnownResource[] }>('GET', `/resources?${query}`);
    if (values.output) {
      console.log(formatResources(items, values.output as 'yaml' | 'json'));
      return 0;
    }
    if (items.length === 0) {
      console.log(`No ${kind} resources${namespace ? ` in namespace ${namespace}` : ''}.`);
      return 0;
    }
    const namespaced = items.some((item) => item.metadata.namespace !== undefined);
    console.log(
      formatTable(
        [...(namespaced ? ['NAMESPACE'] : []), 'NAME', ...(kind === 'AuthorizationPolicy' ? ['ACTION'] : []), ...(kind === 'Deployment' ? ['IMAGE'] : [])],
        items.map((item) => [
          ...(namespaced ? [item.metadata.namespace ?? ''] : []),
          item.metadata.name,
          ...(item.kind === 'AuthorizationPolicy' ? [item.spec.action ?? 'ALLOW'] : []),
          ...(item.kind === 'Deployment' ? [item.spec.template.spec.containers[0].image] : []),
        ]),
      ),
    );
    return 0;
  },
});
