// The AuthorizationPolicy controller: watches the store's AuthorizationPolicies (applied and generated) and pushes
// the whole set to the data plane's policy state, as istiod pushes them to ztunnel and the waypoints over xDS.
// The data plane decides with what it was pushed last; it never reads the store. After each push the listeners
// hear of it (the connection manager re-checks the tunnels already open).
import type { AuthorizationPolicy } from '../../manifests/types.ts';
import type { PolicyWarning } from '../../mesh/authz/index.ts';
import type { ResourceStore } from '../store.ts';

export interface PushedPolicy {
  namespace: string;
  name: string;
  spec: AuthorizationPolicy['spec'];
}

/** Where the policies go: the data plane's policy state (ztunnel's and the waypoints' AuthorizationPolicyEngine). */
export interface PolicySink {
  setPolicies(policies: readonly PushedPolicy[]): PolicyWarning[];
}

export class PolicyController {
  private last: PolicyWarning[] = [];
  private readonly pushWatchers = new Set<() => void>();
  private version = 0;

  constructor(
    private readonly store: Pick<ResourceStore, 'list' | 'watchKind'>,
    private readonly sink: PolicySink,
  ) {
    store.watchKind('AuthorizationPolicy', () => this.push());
    this.push();
  }

  /** What the last push warned of (a rule that can never match, ...), in words. */
  get warnings(): string[] {
    return this.last.map((warning) => warning.message);
  }

  /** How many pushes were made: a version, as xDS keeps one per resource type. */
  get pushes(): number {
    return this.version;
  }

  /** Hear of every push; returns the way to stop. */
  onPush(watcher: () => void): () => void {
    this.pushWatchers.add(watcher);
    return () => this.pushWatchers.delete(watcher);
  }

  private push(): void {
    const policies = this.store.list('AuthorizationPolicy').map(({ resource }) => {
      const policy = resource as AuthorizationPolicy;
      return { namespace: policy.metadata.namespace!, name: policy.metadata.name, spec: policy.spec };
    });
    this.last = this.sink.setPolicies(policies);
    this.version++;
    for (const watcher of this.pushWatchers) watcher();
  }
}
