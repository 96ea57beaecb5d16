import { describe, expect, it } from 'vitest';
import { AuthorizationPolicyEngine } from '../authz/index.ts';
import { DataPlaneState, type PushedService } from './data-plane.ts';
import type { MeshWorkload } from './state.ts';

const workload = (name: string, ip: string, labels: Record<string, string>, ready = true): MeshWorkload => ({
  uid: `bank/${name}`,
  name,
  namespace: 'bank',
  workload: name.split('-')[0]!,
  serviceAccount: 'web',
  labels,
  ip,
  spiffeId: 'spiffe://cluster.local/ns/bank/sa/web',
  listeners: new Map(),
  ready,
  imageDigest: '',
  image: '',
});
const web: PushedService = { name: 'web', namespace: 'bank', hostname: 'web.bank.svc.cluster.local', clusterIp: '10.96.0.1', ports: [{ port: 80, targetPort: 'http' }], labels: {}, selector: { app: 'web' } };

describe('DataPlaneState: what ztunnel, waypoints and gateways decide with, as pushed', () => {
  it('knows a pushed workload by address and by token, and forgets both, exec tokens included, when it goes', () => {
    const plane = new DataPlaneState(new AuthorizationPolicyEngine());
    const pod = workload('web-a', '10.244.0.2', { app: 'web' });
    plane.putWorkload({ workload: pod, kind: 'pod' }, ['pod-token']);
    plane.putToken('exec-token', pod);
    expect(plane.workloadByIp('10.244.0.2')).toBe(pod);
    expect(plane.workloadByToken('pod-token')).toBe(pod);
    expect(plane.workloadByToken('exec-token')).toBe(pod);
    plane.removeToken('exec-token');
    expect(plane.workloadByToken('exec-token')).toBeUndefined();
    plane.putToken('exec-2', pod);
    plane.removeWorkload(pod);
    expect(plane.workloadByIp('10.244.0.2')).toBeUndefined();
    expect(plane.workloadByToken('pod-token')).toBeUndefined();
    expect(plane.workloadByToken('exec-2')).toBeUndefined();
  });

  it("a reused address belongs to its new holder: the old workload's late removal does not take it away", () => {
    const plane = new DataPlaneState(new AuthorizationPolicyEngine());
    const old = workload('web-a', '10.244.0.2', { app: 'web' });
    const fresh = workload('web-b', '10.244.0.2', { app: 'web' });
    plane.putWorkload({ workload: old, kind: 'pod' }, ['old']);
    plane.putWorkload({ workload: fresh, kind: 'pod' }, ['fresh']);
    plane.removeWorkload(old);
    expect(plane.workloadByIp('10.244.0.2')).toBe(fresh);
    expect(plane.workloadByToken('fresh')).toBe(fresh);
    expect(plane.workloadByToken('old')).toBeUndefined();
  });

  it('selects ready, serving pods by the pushed Service selector, then proxies; never a bare identity', () => {
    const plane = new DataPlaneState(new AuthorizationPolicyEngine());
    plane.setServices([web]);
    const b = workload('web-b', '10.244.0.3', { app: 'web' });
    const a = workload('web-a', '10.244.0.2', { app: 'web' });
    let aServing = true;
    plane.putWorkload({ workload: b, kind: 'pod' });
    plane.putWorkload({ workload: a, kind: 'pod', serving: () => aServing, namedPorts: { http: 8080 } });
    plane.putWorkload({ workload: workload('gw', '10.244.0.9', { app: 'web' }), kind: 'proxy' });
    plane.putWorkload({ workload: workload('chat-x', '10.244.0.7', { app: 'web' }), kind: 'identity' }, ['t']);
    plane.putWorkload({ workload: workload('web-c', '10.244.0.4', { app: 'web' }, false), kind: 'pod' });
    plane.putWorkload({ workload: workload('db-a', '10.244.0.5', { app: 'db' }), kind: 'pod' });
    const service = plane.service('web', 'bank')!;
    expect(plane.endpoints(service).map((w) => w.name)).toEqual(['web-a', 'web-b', 'gw']);
    aServing = false;
    expect(plane.endpoints(service).map((w) => w.name)).toEqual(['web-b', 'gw']);
    expect(plane.containerPort(service, service.ports[0]!, a)).toBe(8080);
    expect(plane.containerPort(service, service.ports[0]!, b)).toBeUndefined();
    expect(plane.containerPort(service, { port: 80, targetPort: 9000 }, b)).toBe(9000);
  });

  it('answers Services by cluster IP and by name from a namespace, from the last set pushed only', () => {
    const plane = new DataPlaneState(new AuthorizationPolicyEngine());
    plane.setServices([web]);
    expect(plane.service('10.96.0.1', 'other')).toBe(web);
    expect(plane.service('web.bank', 'other')).toBe(web);
    expect(plane.service('web', 'other')).toBeUndefined();
    plane.setServices([]);
    expect(plane.service('10.96.0.1', 'bank')).toBeUndefined();
    expect(plane.endpoints(web)).toEqual([]);
  });
});
