import { describe, expect, it } from 'vitest';
import { parseManifests } from '../load.ts';
import { editedDocument, problemLines, readTestdata, type YamlObject } from '../testdata/support.ts';
import type { AuthorizationPolicy } from '../types.ts';
import { authorizationPolicyAction } from './authorization-policy.ts';

const SUBJECT = 'deploy/x.yaml: document 0 (AuthorizationPolicy external-attacker/deny-bank-to-attacker)';

/** deny-bank-to-attacker from testdata, changed by `edit`. */
function policyFile(edit: (policy: YamlObject) => void): string {
  return editedDocument('policies.yaml', 1, edit);
}

const rule = (p: YamlObject) => p.spec.rules[0];

describe('AuthorizationPolicy', () => {
  it('loads deny-bank-to-attacker and the empty-spec default-deny', () => {
    const [, deny, defaultDeny] = parseManifests(readTestdata('policies.yaml'), 'policies.yaml');
    expect(deny!.resource).toEqual({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'deny-bank-to-attacker', namespace: 'external-attacker' },
      spec: { action: 'DENY', rules: [{ from: [{ source: { namespaces: ['trustusbank-bank-*', 'trustusbank-platform'] } }] }] },
    });
    expect(defaultDeny!.resource).toEqual({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'default-deny', namespace: 'trustusbank-bank-vendors' },
      spec: {},
    });
    expect(authorizationPolicyAction((defaultDeny!.resource as AuthorizationPolicy).spec)).toBe('ALLOW');
  });

  it('accepts every part of the API: targetRefs, operations, conditions, CUSTOM with a provider, v1beta1', () => {
    const text = policyFile((p) => {
      p.apiVersion = 'security.istio.io/v1beta1';
      p.spec = {
        targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'trustusbank-egress' }],
        action: 'CUSTOM',
        provider: { name: 'ext-authz' },
        rules: [
          {
            from: [{ source: { principals: ['cluster.local/ns/trustusbank-platform/sa/trustusbank-agentgw'], notIpBlocks: ['10.0.0.0/8'] } }],
            to: [{ operation: { hosts: ['api.frankfurter.app'], ports: ['443', '8080'], methods: ['GET'], paths: ['/v1/*'] } }],
            when: [{ key: 'request.headers[x-tenant]', values: ['bank'] }, { key: 'source.ip', notValues: ['10.0.0.1'] }],
          },
        ],
      };
    });
    expect(problemLines(text)).toEqual([]);
  });

  it('treats a missing spec as the empty spec, as istiod does', () => {
    const text = policyFile((p) => delete p.spec);
    expect(parseManifests(text, 'x.yaml')[0]!.resource).toMatchObject({ spec: {} });
  });

  it.each<[string, (p: YamlObject) => void, string[]]>([
    ['a lower-case action', (p) => (p.spec.action = 'deny'), ['spec.action: must be one of ALLOW, DENY, AUDIT, CUSTOM (got "deny")']],
    ['CUSTOM without a provider', (p) => (p.spec.action = 'CUSTOM'), ['spec.provider: is required when action is CUSTOM']],
    ['a provider on a DENY policy', (p) => (p.spec.provider = { name: 'ext-authz' }), ['spec.provider: is only allowed when action is CUSTOM (action is DENY)']],
    ['a provider with the default action', (p) => ((p.spec.provider = { name: 'ext-authz' }), delete p.spec.action), ['spec.provider: is only allowed when action is CUSTOM (action is ALLOW)']],
    ['a provider without a name', (p) => ((p.spec.action = 'CUSTOM'), (p.spec.provider = { name: '' })), ['spec.provider.name: must not be empty']],
    [
      'a selector and targetRefs',
      (p) => ((p.spec.selector = { matchLabels: { app: 'mock-attacker' } }), (p.spec.targetRefs = [{ kind: 'Service', name: 'mock-attacker' }])),
      ['spec.targetRefs: cannot be combined with selector: a policy attaches by selector or by target reference, not both'],
    ],
    [
      'a selector and a targetRef',
      (p) => ((p.spec.selector = { matchLabels: { app: 'mock-attacker' } }), (p.spec.targetRef = { kind: 'Service', name: 'mock-attacker' })),
      ['spec.targetRef: cannot be combined with selector: a policy attaches by selector or by target reference, not both'],
    ],
    [
      'targetRef and targetRefs',
      (p) => ((p.spec.targetRef = { kind: 'Service', name: 'a' }), (p.spec.targetRefs = [{ kind: 'Service', name: 'b' }])),
      ['spec.targetRefs: cannot be combined with targetRef: list every target in targetRefs'],
    ],
    ['a targetRef without a kind', (p) => (p.spec.targetRefs = [{ name: 'mock-attacker' }]), ['spec.targetRefs[0].kind: is required']],
    ['a port name in ports', (p) => (rule(p).to = [{ operation: { ports: ['http'] } }]), ['spec.rules[0].to[0].operation.ports[0]: invalid port "http": must be a port number written as a string of digits (e.g. "8080")']],
    ['port 0 in notPorts', (p) => (rule(p).to = [{ operation: { notPorts: ['0'] } }]), ['spec.rules[0].to[0].operation.notPorts[0]: invalid port "0": must be a port number from 1 to 65535']],
    [
      'an unquoted port',
      (p) => (rule(p).to = [{ operation: { ports: [8080] } }]),
      ['spec.rules[0].to[0].operation.ports[0]: expected a string, got the number 8080 (quote it in YAML: "8080" is a string, 8080 a number)'],
    ],
    ['a from entry without source', (p) => (rule(p).from = [{}]), ['spec.rules[0].from[0].source: is required']],
    ['an empty source', (p) => (rule(p).from = [{ source: {} }]), ['spec.rules[0].from[0].source: must set at least one field: an empty source matches nothing useful']],
    ['an empty operation', (p) => (rule(p).to = [{ operation: { hosts: [] } }]), ['spec.rules[0].to[0].operation: must set at least one field: an empty operation matches nothing useful']],
    ['an empty from list', (p) => (rule(p).from = []), ['spec.rules[0].from: must not be empty (leave it out to match any source)']],
    ['an empty namespace pattern', (p) => (rule(p).from[0].source.namespaces = ['']), ['spec.rules[0].from[0].source.namespaces[0]: must not be empty']],
    ['a misspelt source field', (p) => (rule(p).from[0].source = { namespace: ['trustusbank-bank-*'] }), ['spec.rules[0].from[0].source.namespace: is not a field of AuthorizationPolicy (did you mean "namespaces"?)']],
    ['a condition with an empty key', (p) => (rule(p).when = [{ key: '', values: ['x'] }]), ['spec.rules[0].when[0].key: must not be empty']],
    ['a condition without values', (p) => (rule(p).when = [{ key: 'source.ip' }]), ['spec.rules[0].when[0]: must set values or notValues for key "source.ip"']],
    ['namespaces as a single string', (p) => (rule(p).from[0].source.namespaces = 'trustusbank-bank-*'), ['spec.rules[0].from[0].source.namespaces: expected a list, got the string "trustusbank-bank-*"']],
    ['rules as a mapping', (p) => (p.spec.rules = { from: [] }), ['spec.rules: expected a list, got a mapping']],
  ])('refuses %s', (_description, edit, expected) => {
    expect(problemLines(policyFile(edit))).toEqual(expected.map((line) => `${SUBJECT}: ${line}`));
  });
});
