import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifests } from '../load.ts';
import { problemLines } from '../testdata/support.ts';

const WAYPOINT = readFileSync(new URL('../../../deploy/manifests/waypoints/trustusbank-waypoint.yaml', import.meta.url), 'utf8');

describe('Gateway', () => {
  it('loads the bank waypoint (class istio-waypoint, an HBONE listener)', () => {
    const [loaded] = parseManifests(WAYPOINT, 'deploy/waypoint.yaml');
    expect(loaded!.resource).toEqual({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'trustusbank-waypoint', namespace: 'trustusbank-platform', labels: { 'istio.io/waypoint-for': 'service' } },
      spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
    });
  });

  it.each([
    ['another class', WAYPOINT.replace('gatewayClassName: istio-waypoint', 'gatewayClassName: nginx'), 'spec.gatewayClassName: must be one of istio-waypoint (got "nginx")'],
    ['an HTTP listener', WAYPOINT.replace('protocol: HBONE', 'protocol: HTTP'), 'spec.listeners[0].protocol: must be one of HBONE (got "HTTP")'],
    ['no listener', WAYPOINT.replace(/ {2}listeners:[\s\S]*$/, '  listeners: []\n'), 'spec.listeners: '],
    ['addresses', WAYPOINT + '  addresses: [{ value: 10.0.0.1 }]\n', 'spec.addresses: is a Kubernetes field TrustUsBank does not support yet'],
  ])('refuses %s, naming the field', (_what, text, expected) => {
    const [problem] = problemLines(text);
    expect(problem).toContain('document 0 (Gateway trustusbank-platform/trustusbank-waypoint)');
    expect(problem).toContain(expected);
  });
});
