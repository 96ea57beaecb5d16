// The Services controller: owns every Service's cluster address and the cluster DNS. It watches the store's
// Service resources, and holds the Services the control plane provisions itself (a Gateway's own Service);
// a change of the records is pushed to whoever serves DNS (the pods' capture layers). It knows no pods: which
// workloads a Service selects, and which Service a name or address means, are the data plane's questions,
// answered from the Services pushed to it (`DataPlaneState.service`, `endpoints`).
import { isDeepStrictEqual } from 'node:util';
import type { Service } from '../../manifests/types.ts';
import type { PushedService } from '../../mesh/ztunnel/data-plane.ts';
import type { MeshService } from '../../mesh/ztunnel/state.ts';
import { AddressPool } from '../addresses.ts';
import type { ResourceStore } from '../store.ts';

/** A Service as the mesh sees it, with the selector that picks its endpoints: what is pushed to the data plane. */
export type ClusterService = PushedService;

export interface ProvisionedService {
  ports: MeshService['ports'];
  selector: Record<string, string>;
  labels?: Record<string, string>;
}

export type DnsRecords = Record<string, string>;

export class ServiceController {
  private readonly addresses = new AddressPool('10.96');
  private services = new Map<string, ClusterService>();
  private readonly provisioned = new Map<string, Omit<ClusterService, 'hostname' | 'clusterIp'>>();
  private dns: DnsRecords = {};
  private readonly dnsWatchers = new Set<(dns: DnsRecords) => void>();

  constructor(
    private readonly store: Pick<ResourceStore, 'list' | 'watchKind'>,
    /** Where the Service set is pushed on every change (the data plane's state). */
    private readonly sink?: { setServices(services: readonly ClusterService[]): void },
  ) {
    store.watchKind('Service', () => this.reconcile());
    this.reconcile();
  }

  /** Provision (or, with `undefined`, remove) a Service the control plane owns; a user's Service of the same name wins. */
  setProvisioned(namespace: string, name: string, spec: ProvisionedService | undefined): void {
    const hostname = `${name}.${namespace}.svc.cluster.local`;
    if (spec) this.provisioned.set(hostname, { name, namespace, ports: spec.ports, labels: spec.labels ?? {}, selector: spec.selector });
    else this.provisioned.delete(hostname);
    this.reconcile();
  }

  all(): ClusterService[] {
    return [...this.services.values()];
  }

  /** The cluster DNS now: every Service's hostname → its cluster IP. */
  records(): DnsRecords {
    return { ...this.dns };
  }

  /** Hear of every change of the DNS records; returns the way to stop. */
  onDns(watcher: (dns: DnsRecords) => void): () => void {
    this.dnsWatchers.add(watcher);
    return () => this.dnsWatchers.delete(watcher);
  }

  private reconcile(): void {
    const services = new Map<string, ClusterService>();
    for (const { resource } of this.store.list('Service')) {
      const service = resource as Service;
      const namespace = service.metadata.namespace!;
      const hostname = `${service.metadata.name}.${namespace}.svc.cluster.local`;
      services.set(hostname, {
        name: service.metadata.name,
        namespace,
        hostname,
        clusterIp: this.addresses.assign(hostname),
        ports: service.spec.ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port, targetPort: p.targetPort ?? p.port })),
        labels: service.metadata.labels ?? {},
        selector: service.spec.selector ?? {},
      });
    }
    for (const [hostname, provisioned] of this.provisioned) {
      // A Service of the user's with the same name wins, as a controller would not overwrite it.
      if (!services.has(hostname)) services.set(hostname, { ...provisioned, hostname, clusterIp: this.addresses.assign(hostname) });
    }
    for (const hostname of this.services.keys()) if (!services.has(hostname)) this.addresses.release(hostname);
    this.services = services;
    this.sink?.setServices(this.all());
    const dns = Object.fromEntries([...services.values()].map((s) => [s.hostname, s.clusterIp]));
    if (isDeepStrictEqual(dns, this.dns)) return;
    this.dns = dns;
    for (const watcher of this.dnsWatchers) watcher(this.records());
  }
}
