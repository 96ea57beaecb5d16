// Waypoint (L7) decisions: policies bound with targetRefs, evaluated against the parsed HTTP request.
import { describe, expect, it } from 'vitest';
import type { AuthorizationPolicySpec, Rule } from '../../manifests/types.ts';
import { AuthorizationPolicyEngine } from './engine.ts';
import type { ConnectionAttributes, DecisionReason, HttpAttributes, PolicyRef, PolicyTarget } from './types.ts';

const NS = 'trustusbank-bank-mcp';
const SUPPORT_BOT = 'cluster.local/ns/trustusbank-bank-agents/sa/support-bot';
const CONVERTER = 'cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter';
const service: PolicyTarget = { kind: 'Service', namespace: NS, name: 'account-mcp' };
const waypoint: PolicyTarget = { kind: 'Gateway', namespace: NS, name: 'waypoint' };
const HOST = 'account-mcp.trustusbank-bank-mcp.svc.cluster.local';

function onService(name: string, spec: AuthorizationPolicySpec): PolicyRef {
  return { namespace: NS, name, spec: { targetRefs: [{ kind: 'Service', group: '', name: 'account-mcp' }], ...spec } };
}

/** `principal: null` is a plaintext peer. */
function request(http: Partial<HttpAttributes> = {}, principal: string | null = SUPPORT_BOT): ConnectionAttributes {
  return {
    source: { principal: principal ?? undefined, ip: '10.244.1.7' },
    destination: { ip: '10.244.2.9', port: 8080 },
    http: { host: HOST, method: 'POST', path: '/mcp', headers: {}, ...http },
  };
}

function decide(policies: PolicyRef[], attributes: ConnectionAttributes, targets: PolicyTarget[] = [service, waypoint]) {
  const engine = new AuthorizationPolicyEngine();
  engine.setPolicies(policies);
  return engine.evaluateAtWaypoint(targets, attributes);
}

describe('binding with targetRefs', () => {
  const allowSupportPost = onService('allow-support-post', { rules: [{ from: [{ source: { principals: [SUPPORT_BOT] } }], to: [{ operation: { methods: ['POST'] } }] }] });

  it('applies at the waypoint and not at ztunnel', () => {
    const engine = new AuthorizationPolicyEngine();
    engine.setPolicies([allowSupportPost]);
    expect(engine.evaluateAtWaypoint([service], request({ method: 'GET' })).reason).toBe('no-allow-policy-matched');
    expect(engine.evaluateAtWaypoint([service], request()).reason).toBe('allowed-by-policy');
    expect(engine.evaluate({ namespace: NS, labels: { app: 'account-mcp' } }, request({ method: 'GET' })).reason).toBe('allow-no-policies');
    expect(engine.policiesAtWaypoint([service])).toEqual([`${NS}/allow-support-post`]);
    expect(engine.policiesFor({ namespace: NS, labels: { app: 'account-mcp' } })).toEqual([]);
  });

  const denyAll = (name: string, targetRefs: AuthorizationPolicySpec['targetRefs'], namespace = NS): PolicyRef => ({
    namespace,
    name,
    spec: { action: 'DENY', targetRefs, rules: [{}] },
  });

  it.each([
    { name: 'a Service target', policy: denyAll('svc', [{ kind: 'Service', name: 'account-mcp' }]), targets: [service], applies: true },
    { name: 'another Service', policy: denyAll('svc', [{ kind: 'Service', name: 'ticket-mcp' }]), targets: [service], applies: false },
    { name: 'a Service of the same name in another namespace', policy: denyAll('svc', [{ kind: 'Service', name: 'account-mcp' }], 'default'), targets: [service], applies: false },
    { name: 'the waypoint Gateway', policy: denyAll('gw', [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'waypoint' }]), targets: [service, waypoint], applies: true },
    { name: 'the Gateway when only the Service is served', policy: denyAll('gw', [{ kind: 'Gateway', name: 'waypoint' }]), targets: [service], applies: false },
    { name: 'a ServiceEntry', policy: denyAll('se', [{ kind: 'ServiceEntry', group: 'networking.istio.io', name: 'fx-api' }]), targets: [{ kind: 'ServiceEntry', namespace: NS, name: 'fx-api' }], applies: true },
    { name: 'the singular targetRef', policy: { namespace: NS, name: 'one', spec: { action: 'DENY', targetRef: { kind: 'Service', name: 'account-mcp' }, rules: [{}] } }, targets: [service], applies: true },
    { name: 'a GatewayClass from the root namespace', policy: denyAll('class', [{ kind: 'GatewayClass', name: 'istio-waypoint' }], 'istio-system'), targets: [service, { kind: 'GatewayClass', namespace: '', name: 'istio-waypoint' }], applies: true },
    { name: 'a GatewayClass from another namespace', policy: denyAll('class', [{ kind: 'GatewayClass', name: 'istio-waypoint' }]), targets: [{ kind: 'GatewayClass', namespace: '', name: 'istio-waypoint' }], applies: false },
  ] as { name: string; policy: PolicyRef; targets: PolicyTarget[]; applies: boolean }[])('$name', ({ policy, targets, applies }) => {
    expect(decide([policy], request(), targets).allowed).toBe(!applies);
  });

  it('unions the policies of every target, each counted once', () => {
    const both = denyAll('both', [{ kind: 'Service', name: 'account-mcp' }, { kind: 'Gateway', name: 'waypoint' }]);
    const engine = new AuthorizationPolicyEngine();
    engine.setPolicies([both, allowSupportPost]);
    expect(engine.policiesAtWaypoint([service, waypoint])).toEqual([`${NS}/allow-support-post`, `${NS}/both`]);
    expect(engine.evaluateAtWaypoint([service, waypoint], request()).policy).toBe(`${NS}/both`);
  });

  it.each([
    { name: 'unknown kind', ref: { kind: 'Deployment', name: 'x' }, reason: 'targetRefs kind Deployment is not one of' },
    { name: 'wrong group', ref: { kind: 'Gateway', group: 'networking.istio.io', name: 'waypoint' }, reason: 'has group "networking.istio.io"' },
    { name: 'another namespace', ref: { kind: 'Service', name: 'account-mcp', namespace: 'default' }, reason: 'cross-namespace references are not supported' },
    { name: 'GatewayClass outside the root namespace', ref: { kind: 'GatewayClass', name: 'istio-waypoint' }, reason: 'only honoured from the root namespace istio-system' },
  ])('warns about a target it cannot bind: $name', ({ ref, reason }) => {
    const engine = new AuthorizationPolicyEngine();
    const warnings = engine.setPolicies([{ namespace: NS, name: 'bad-target', spec: { targetRefs: [ref], rules: [{}] } }]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: 'unsupported-target', policy: `${NS}/bad-target` });
    expect(warnings[0]!.message).toContain(reason);
  });

  it('warns when a selector is set beside targetRefs, and follows the targetRefs', () => {
    const engine = new AuthorizationPolicyEngine();
    const warnings = engine.setPolicies([
      { namespace: NS, name: 'both', spec: { action: 'DENY', selector: { matchLabels: { app: 'account-mcp' } }, targetRefs: [{ kind: 'Service', name: 'account-mcp' }], rules: [{}] } },
    ]);
    expect(warnings.map((warning) => warning.code)).toEqual(['selector-with-target']);
    expect(engine.evaluate({ namespace: NS, labels: { app: 'account-mcp' } }, request()).allowed).toBe(true);
    expect(engine.evaluateAtWaypoint([service], request()).allowed).toBe(false);
  });
});

interface L7Case {
  name: string;
  rule: Rule;
  http?: Partial<HttpAttributes>;
  principal?: string | null;
  allowed: boolean;
}

/** Each rule is one ALLOW policy on the Service; `allowed` says whether it lets the request through. */
const l7Cases: L7Case[] = [
  { name: 'hosts: exact', rule: { to: [{ operation: { hosts: [HOST] } }] }, allowed: true },
  { name: 'hosts: case-insensitive', rule: { to: [{ operation: { hosts: [HOST] } }] }, http: { host: HOST.toUpperCase() }, allowed: true },
  { name: 'hosts: a port in the Host header must be matched too', rule: { to: [{ operation: { hosts: [HOST] } }] }, http: { host: `${HOST}:8080` }, allowed: false },
  { name: 'hosts: "<host>:*" matches any port', rule: { to: [{ operation: { hosts: [HOST, `${HOST}:*`] } }] }, http: { host: `${HOST}:8080` }, allowed: true },
  { name: 'hosts: suffix', rule: { to: [{ operation: { hosts: ['*.svc.cluster.local'] } }] }, allowed: true },
  { name: 'notHosts', rule: { to: [{ operation: { notHosts: ['account-mcp*'] } }] }, allowed: false },
  { name: 'methods: listed', rule: { to: [{ operation: { methods: ['GET', 'POST'] } }] }, allowed: true },
  { name: 'methods: case-sensitive', rule: { to: [{ operation: { methods: ['post'] } }] }, allowed: false },
  { name: 'notMethods', rule: { to: [{ operation: { notMethods: ['DELETE'] } }] }, http: { method: 'DELETE' }, allowed: false },
  { name: 'paths: exact', rule: { to: [{ operation: { paths: ['/mcp'] } }] }, allowed: true },
  { name: 'paths: the query string is not part of the path', rule: { to: [{ operation: { paths: ['/mcp'] } }] }, http: { path: '/mcp?session=1' }, allowed: true },
  { name: 'paths: prefix', rule: { to: [{ operation: { paths: ['/mcp/*'] } }] }, http: { path: '/mcp/tools' }, allowed: true },
  { name: 'paths: suffix', rule: { to: [{ operation: { paths: ['*.json'] } }] }, http: { path: '/static/a.json' }, allowed: true },
  { name: 'paths: "*" is any path', rule: { to: [{ operation: { paths: ['*'] } }] }, allowed: true },
  { name: 'paths: dot-segments are resolved first', rule: { to: [{ operation: { notPaths: ['/admin*'] } }] }, http: { path: '/public/../admin/users' }, allowed: false },
  { name: 'paths: encoded dot-segments too', rule: { to: [{ operation: { notPaths: ['/admin*'] } }] }, http: { path: '/public/%2e%2e/admin' }, allowed: false },
  { name: 'paths: template {*} is one segment', rule: { to: [{ operation: { paths: ['/accounts/{*}/balance'] } }] }, http: { path: '/accounts/12345/balance' }, allowed: true },
  { name: 'paths: template {*} is not two', rule: { to: [{ operation: { paths: ['/accounts/{*}/balance'] } }] }, http: { path: '/accounts/1/2/balance' }, allowed: false },
  { name: 'paths: template {**} is the rest', rule: { to: [{ operation: { paths: ['/accounts/{**}'] } }] }, http: { path: '/accounts/1/2/balance' }, allowed: true },
  { name: 'requestPrincipals: from a JWT', rule: { from: [{ source: { requestPrincipals: ['https://idp.trustusbank/*'] } }] }, http: { requestPrincipal: 'https://idp.trustusbank/alice' }, allowed: true },
  { name: 'requestPrincipals: no JWT', rule: { from: [{ source: { requestPrincipals: ['*'] } }] }, allowed: false },
  { name: 'notRequestPrincipals: no JWT matches', rule: { from: [{ source: { notRequestPrincipals: ['*'] } }] }, allowed: true },
  { name: 'principals still come from mTLS', rule: { from: [{ source: { principals: [SUPPORT_BOT] } }] }, allowed: true },
  { name: 'principals: plaintext through the waypoint', rule: { from: [{ source: { principals: ['*'] } }] }, principal: null, allowed: false },
  { name: 'remoteIpBlocks: defaults to the peer address', rule: { from: [{ source: { remoteIpBlocks: ['10.244.1.0/24'] } }] }, allowed: true },
  { name: 'remoteIpBlocks: uses the original client address', rule: { from: [{ source: { remoteIpBlocks: ['10.244.1.0/24'] } }] }, http: { remoteIp: '203.0.113.9' }, allowed: false },
  { name: 'when request.headers[]: value', rule: { when: [{ key: 'request.headers[X-Tenant]', values: ['bank'] }] }, http: { headers: { 'x-tenant': 'bank' } }, allowed: true },
  { name: 'when request.headers[]: other value', rule: { when: [{ key: 'request.headers[x-tenant]', values: ['bank'] }] }, http: { headers: { 'x-tenant': 'attacker' } }, allowed: false },
  { name: 'when request.headers[]: absent header fails values', rule: { when: [{ key: 'request.headers[x-tenant]', values: ['*'] }] }, allowed: false },
  { name: 'when request.headers[]: absent header passes notValues', rule: { when: [{ key: 'request.headers[x-debug]', notValues: ['*'] }] }, allowed: true },
  { name: 'when request.headers[]: repeated header joined by commas', rule: { when: [{ key: 'request.headers[x-tag]', values: ['a,b'] }] }, http: { headers: { 'x-tag': ['a', 'b'] } }, allowed: true },
  { name: 'when request.auth.claims[]: list claim', rule: { when: [{ key: 'request.auth.claims[groups]', values: ['support'] }] }, http: { claims: { groups: ['fraud', 'support'] } }, allowed: true },
  { name: 'when request.auth.claims[]: nested', rule: { when: [{ key: 'request.auth.claims[realm][role]', values: ['teller'] }] }, http: { claims: { realm: { role: 'teller' } } }, allowed: true },
  { name: 'when request.auth.claims[]: no JWT', rule: { when: [{ key: 'request.auth.claims[iss]', values: ['*'] }] }, allowed: false },
  { name: 'when request.auth.claims[]: non-string claims never match', rule: { when: [{ key: 'request.auth.claims[admin]', values: ['true'] }] }, http: { claims: { admin: true } }, allowed: false },
  { name: 'when request.auth.principal', rule: { when: [{ key: 'request.auth.principal', values: ['https://idp/alice'] }] }, http: { requestPrincipal: 'https://idp/alice' }, allowed: true },
  { name: 'when request.auth.audiences', rule: { when: [{ key: 'request.auth.audiences', values: ['account-mcp'] }] }, http: { claims: { aud: ['ticket-mcp', 'account-mcp'] } }, allowed: true },
  { name: 'when request.auth.presenter', rule: { when: [{ key: 'request.auth.presenter', values: ['chatbot'] }] }, http: { claims: { azp: 'chatbot' } }, allowed: true },
  { name: 'when remote.ip', rule: { when: [{ key: 'remote.ip', values: ['203.0.113.0/24'] }] }, http: { remoteIp: '203.0.113.9' }, allowed: true },
  { name: 'when source.namespace (L4 keys work here too)', rule: { when: [{ key: 'source.namespace', values: ['trustusbank-bank-agents'] }] }, allowed: true },
  { name: 'when an attribute the waypoint cannot evaluate never grants', rule: { when: [{ key: 'connection.sni', values: ['*'] }] }, allowed: false },
  { name: 'when an unknown key never grants', rule: { when: [{ key: 'request.body', values: ['*'] }] }, allowed: false },
];

describe('L7 attributes at the waypoint', () => {
  it.each(l7Cases)('$name', ({ rule, http, principal, allowed }) => {
    const attributes = request(http, principal === undefined ? SUPPORT_BOT : principal);
    const decision = decide([onService('l7', { rules: [rule] })], attributes);
    expect(decision.allowed).toBe(allowed);
    expect(decision.reason).toBe<DecisionReason>(allowed ? 'allowed-by-policy' : 'no-allow-policy-matched');
  });
});

describe('failing closed at the waypoint', () => {
  it('denies everything in scope when a DENY rule cannot be evaluated', () => {
    const engine = new AuthorizationPolicyEngine();
    const warnings = engine.setPolicies([onService('deny-sni', { action: 'DENY', rules: [{ when: [{ key: 'connection.sni', values: ['evil.example'] }] }] })]);
    expect(engine.evaluateAtWaypoint([service], request()).reason).toBe('denied-by-policy');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: 'invalid-rule', fields: ['connection.sni'] });
    expect(warnings[0]!.message).toContain('connection.sni is not available');
    expect(warnings[0]!.message).toContain('it matches every request in scope, so it denies them all');
  });
});

describe('plain TCP through a waypoint (no HTTP request)', () => {
  const tcp: ConnectionAttributes = { source: { principal: SUPPORT_BOT, ip: '10.244.1.7' }, destination: { port: 5432 } };
  it.each([
    { name: 'ALLOW rules with HTTP fields are skipped', spec: { rules: [{ to: [{ operation: { methods: ['GET'] } }] }] }, reason: 'no-allow-policy-matched' },
    { name: 'ALLOW rules without HTTP fields apply', spec: { rules: [{ from: [{ source: { principals: [SUPPORT_BOT] } }] }] }, reason: 'allowed-by-policy' },
    { name: 'DENY treats missing HTTP attributes as matches', spec: { action: 'DENY', rules: [{ to: [{ operation: { methods: ['POST'] } }] }] }, reason: 'denied-by-policy' },
    { name: 'DENY keeps its L4 scope', spec: { action: 'DENY', rules: [{ to: [{ operation: { methods: ['POST'], ports: ['8080'] } }] }] }, reason: 'allow-no-policies' },
  ] as { name: string; spec: AuthorizationPolicySpec; reason: DecisionReason }[])('$name', ({ spec, reason }) => {
    expect(decide([onService('tcp', spec)], tcp, [service]).reason).toBe(reason);
  });
});

it('keeps a CONVERTER-only DENY from touching the support bot at the waypoint', () => {
  const deny = onService('deny-converter-post', {
    action: 'DENY',
    rules: [{ from: [{ source: { principals: [CONVERTER] } }], to: [{ operation: { methods: ['POST'] } }] }],
  });
  expect(decide([deny], request()).allowed).toBe(true);
  expect(decide([deny], request({}, CONVERTER)).allowed).toBe(false);
  expect(decide([deny], request({ method: 'GET' }, CONVERTER)).allowed).toBe(true);
});
