// The egress controller: watches the mesh config (ConfigMap istio-system/istio, its outboundTrafficPolicy) and the
// ServiceEntries, and pushes the outbound mode and the registered hosts to the data plane on each change, as
// istiod pushes them to ztunnel. ztunnel's decision per connection reads what was pushed, not the store.
import type { OutboundMode, RegisteredHost } from '../../mesh/ztunnel/egress.ts';
import { egressRegistry } from '../mesh-config.ts';
import type { ResourceStore } from '../store.ts';

export class EgressController {
  constructor(
    private readonly store: Pick<ResourceStore, 'list' | 'watchKind'>,
    private readonly sink: { setEgress(mode: OutboundMode, hosts: readonly RegisteredHost[]): void },
  ) {
    store.watchKind('ConfigMap', () => this.push());
    store.watchKind('ServiceEntry', () => this.push());
    this.push();
  }

  private push(): void {
    const registry = egressRegistry([...this.store.list('ConfigMap'), ...this.store.list('ServiceEntry')].map((l) => l.resource));
    this.sink.setEgress(registry.mode, registry.hosts);
  }
}
