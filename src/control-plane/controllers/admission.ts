// The admission controller's policy state: watches the store's ClusterPolicies (Kyverno verifyImages) and keeps
// the set the admission check reads before each pod is created, as Kyverno's webhook holds the policies its
// controller loaded. The supply chain decides with what it was given; it never reads the store.
import type { ClusterPolicy } from '../../manifests/types.ts';
import type { ResourceStore } from '../store.ts';

export class AdmissionController {
  private current: ClusterPolicy[] = [];

  constructor(private readonly store: Pick<ResourceStore, 'list' | 'watchKind'>) {
    store.watchKind('ClusterPolicy', () => this.load());
    this.load();
  }

  /** The ClusterPolicies in force now. */
  policies(): ClusterPolicy[] {
    return this.current;
  }

  private load(): void {
    this.current = this.store.list('ClusterPolicy').map(({ resource }) => resource as ClusterPolicy);
  }
}
