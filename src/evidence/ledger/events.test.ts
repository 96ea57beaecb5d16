// Which log lines become ledger events: each layer's refusal, the policy and image changes; nothing else.
import { describe, expect, it } from 'vitest';
import { securityEventOf } from './events.ts';

const CONVERTER = 'spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter';
const line = (fields: Record<string, unknown>) => JSON.stringify({ ts: '2026-12-02T12:00:00.000Z', level: 'warn', ...fields });

describe('securityEventOf', () => {
  it.each([
    [
      "ztunnel's policy deny",
      line({ component: 'ztunnel', msg: 'connection complete', 'src.identity': CONVERTER, 'src.workload': 'currency-converter-abc', 'src.namespace': 'trustusbank-bank-vendors', 'dst.service': 'mock-attacker.external-attacker.svc.cluster.local', error: 'connection closed due to policy rejection: explicitly denied by: external-attacker/deny-bank-to-attacker' }),
      { kind: 'mesh.deny', subject: CONVERTER, data: expect.objectContaining({ destination: 'mock-attacker.external-attacker.svc.cluster.local', reason: expect.stringContaining('deny-bank-to-attacker') }) },
    ],
    [
      "ztunnel's refusal of the node itself",
      line({ component: 'ztunnel', msg: 'connection complete', 'src.identity': CONVERTER, error: 'outbound to 127.0.0.1:18006 refused: 127.0.0.1 is a loopback address (the node itself)' }),
      { kind: 'mesh.egress_refused', subject: CONVERTER },
    ],
    [
      "the agent gateway's 403",
      line({ component: 'agentgateway', msg: 'request', gateway: 'trustusbank-platform/trustusbank-agentgw', route: 'mcp', 'src.identity': 'spiffe://cluster.local/ns/trustusbank-bank-agents/sa/support-bot', 'http.status': 403, reason: 'DLP', 'gen_ai.tool.name': 'convert_currency', 'trace.id': 'abc' }),
      { kind: 'gateway.deny', subject: 'spiffe://cluster.local/ns/trustusbank-bank-agents/sa/support-bot', data: expect.objectContaining({ reason: 'DLP', tool: 'convert_currency', status: 403, trace_id: 'abc' }) },
    ],
    [
      "an agent waypoint's AccessPolicy 403",
      line({ component: 'agentgateway', msg: 'request', gateway: 'trustusbank-bank-agents/support-bot-waypoint', 'src.identity': 'spiffe://cluster.local/ns/external-attacker/sa/mock-attacker', 'http.status': 403, reason: 'Authorization' }),
      { kind: 'accesspolicy.deny', subject: 'spiffe://cluster.local/ns/external-attacker/sa/mock-attacker' },
    ],
    ['tool drift', line({ component: 'agentgateway', msg: 'tool drift', server: 'currency-converter', changes: [{ tool: 'convert_currency', kind: 'changed' }] }), { kind: 'tool.drift', subject: 'currency-converter' }],
    ['a same-tag retag', line({ component: 'control-plane', level: 'info', msg: 'image retagged', ref: 'acme-fx/currency-converter:1.0.0', from: 'sha256:a', to: 'sha256:b' }), { kind: 'image.retag', data: { ref: 'acme-fx/currency-converter:1.0.0', from: 'sha256:a', to: 'sha256:b' } }],
    ['an admission refusal', line({ component: 'control-plane', msg: 'admission refused', object: 'Pod/trustusbank-bank-vendors/currency-converter', digest: 'sha256:b', event_reason: 'PolicyViolation', policy: 'verify-vendor-images' }), { kind: 'admission.refused', data: expect.objectContaining({ stage: 'admission', policy: 'verify-vendor-images' }) }],
    ['a policy applied', line({ component: 'control-plane', level: 'info', msg: 'resource changed', resource: 'AuthorizationPolicy/external-attacker/deny-bank-to-attacker', action: 'created' }), { kind: 'policy.applied', subject: 'AuthorizationPolicy/external-attacker/deny-bank-to-attacker' }],
    ['a policy removed', line({ component: 'control-plane', level: 'info', msg: 'resource changed', resource: 'AccessPolicy/trustusbank-bank-agents/support-bot-callers', action: 'deleted' }), { kind: 'policy.removed' }],
  ])('keeps %s', (_what, raw, expected) => {
    expect(securityEventOf(raw)).toMatchObject({ time: '2026-12-02T12:00:00.000Z', ...expected });
  });

  it.each([
    ['a clean connection', line({ component: 'ztunnel', level: 'info', msg: 'connection complete', 'src.identity': CONVERTER })],
    ['a connection reset (not a decision)', line({ component: 'ztunnel', msg: 'connection complete', error: 'socket hang up' })],
    ['a 200 through the gateway', line({ component: 'agentgateway', msg: 'request', 'http.status': 200 })],
    ['a 502 (an upstream failure, not a refusal)', line({ component: 'agentgateway', msg: 'request', 'http.status': 502 })],
    ['a Deployment changed', line({ component: 'control-plane', msg: 'resource changed', resource: 'Deployment/trustusbank-bank-mcp/account-mcp', action: 'configured' })],
    ['an admission audit (allowed)', line({ component: 'control-plane', msg: 'admission audit', object: 'Pod/x/y' })],
    ['a pod posing as ztunnel in a component the ledger does not read', line({ component: 'currency-converter', msg: 'connection complete', error: 'denied' })],
    ['not JSON', 'connection complete: denied'],
    ['JSON that is not an object', '"denied"'],
  ])('ignores %s', (_what, raw) => {
    expect(securityEventOf(raw)).toBeUndefined();
  });
});
