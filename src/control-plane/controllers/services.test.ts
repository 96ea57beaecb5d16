import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { ResourceStore } from '../store.ts';
import { ServiceController, type DnsRecords } from './services.ts';

const ns = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}`;
const svc = (name: string, namespace: string, port = 80) =>
  `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\nspec:\n  selector:\n    app: ${name}\n  ports:\n  - name: http\n    port: ${port}\n    targetPort: http`;

function setUp() {
  const store = new ResourceStore({ log: silentLogger });
  store.apply([{ file: 'ns.yaml', text: [ns('bank'), ns('tools')].join('\n---\n') }]);
  const services = new ServiceController(store);
  const pushed: DnsRecords[] = [];
  services.onDns((dns) => pushed.push(dns));
  return { store, services, pushed };
}

describe('ServiceController: Services → cluster addresses and DNS', () => {
  it('gives each Service a cluster IP and a DNS record, resolvable by IP and by every short name', () => {
    const { store, services, pushed } = setUp();
    store.apply([{ file: 's.yaml', text: [svc('web', 'bank'), svc('fx', 'tools', 8080)].join('\n---\n') }]);
    const web = services.lookup('web', 'bank')!;
    expect(web).toMatchObject({ hostname: 'web.bank.svc.cluster.local', ports: [{ name: 'http', port: 80, targetPort: 'http' }], selector: { app: 'web' } });
    expect(web.clusterIp).toMatch(/^10\.96\./);
    expect(services.lookup(web.clusterIp, 'elsewhere')).toBe(web);
    expect(services.lookup('web.bank', 'tools')).toBe(web);
    expect(services.lookup('web', 'tools')).toBeUndefined();
    expect(services.selectorOf(web)).toEqual({ app: 'web' });
    expect(pushed.at(-1)).toEqual({ 'web.bank.svc.cluster.local': web.clusterIp, 'fx.tools.svc.cluster.local': services.lookup('fx', 'tools')!.clusterIp });
  });

  it('keeps an address while its Service lives, frees it when it goes, and pushes DNS only when the records change', () => {
    const { store, services, pushed } = setUp();
    store.apply([{ file: 's.yaml', text: svc('web', 'bank') }]);
    const ip = services.lookup('web', 'bank')!.clusterIp;
    const before = pushed.length;
    store.apply([{ file: 's.yaml', text: svc('web', 'bank', 81) }]);
    expect(services.lookup('web', 'bank')!.clusterIp).toBe(ip);
    expect(pushed).toHaveLength(before);
    store.apply([{ file: 'ns.yaml', text: ns('other') }]);
    expect(pushed).toHaveLength(before);
    store.delete([{ file: 's.yaml', text: svc('web', 'bank', 81) }]);
    expect(services.lookup('web', 'bank')).toBeUndefined();
    expect(pushed.at(-1)).toEqual({});
    expect(services.records()).toEqual({});
  });

  it("provisions the control plane's own Services; a user's Service of the same name wins; removing one frees its name", () => {
    const { store, services } = setUp();
    services.setProvisioned('tools', 'gw', { ports: [{ port: 8080, targetPort: 8080 }], selector: { gateway: 'gw' } });
    expect(services.lookup('gw', 'tools')).toMatchObject({ selector: { gateway: 'gw' }, labels: {} });
    store.apply([{ file: 'user.yaml', text: svc('gw', 'tools', 9000) }]);
    expect(services.lookup('gw', 'tools')).toMatchObject({ selector: { app: 'gw' }, ports: [{ port: 9000 }] });
    store.delete([{ file: 'user.yaml', text: svc('gw', 'tools', 9000) }]);
    expect(services.lookup('gw', 'tools')).toMatchObject({ selector: { gateway: 'gw' } });
    services.setProvisioned('tools', 'gw', undefined);
    expect(services.lookup('gw', 'tools')).toBeUndefined();
    expect(services.all()).toEqual([]);
  });
});
