import { describe, expect, it } from 'vitest';
import { ManifestError } from '../errors.ts';
import { parseManifests } from '../index.ts';

const rule = (expr: string, extra = '') => `apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: trustusbank-mesh
  namespace: trustusbank-observability
spec:
  groups:
    - name: mesh
      rules:
        - alert: IstioAuthZDeny
          expr: ${expr}
          for: 0s${extra}
          labels:
            severity: critical
          annotations:
            summary: "{{ $labels.source_workload }} denied"
`;

describe('PrometheusRule', () => {
  it('accepts the seed rule', () => {
    const [loaded] = parseManifests(rule('sum by (source_workload) (rate(istio_tcp_connections_failed_total{response_flags="CONNECT"}[10m])) > 0'), 'deploy/rules.yaml');
    expect(loaded!.resource).toMatchObject({ kind: 'PrometheusRule', spec: { groups: [{ name: 'mesh', rules: [{ alert: 'IstioAuthZDeny' }] }] } });
  });

  it('refuses a bad expression naming file, document, field and the position in the expression', () => {
    const attempt = () => parseManifests(rule('sum by (source_workload) (rate(istio_tcp_connections_failed_total[10m]) > '), 'deploy/rules.yaml');
    expect(attempt).toThrow(ManifestError);
    expect(attempt).toThrow(/deploy\/rules\.yaml: document 0 \(PrometheusRule trustusbank-observability\/trustusbank-mesh\): spec\.groups\[0\]\.rules\[0\]\.expr: .*1:\d+: parse error/);
  });

  it('refuses a bad duration and an unknown template function', () => {
    expect(() => parseManifests(rule('up == 0', '\n          keep_firing_for: soon'), 'r.yaml')).toThrow(/spec\.groups\[0\]\.rules\[0\]\.keep_firing_for/);
    expect(() => parseManifests(rule('up == 0').replace('$labels.source_workload }}', '$labels.source_workload | launchMissiles }}'), 'r.yaml')).toThrow(/annotations/);
  });
});
