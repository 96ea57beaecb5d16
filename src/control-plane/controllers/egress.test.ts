import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { AuthorizationPolicyEngine } from '../../mesh/authz/index.ts';
import { DataPlaneState } from '../../mesh/ztunnel/data-plane.ts';
import { ResourceStore } from '../store.ts';
import { meshConfigController } from '../mesh-config.ts';
import { EgressController } from './egress.ts';

const namespaces = ['istio-system', 'trustusbank-bank-agents', 'trustusbank-bank-vendors'].map((n) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${n}`).join('\n---\n');
// The shipped egress layer, its two documents applied one at a time: the mesh config, then the ServiceEntry.
const SHIPPED = join(import.meta.dirname, '..', '..', '..', 'deploy', 'manifests', 'policies', 'mesh', 'outbound-registry-only.yaml');
const [registryOnly, providers] = readFileSync(SHIPPED, 'utf8').split(/^---$/m) as [string, string];

describe('EgressController: the mesh config and ServiceEntries → the data plane egress decision', () => {
  it('lets everything out until REGISTRY_ONLY is applied, then only what a ServiceEntry visible to the source registers', () => {
    const store = new ResourceStore({ log: silentLogger, controllers: [meshConfigController] });
    store.apply([{ file: 'ns.yaml', text: namespaces }]);
    const plane = new DataPlaneState(new AuthorizationPolicyEngine());
    new EgressController(store, plane);
    const agent = { sourceNamespace: 'trustusbank-bank-agents', host: 'api.anthropic.com', port: 443 };
    const vendor = { sourceNamespace: 'trustusbank-bank-vendors', host: 'api.anthropic.com', port: 443 };
    expect(plane.egress(vendor).allow).toBe(true);

    store.apply([{ file: 'mesh.yaml', text: registryOnly }]);
    expect(plane.egress(agent).allow).toBe(false);
    store.apply([{ file: 'egress.yaml', text: providers }]);
    expect(plane.egress(agent)).toEqual({ allow: true, entry: 'trustusbank-bank-agents/model-providers' });
    expect(plane.egress(vendor).allow).toBe(false);
    expect(plane.egress({ ...agent, port: 80 }).allow).toBe(false);

    store.delete([{ file: 'mesh.yaml', text: registryOnly }]);
    expect(plane.egress(vendor).allow).toBe(true);
  });
});
