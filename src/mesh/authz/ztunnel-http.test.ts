// What ztunnel does with HTTP-only fields: ALLOW rules using them are dropped; DENY rules are enforced without
// them (denying more), except that an entry or condition made only of HTTP fields can never match at ztunnel.
import { describe, expect, it } from 'vitest';
import type { AuthorizationPolicySpec } from '../../manifests/types.ts';
import { AuthorizationPolicyEngine } from './engine.ts';
import type { ConnectionAttributes, DecisionReason } from './types.ts';

const NS = 'trustusbank-bank-mcp';
const workload = { namespace: NS, labels: { app: 'account-mcp' } };
const SUPPORT_BOT = 'cluster.local/ns/trustusbank-bank-agents/sa/support-bot';
const CONVERTER = 'cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter';

function connection(principal: string, port = 8080): ConnectionAttributes {
  return {
    source: { principal, ip: '10.244.1.7' },
    destination: { ip: '10.244.2.9', port },
    // ztunnel never sees these, even if a caller passes them.
    http: { host: 'account-mcp', method: 'GET', path: '/mcp', headers: { 'x-debug': '1' } },
  };
}

interface Case {
  name: string;
  spec: AuthorizationPolicySpec;
  principal: string;
  port?: number;
  allowed: boolean;
  reason: DecisionReason;
  fields: string[];
  message: string;
  /** Other warnings the policy earns besides the ztunnel one. */
  alsoWarned?: string[];
}

const cases: Case[] = [
  {
    name: 'ALLOW: a rule with methods is dropped, so the caller is refused',
    spec: { rules: [{ from: [{ source: { principals: [SUPPORT_BOT] } }], to: [{ operation: { methods: ['GET'] } }] }] },
    principal: SUPPORT_BOT,
    allowed: false,
    reason: 'no-allow-policy-matched',
    fields: ['methods'],
    message: 'Within an ALLOW policy, rules matching HTTP attributes are omitted (rule 0). This will be more restrictive than requested.',
  },
  {
    name: 'ALLOW: the L4-only rule beside a dropped one still allows',
    spec: {
      rules: [
        { to: [{ operation: { paths: ['/admin*'] } }] },
        { from: [{ source: { principals: [SUPPORT_BOT] } }] },
      ],
    },
    principal: SUPPORT_BOT,
    allowed: true,
    reason: 'allowed-by-policy',
    fields: ['paths'],
    message: 'rules matching HTTP attributes are omitted (rule 0)',
  },
  {
    name: 'ALLOW: a JWT claim condition drops the rule',
    spec: { rules: [{ from: [{ source: { principals: [SUPPORT_BOT] } }], when: [{ key: 'request.auth.claims[iss]', values: ['https://idp'] }] }] },
    principal: SUPPORT_BOT,
    allowed: false,
    reason: 'no-allow-policy-matched',
    fields: ['request.auth.claims[iss]'],
    message: 'ztunnel does not support HTTP attributes (found: request.auth.claims[iss])',
  },
  {
    name: 'ALLOW: an unknown condition key never grants access',
    spec: { rules: [{ when: [{ key: 'request.time', values: ['night'] }] }] },
    principal: SUPPORT_BOT,
    allowed: false,
    reason: 'no-allow-policy-matched',
    fields: ['request.time'],
    message: 'rules matching HTTP attributes are omitted (rule 0)',
    alsoWarned: ['invalid-rule'],
  },
  {
    name: 'DENY: methods removed beside ports, so every method on that port is denied',
    spec: { action: 'DENY', rules: [{ from: [{ source: { namespaces: ['trustusbank-bank-vendors'] } }], to: [{ operation: { methods: ['POST'], ports: ['8080'] } }] }] },
    principal: CONVERTER,
    allowed: false,
    reason: 'denied-by-policy',
    fields: ['methods'],
    message: 'DENY policy with HTTP attributes is enforced without the HTTP rules (rule 0). This will be more restrictive than requested.',
  },
  {
    name: 'DENY: the L4 remainder still scopes the denial (other port passes)',
    spec: { action: 'DENY', rules: [{ from: [{ source: { namespaces: ['trustusbank-bank-vendors'] } }], to: [{ operation: { methods: ['POST'], ports: ['8080'] } }] }] },
    principal: CONVERTER,
    port: 9090,
    allowed: true,
    reason: 'allow-no-policies',
    fields: ['methods'],
    message: 'enforced without the HTTP rules',
  },
  {
    name: 'DENY: requestPrincipals removed from a source that also names principals',
    spec: { action: 'DENY', rules: [{ from: [{ source: { principals: [CONVERTER], requestPrincipals: ['https://idp/alice'] } }] }] },
    principal: CONVERTER,
    allowed: false,
    reason: 'denied-by-policy',
    fields: ['requestPrincipals'],
    message: 'enforced without the HTTP rules (rule 0)',
  },
  {
    name: 'DENY: a `to` made only of methods leaves an empty match, which ztunnel never matches',
    spec: { action: 'DENY', rules: [{ from: [{ source: { principals: [CONVERTER] } }], to: [{ operation: { methods: ['POST'] } }] }] },
    principal: CONVERTER,
    allowed: true,
    reason: 'allow-no-policies',
    fields: ['methods'],
    message: 'After omitting unsupported HTTP attributes, this DENY policy has no enforceable rules at ztunnel and will have no effect.',
  },
  {
    name: 'DENY: notRequestPrincipals ["*"] alone has no effect at ztunnel (istio/istio#61126)',
    spec: { action: 'DENY', rules: [{ from: [{ source: { notRequestPrincipals: ['*'] } }] }] },
    principal: CONVERTER,
    allowed: true,
    reason: 'allow-no-policies',
    fields: ['notRequestPrincipals'],
    message: 'has no enforceable rules at ztunnel',
  },
  {
    name: 'DENY: a header condition cannot match at ztunnel, the other rule is enforced broadened',
    spec: {
      action: 'DENY',
      rules: [
        { when: [{ key: 'request.headers[x-debug]', values: ['1'] }] },
        { from: [{ source: { principals: [CONVERTER] } }], to: [{ operation: { ports: ['8080'], paths: ['/mcp'] } }] },
      ],
    },
    principal: CONVERTER,
    allowed: false,
    reason: 'denied-by-policy',
    fields: ['paths', 'request.headers[x-debug]'],
    message: 'enforced without the HTTP rules (rule 1). This will be more restrictive than requested. In rule 0 a from/to entry or a when condition is made only of HTTP attributes',
  },
];

describe('HTTP fields at ztunnel', () => {
  it.each(cases)('$name', ({ spec, principal, port, allowed, reason, fields, message, alsoWarned = [] }) => {
    const engine = new AuthorizationPolicyEngine();
    const warnings = engine.setPolicies([{ namespace: NS, name: 'l7', spec }]);
    const decision = engine.evaluate(workload, connection(principal, port));
    expect({ allowed: decision.allowed, reason: decision.reason }).toEqual({ allowed, reason });
    expect(warnings.map((warning) => warning.code).sort()).toEqual(['http-attributes-at-ztunnel', ...alsoWarned].sort());
    const ztunnel = warnings.find((warning) => warning.code === 'http-attributes-at-ztunnel');
    expect(ztunnel).toMatchObject({ policy: `${NS}/l7`, fields });
    expect(ztunnel!.message).toContain(message);
  });

  it('names the attributes and the waypoint remedy as istiod does', () => {
    const engine = new AuthorizationPolicyEngine();
    const [warning] = engine.setPolicies([
      { namespace: NS, name: 'l7', spec: { rules: [{ to: [{ operation: { hosts: ['a'], methods: ['GET'] } }], from: [{ source: { requestPrincipals: ['*'] } }] }] } },
    ]);
    expect(warning!.message).toMatch(
      /^ztunnel does not support HTTP attributes \(found: hosts, methods, requestPrincipals\)\. In ambient mode you must use a waypoint proxy to enforce HTTP rules\./,
    );
  });

  it('gives no warning for L4-only policies', () => {
    const engine = new AuthorizationPolicyEngine();
    const warnings = engine.setPolicies([
      { namespace: NS, name: 'l4', spec: { rules: [{ from: [{ source: { principals: [SUPPORT_BOT], ipBlocks: ['10.0.0.0/8'] } }], to: [{ operation: { ports: ['8080'] } }], when: [{ key: 'source.namespace', values: ['x'] }] }] } },
    ]);
    expect(warnings).toEqual([]);
  });

  it('gives no ztunnel warning for policies bound to a waypoint', () => {
    const engine = new AuthorizationPolicyEngine();
    const warnings = engine.setPolicies([
      { namespace: NS, name: 'l7', spec: { targetRefs: [{ kind: 'Service', name: 'account-mcp' }], rules: [{ to: [{ operation: { methods: ['GET'] } }] }] } },
    ]);
    expect(warnings).toEqual([]);
  });
});
