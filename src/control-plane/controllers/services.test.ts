import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { ResourceStore } from '../store.ts';
import { AuthorizationPolicyEngine } from '../../mesh/authz/index.ts';
import { DataPlaneState, type PushedService } from '../../mesh/ztunnel/data-plane.ts';
import { ServiceController, type DnsRecords } from './services.ts';

const ns = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}`;
const svc = (name: string, namespace: string, port = 80) =>
  `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\nspec:\n  selector:\n    app: ${name}\n  ports:\n  - name: http\n    port: ${port}\n    targetPort: http`;

function setUp() {
  const store = new ResourceStore({ log: silentLogger });
  store.apply([{ file: 'ns.yaml', text: [ns('bank'), ns('tools')].join('\n---\n') }]);
  // What the Services are is asked of the data plane they are pushed to, as ztunnel asks it.
  const dataPlane = new DataPlaneState(new AuthorizationPolicyEngine());
  const services = new ServiceController(store, dataPlane);
  const pushed: DnsRecords[] = [];
  services.onDns((dns) => pushed.push(dns));
  const lookup = (host: string, fromNamespace: string) => dataPlane.service(host, fromNamespace) as PushedService | undefined;
  return { store, services, pushed, lookup };
}

describe('ServiceController: Services → cluster addresses and DNS', () => {
  it('gives each Service a cluster IP and a DNS record, resolvable by IP and by every short name', () => {
    const { store, pushed, lookup } = setUp();
    store.apply([{ file: 's.yaml', text: [svc('web', 'bank'), svc('fx', 'tools', 8080)].join('\n---\n') }]);
    const web = lookup('web', 'bank')!;
    expect(web).toMatchObject({ hostname: 'web.bank.svc.cluster.local', ports: [{ name: 'http', port: 80, targetPort: 'http' }], selector: { app: 'web' } });
    expect(web.clusterIp).toMatch(/^10\.96\./);
    expect(lookup(web.clusterIp, 'elsewhere')).toBe(web);
    expect(lookup('web.bank', 'tools')).toBe(web);
    expect(lookup('web', 'tools')).toBeUndefined();
    expect(web.selector).toEqual({ app: 'web' });
    expect(pushed.at(-1)).toEqual({ 'web.bank.svc.cluster.local': web.clusterIp, 'fx.tools.svc.cluster.local': lookup('fx', 'tools')!.clusterIp });
  });

  it('keeps an address while its Service lives, frees it when it goes, and pushes DNS only when the records change', () => {
    const { store, services, pushed, lookup } = setUp();
    store.apply([{ file: 's.yaml', text: svc('web', 'bank') }]);
    const ip = lookup('web', 'bank')!.clusterIp;
    const before = pushed.length;
    store.apply([{ file: 's.yaml', text: svc('web', 'bank', 81) }]);
    expect(lookup('web', 'bank')!.clusterIp).toBe(ip);
    expect(pushed).toHaveLength(before);
    store.apply([{ file: 'ns.yaml', text: ns('other') }]);
    expect(pushed).toHaveLength(before);
    store.delete([{ file: 's.yaml', text: svc('web', 'bank', 81) }]);
    expect(lookup('web', 'bank')).toBeUndefined();
    expect(pushed.at(-1)).toEqual({});
    expect(services.records()).toEqual({});
  });

  it("provisions the control plane's own Services; a user's Service of the same name wins; removing one frees its name", () => {
    const { store, services, lookup } = setUp();
    services.setProvisioned('tools', 'gw', { ports: [{ port: 8080, targetPort: 8080 }], selector: { gateway: 'gw' } });
    expect(lookup('gw', 'tools')).toMatchObject({ selector: { gateway: 'gw' }, labels: {} });
    store.apply([{ file: 'user.yaml', text: svc('gw', 'tools', 9000) }]);
    expect(lookup('gw', 'tools')).toMatchObject({ selector: { app: 'gw' }, ports: [{ port: 9000 }] });
    store.delete([{ file: 'user.yaml', text: svc('gw', 'tools', 9000) }]);
    expect(lookup('gw', 'tools')).toMatchObject({ selector: { gateway: 'gw' } });
    services.setProvisioned('tools', 'gw', undefined);
    expect(lookup('gw', 'tools')).toBeUndefined();
    expect(services.all()).toEqual([]);
  });
});
