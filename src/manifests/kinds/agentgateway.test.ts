import { describe, expect, it } from 'vitest';
import { parseManifests } from '../load.ts';
import { editedDocument, problemLines, readTestdata, type YamlObject } from '../testdata/support.ts';
import type { AgentgatewayBackend, AgentgatewayPolicy, EnterpriseAgentgatewayPolicy } from '../types.ts';

const JWKS = '{"keys": [{"kty": "RSA", "kid": "lab6", "use": "sig", "alg": "RS256", "e": "AQAB",\n           "n": "sample-only-modulus"}]}\n';
const ENTERPRISE_ONLY = 'is an EnterpriseAgentgatewayPolicy field: AgentgatewayPolicy does not have it; use kind EnterpriseAgentgatewayPolicy (apiVersion enterpriseagentgateway.solo.io/v1alpha1)';
const UNSUPPORTED = 'is a Solo agentgateway field TrustUsBank does not support yet';

function loaded(index: number) {
  return parseManifests(readTestdata('agentgateway.yaml'), 'agentgateway.yaml')[index]!.resource;
}

describe('AgentgatewayBackend', () => {
  const SUBJECT = 'deploy/x.yaml: document 0 (AgentgatewayBackend ai-tools/mcp-be)';
  const backendFile = (edit: (backend: YamlObject) => void) => editedDocument('agentgateway.yaml', 4, edit);
  const target = (b: YamlObject) => b.spec.mcp.targets[0];

  it('loads mcp-be, two SSE targets federated behind one backend', () => {
    expect(loaded(4)).toEqual({
      apiVersion: 'agentgateway.dev/v1alpha1',
      kind: 'AgentgatewayBackend',
      metadata: { name: 'mcp-be', namespace: 'ai-tools' },
      spec: {
        mcp: {
          targets: [
            { name: 'catalog', static: { host: 'catalog-mcp.ai-tools.svc.cluster.local', port: 3001, protocol: 'SSE' } },
            { name: 'orders', static: { host: 'orders-mcp.ai-tools.svc.cluster.local', port: 3001, protocol: 'SSE' } },
          ],
        },
      },
    });
  });

  it('accepts a Streamable HTTP target with a path, a prefix mode and a failure mode, adding no defaults', () => {
    const mcp = { targets: [{ name: 'account', static: { host: '10.96.0.12', port: 8000, protocol: 'StreamableHTTP', path: '/mcp' } }, { name: 'ticket', static: { host: 'ticket-mcp', port: 8000 } }], prefixMode: 'Always', failureMode: 'FailOpen' };
    const [result] = parseManifests(backendFile((b) => (b.spec.mcp = mcp)), 'x.yaml');
    expect((result!.resource as AgentgatewayBackend).spec).toEqual({ mcp });
  });

  it.each<[string, (b: YamlObject) => void, string]>([
    ['no mcp', (b) => delete b.spec.mcp, 'spec.mcp: is required'],
    ['no targets', (b) => (b.spec.mcp.targets = []), 'spec.mcp.targets: must list at least one MCP target'],
    [
      'a target name that is not a DNS label',
      (b) => (target(b).name = 'Catalog_MCP'),
      `spec.mcp.targets[0].name: invalid target name "Catalog_MCP": must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. "account-mcp")`,
    ],
    ['two targets with one name', (b) => (b.spec.mcp.targets[1].name = 'catalog'), 'spec.mcp.targets[1].name: duplicates the name of targets[0]'],
    ['an empty host', (b) => (target(b).static.host = ''), 'spec.mcp.targets[0].static.host: invalid host "": must not be empty'],
    [
      'a URL as host',
      (b) => (target(b).static.host = 'http://catalog-mcp:3001'),
      'spec.mcp.targets[0].static.host: invalid host "http://catalog-mcp:3001": must be a host name or an IP address, without scheme or path (e.g. "account-mcp.trustusbank-bank-mcp.svc.cluster.local")',
    ],
    ['no port', (b) => delete target(b).static.port, 'spec.mcp.targets[0].static.port: is required'],
    ['port 0', (b) => (target(b).static.port = 0), 'spec.mcp.targets[0].static.port: must be a port number from 1 to 65535'],
    ['port 65536', (b) => (target(b).static.port = 65536), 'spec.mcp.targets[0].static.port: must be a port number from 1 to 65535'],
    ['protocol WebSocket', (b) => (target(b).static.protocol = 'WebSocket'), 'spec.mcp.targets[0].static.protocol: must be one of StreamableHTTP, SSE (got "WebSocket")'],
    ['a path without a leading slash', (b) => (target(b).static.path = 'sse'), 'spec.mcp.targets[0].static.path: invalid path "sse": must start with "/"'],
    ['an unknown prefix mode', (b) => (b.spec.mcp.prefixMode = 'Sometimes'), 'spec.mcp.prefixMode: must be one of Conditional, Always, Never (got "Sometimes")'],
    ['an unknown failure mode', (b) => (b.spec.mcp.failureMode = 'FailSafe'), 'spec.mcp.failureMode: must be one of FailClosed, FailOpen (got "FailSafe")'],
    ['a target selector', (b) => (target(b).selector = { services: { matchLabels: { app: 'catalog' } } }), `spec.mcp.targets[0].selector: ${UNSUPPORTED}`],
    ['session routing', (b) => (b.spec.mcp.sessionRouting = 'Stateless'), `spec.mcp.sessionRouting: ${UNSUPPORTED}`],
    ['an AI backend', (b) => (b.spec.ai = { provider: { openai: { model: 'gpt-4o-mini' } } }), `spec.ai: ${UNSUPPORTED}`],
    ['a static backend', (b) => (b.spec.static = { host: 'catalog-mcp', port: 3001 }), `spec.static: ${UNSUPPORTED}`],
    ['a dynamic forward proxy', (b) => (b.spec.dynamicForwardProxy = { enabled: true }), `spec.dynamicForwardProxy: ${UNSUPPORTED}`],
  ])('refuses %s', (_description, edit, expected) => {
    expect(problemLines(backendFile(edit))).toEqual([`${SUBJECT}: ${expected}`]);
  });

  it('says when a field is misspelt', () => {
    expect(problemLines(backendFile((b) => ((b.spec.mcp.target = b.spec.mcp.targets), delete b.spec.mcp.targets)))).toEqual([
      `${SUBJECT}: spec.mcp.targets: is required`,
      `${SUBJECT}: spec.mcp.target: is not a field of AgentgatewayBackend (did you mean "targets"?)`,
    ]);
  });
});

describe('AgentgatewayPolicy', () => {
  const SUBJECT = 'deploy/x.yaml: document 0 (AgentgatewayPolicy trustusbank-platform/account-mcp-allowlist)';
  const policyFile = (edit: (policy: YamlObject) => void) => editedDocument('agentgateway.yaml', 2, edit);
  const authorization = (p: YamlObject) => p.spec.traffic.authorization;
  const jwtProvider = { issuer: 'http://lab6', jwks: { inline: JWKS } };
  const withJwt = (p: YamlObject, provider: YamlObject) => (p.spec.traffic.jwtAuthentication = { providers: [provider] });

  it('loads the account-mcp allowlist, an HTTPRoute-level CEL authorization', () => {
    expect(loaded(2)).toEqual({
      apiVersion: 'agentgateway.dev/v1alpha1',
      kind: 'AgentgatewayPolicy',
      metadata: { name: 'account-mcp-allowlist', namespace: 'trustusbank-platform' },
      spec: {
        targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'account-mcp-route' }],
        traffic: {
          authorization: {
            action: 'Allow',
            policy: {
              matchExpressions: [
                'mcp.method == "initialize"',
                'mcp.method == "tools/list"',
                'mcp.method == "tools/call"',
                'mcp.tool.name == "get_balance"',
                'mcp.tool.name == "get_profile"',
              ],
            },
          },
        },
      },
    });
  });

  it('accepts JWT authentication, local rate limits and MCP authorization, adding no defaults', () => {
    const spec = {
      targetRefs: [
        { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'trustusbank-agentgw', sectionName: 'mcp' },
        { group: 'agentgateway.dev', kind: 'AgentgatewayBackend', name: 'mcp-be' },
      ],
      traffic: {
        authorization: { policy: { matchExpressions: ['jwt.sub == "alice"'] } },
        jwtAuthentication: { providers: [jwtProvider, { issuer: 'https://dex.local', audiences: ['kagent'], jwks: { remote: { url: 'https://dex.local/keys' } } }] },
        rateLimit: { local: [{ requests: 10, unit: 'Seconds' }, { requests: 100, unit: 'Hours', burst: 0 }] },
      },
      backend: { mcp: { authorization: { action: 'Deny', policy: { matchExpressions: ['mcp.tool.name == "transfer"'] } } } },
    };
    const [result] = parseManifests(policyFile((p) => (p.spec = spec)), 'x.yaml');
    expect((result!.resource as AgentgatewayPolicy).spec).toEqual(spec);
  });

  it.each<[string, (p: YamlObject) => void, string]>([
    ['no targetRefs', (p) => delete p.spec.targetRefs, 'spec.targetRefs: is required'],
    ['an empty targetRefs', (p) => (p.spec.targetRefs = []), 'spec.targetRefs: must list at least one target (a Gateway, an HTTPRoute or an AgentgatewayBackend)'],
    ['a target without a group', (p) => delete p.spec.targetRefs[0].group, 'spec.targetRefs[0].group: is required'],
    ['an HTTPRoute in the agentgateway group', (p) => (p.spec.targetRefs[0].group = 'agentgateway.dev'), 'spec.targetRefs[0].group: must be "gateway.networking.k8s.io" for kind HTTPRoute (got "agentgateway.dev")'],
    [
      'an AgentgatewayBackend in the Gateway API group',
      (p) => (p.spec.targetRefs[0] = { group: 'gateway.networking.k8s.io', kind: 'AgentgatewayBackend', name: 'mcp-be' }),
      'spec.targetRefs[0].group: must be "agentgateway.dev" for kind AgentgatewayBackend (got "gateway.networking.k8s.io")',
    ],
    [
      'a Service target',
      (p) => (p.spec.targetRefs[0] = { group: '', kind: 'Service', name: 'account-mcp' }),
      'spec.targetRefs[0].kind: Service is a Solo agentgateway targetRef kind TrustUsBank does not support yet (supported: Gateway, HTTPRoute, AgentgatewayBackend)',
    ],
    ['a target kind that does not exist', (p) => (p.spec.targetRefs[0].kind = 'Route'), 'spec.targetRefs[0].kind: must be one of Gateway, HTTPRoute, AgentgatewayBackend (got "Route")'],
    ['neither traffic nor backend', (p) => delete p.spec.traffic, 'spec: must set at least one policy under traffic or backend.mcp (this policy does nothing)'],
    ['an empty traffic and backend', (p) => ((p.spec.traffic = {}), (p.spec.backend = { mcp: {} })), 'spec: must set at least one policy under traffic or backend.mcp (this policy does nothing)'],
    ['an authorization without expressions', (p) => (authorization(p).policy.matchExpressions = []), 'spec.traffic.authorization.policy.matchExpressions: must list at least one CEL expression'],
    ['an empty expression', (p) => (authorization(p).policy.matchExpressions[1] = ''), 'spec.traffic.authorization.policy.matchExpressions[1]: must not be empty'],
    ['a blank expression', (p) => (authorization(p).policy.matchExpressions[1] = '   '), 'spec.traffic.authorization.policy.matchExpressions[1]: must not be empty'],
    ['an expression that is not a string', (p) => (authorization(p).policy.matchExpressions[1] = true), 'spec.traffic.authorization.policy.matchExpressions[1]: expected a string, got the boolean true (quote it in YAML: unquoted true/false, yes/no, y/n and on/off are booleans)'],
    ['an authorization without a policy', (p) => delete authorization(p).policy, 'spec.traffic.authorization.policy: is required'],
    ['a lower-case action', (p) => (authorization(p).action = 'allow'), 'spec.traffic.authorization.action: must be one of Allow, Deny, Require (got "allow")'],
    ['JWT authentication without providers', (p) => (p.spec.traffic.jwtAuthentication = { providers: [] }), 'spec.traffic.jwtAuthentication.providers: must list at least one provider'],
    ['an unknown JWT mode', (p) => (p.spec.traffic.jwtAuthentication = { mode: 'Lenient', providers: [jwtProvider] }), 'spec.traffic.jwtAuthentication.mode: must be one of Strict, Optional, Permissive (got "Lenient")'],
    ['a provider without an issuer', (p) => withJwt(p, { jwks: { inline: JWKS } }), 'spec.traffic.jwtAuthentication.providers[0].issuer: is required'],
    ['a provider without jwks', (p) => withJwt(p, { issuer: 'http://lab6' }), 'spec.traffic.jwtAuthentication.providers[0].jwks: is required'],
    ['jwks with neither inline nor remote', (p) => withJwt(p, { issuer: 'http://lab6', jwks: {} }), 'spec.traffic.jwtAuthentication.providers[0].jwks: must set exactly one of inline or remote (neither is set)'],
    [
      'jwks both inline and remote',
      (p) => withJwt(p, { issuer: 'http://lab6', jwks: { inline: JWKS, remote: { url: 'https://dex.local/keys' } } }),
      'spec.traffic.jwtAuthentication.providers[0].jwks: must set exactly one of inline or remote (both are set)',
    ],
    [
      'inline jwks that is not JSON (a shell variable left unexpanded)',
      (p) => withJwt(p, { issuer: 'http://lab6', jwks: { inline: '${LAB6_JWKS}' } }),
      `spec.traffic.jwtAuthentication.providers[0].jwks.inline: is not valid JSON: ${jsonError('${LAB6_JWKS}')}`,
    ],
    ['inline jwks without keys', (p) => withJwt(p, { issuer: 'http://lab6', jwks: { inline: '{"kty": "RSA"}' } }), 'spec.traffic.jwtAuthentication.providers[0].jwks.inline: must be a JSON Web Key Set: a JSON object with a "keys" list'],
    ['inline jwks that is a list', (p) => withJwt(p, { issuer: 'http://lab6', jwks: { inline: '[]' } }), 'spec.traffic.jwtAuthentication.providers[0].jwks.inline: must be a JSON Web Key Set: a JSON object with a "keys" list'],
    [
      'a remote jwks over ftp',
      (p) => withJwt(p, { issuer: 'http://lab6', jwks: { remote: { url: 'ftp://dex.local/keys' } } }),
      'spec.traffic.jwtAuthentication.providers[0].jwks.remote.url: invalid URL "ftp://dex.local/keys": must be an http:// or https:// URL (not ftp://)',
    ],
    [
      'a remote jwks that is not a URL',
      (p) => withJwt(p, { issuer: 'http://lab6', jwks: { remote: { url: 'dex.local/keys' } } }),
      'spec.traffic.jwtAuthentication.providers[0].jwks.remote.url: invalid URL "dex.local/keys": must be an http:// or https:// URL',
    ],
    [
      'a remote jwks cache duration in words',
      (p) => withJwt(p, { issuer: 'http://lab6', jwks: { remote: { url: 'https://dex.local/keys', cacheDuration: '10 minutes' } } }),
      'spec.traffic.jwtAuthentication.providers[0].jwks.remote.cacheDuration: invalid duration "10 minutes": must be a Go duration such as "30s", "5m", "1h" or "1h30m"',
    ],
    [
      'a remote jwks by backendRef',
      (p) => withJwt(p, { issuer: 'http://lab6', jwks: { remote: { url: 'https://dex.local/keys', backendRef: { name: 'dex', port: 5556 } } } }),
      `spec.traffic.jwtAuthentication.providers[0].jwks.remote.backendRef: ${UNSUPPORTED}`,
    ],
    ['a rate limit of 0 requests', (p) => (p.spec.traffic.rateLimit = { local: [{ requests: 0, unit: 'Seconds' }] }), 'spec.traffic.rateLimit.local[0].requests: must be 1 or more'],
    ['a negative burst', (p) => (p.spec.traffic.rateLimit = { local: [{ requests: 5, unit: 'Seconds', burst: -1 }] }), 'spec.traffic.rateLimit.local[0].burst: must be 0 or more'],
    ['a rate limit per day', (p) => (p.spec.traffic.rateLimit = { local: [{ requests: 5, unit: 'Days' }] }), 'spec.traffic.rateLimit.local[0].unit: must be one of Seconds, Minutes, Hours (got "Days")'],
    ['a rate limit without a unit', (p) => (p.spec.traffic.rateLimit = { local: [{ requests: 5 }] }), 'spec.traffic.rateLimit.local[0].unit: is required'],
    ['an empty list of local limits', (p) => (p.spec.traffic.rateLimit = { local: [] }), 'spec.traffic.rateLimit.local: must list at least one limit'],
    ['a global rate limit', (p) => (p.spec.traffic.rateLimit = { local: [{ requests: 5, unit: 'Seconds' }], global: { domain: 'bank' } }), `spec.traffic.rateLimit.global: ${UNSUPPORTED}`],
    ['a token rate limit', (p) => (p.spec.traffic.rateLimit = { local: [{ requests: 5, tokens: 1000, unit: 'Minutes' }] }), `spec.traffic.rateLimit.local[0].tokens: ${UNSUPPORTED}`],
    ['token exchange', (p) => (p.spec.traffic.tokenExchange = { issuer: 'https://agentgw.local' }), `spec.traffic.tokenExchange: ${ENTERPRISE_ONLY}`],
    ['DLP', (p) => (p.spec.backend = { mcp: { dlp: { matchers: [{ builtin: 'Email' }] } } }), `spec.backend.mcp.dlp: ${ENTERPRISE_ONLY}`],
    ['tool pinning', (p) => (p.spec.backend = { mcp: { toolPinning: { action: 'Alert' } } }), `spec.backend.mcp.toolPinning: ${ENTERPRISE_ONLY}`],
    ['CORS', (p) => (p.spec.traffic.cors = { allowOrigins: ['https://bank.local'] }), `spec.traffic.cors: ${UNSUPPORTED}`],
    ['header modifiers', (p) => (p.spec.traffic.headerModifiers = { request: { add: [{ name: 'x-a', value: 'b' }] } }), `spec.traffic.headerModifiers: ${UNSUPPORTED}`],
    ['external authorization', (p) => (p.spec.traffic.extAuth = { backendRef: { name: 'ext-authz', port: 9000 } }), `spec.traffic.extAuth: ${UNSUPPORTED}`],
    ['a transformation', (p) => (p.spec.traffic.transformation = { request: { remove: ['cookie'] } }), `spec.traffic.transformation: ${UNSUPPORTED}`],
    ['timeouts', (p) => (p.spec.traffic.timeouts = { request: '10s' }), `spec.traffic.timeouts: ${UNSUPPORTED}`],
    ['retries', (p) => (p.spec.traffic.retry = { attempts: 3 }), `spec.traffic.retry: ${UNSUPPORTED}`],
    ['backend TLS', (p) => (p.spec.backend = { tls: { sni: 'account-mcp' } }), `spec.backend.tls: ${UNSUPPORTED}`],
    ['backend AI policies', (p) => (p.spec.backend = { ai: { modelAliases: { fast: 'gpt-4o-mini' } } }), `spec.backend.ai: ${UNSUPPORTED}`],
    ['backend A2A policies', (p) => (p.spec.backend = { a2a: { enabled: true } }), `spec.backend.a2a: ${UNSUPPORTED}`],
    ['MCP authentication', (p) => (p.spec.backend = { mcp: { authentication: { issuer: 'x' } } }), `spec.backend.mcp.authentication: ${UNSUPPORTED}`],
    ['a frontend policy', (p) => (p.spec.frontend = { http: { maxBufferSize: 1024 } }), `spec.frontend: ${UNSUPPORTED}`],
    ['target selectors', (p) => (p.spec.targetSelectors = [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', matchLabels: { app: 'mcp' } }]), `spec.targetSelectors: ${UNSUPPORTED}`],
  ])('refuses %s', (_description, edit, expected) => {
    expect(problemLines(policyFile(edit))).toEqual([`${SUBJECT}: ${expected}`]);
  });

  it('accepts empty unsupported fields, as generators write them', () => {
    expect(problemLines(policyFile((p) => ((p.spec.traffic.cors = {}), (p.spec.frontend = {}))))).toEqual([]);
  });

  it('refuses the whole EnterpriseAgentgatewayPolicy apiVersion for AgentgatewayPolicy', () => {
    expect(problemLines(policyFile((p) => (p.apiVersion = 'enterpriseagentgateway.solo.io/v1alpha1')))).toEqual([
      `${SUBJECT}: apiVersion: enterpriseagentgateway.solo.io/v1alpha1 is not a supported apiVersion for AgentgatewayPolicy (supported: agentgateway.dev/v1alpha1)`,
    ]);
  });
});

describe('EnterpriseAgentgatewayPolicy', () => {
  const SUBJECT = 'deploy/x.yaml: document 0 (EnterpriseAgentgatewayPolicy ai-tools/mcp-guardrails)';
  const policyFile = (edit: (policy: YamlObject) => void) => editedDocument('agentgateway.yaml', 9, edit);
  const dlp = (p: YamlObject) => p.spec.backend.mcp.dlp;
  const exchange = (p: YamlObject) => p.spec.traffic.tokenExchange;

  it('loads the lab policies: identity authorization, inline JWKS, per-user MCP authorization', () => {
    expect(loaded(6)).toEqual({
      apiVersion: 'enterpriseagentgateway.solo.io/v1alpha1',
      kind: 'EnterpriseAgentgatewayPolicy',
      metadata: { name: 'waypoint-authz', namespace: 'ai-tools' },
      spec: {
        targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'agw-waypoint' }],
        traffic: { authorization: { action: 'Allow', policy: { matchExpressions: ['source.identity.serviceAccount == "dev-ui"'] } } },
      },
    });
    expect(loaded(7)).toMatchObject({
      spec: { traffic: { jwtAuthentication: { mode: 'Strict', providers: [{ issuer: 'http://lab6', audiences: ['lab6'], jwks: { inline: JWKS } }] } } },
    });
    expect(loaded(8)).toMatchObject({
      spec: {
        targetRefs: [{ group: 'agentgateway.dev', kind: 'AgentgatewayBackend', name: 'mcp-be' }],
        backend: { mcp: { authorization: { action: 'Allow', policy: { matchExpressions: [expect.stringContaining('jwt.sub == "alice"'), expect.any(String), expect.any(String)] } } } },
      },
    });
  });

  it('loads the bank guardrails: rate limit, token exchange, DLP and tool pinning', () => {
    expect(loaded(9)).toEqual({
      apiVersion: 'enterpriseagentgateway.solo.io/v1alpha1',
      kind: 'EnterpriseAgentgatewayPolicy',
      metadata: { name: 'mcp-guardrails', namespace: 'ai-tools' },
      spec: {
        targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'agw-waypoint', sectionName: 'http' }],
        traffic: {
          rateLimit: { local: [{ requests: 20, unit: 'Minutes', burst: 5 }] },
          tokenExchange: {
            issuer: 'https://agentgw.trustusbank.local',
            tokenExpiration: '5m',
            subjectValidator: { issuer: 'http://dex.trustusbank-platform:5556/dex', audiences: ['kagent'], jwks: { remote: { url: 'http://dex.trustusbank-platform:5556/dex/keys', cacheDuration: '10m' } } },
          },
        },
        backend: {
          mcp: {
            dlp: { action: 'RedactInPlace', scope: ['Arguments', 'Results'], matchers: [{ builtin: 'UkNiNumber' }, { builtin: 'CreditCard' }, { name: 'account-number', regex: '\\b\\d{8}\\b' }] },
            toolPinning: { action: 'HideDrifted' },
          },
        },
      },
    });
  });

  it('takes a results side: its own action, and CEL choosing whose results are inspected', () => {
    const [result] = parseManifests(
      policyFile((p) => {
        delete p.spec.traffic;
        p.spec.backend.mcp = {
          dlp: {
            action: 'Reject',
            scope: ['Arguments', 'Results'],
            matchers: [{ builtin: 'Email' }, { builtin: 'DateOfBirth' }, { builtin: 'PersonName' }, { builtin: 'StreetAddress' }],
            results: { action: 'RedactInPlace', matchExpressions: ['mcp.tool.name == "get_profile" && source.identity.serviceAccount != "fraud-bot"'] },
          },
        };
      }),
      'x.yaml',
    );
    expect((result!.resource as EnterpriseAgentgatewayPolicy).spec.backend?.mcp?.dlp?.results).toEqual({
      action: 'RedactInPlace',
      matchExpressions: ['mcp.tool.name == "get_profile" && source.identity.serviceAccount != "fraud-bot"'],
    });
  });

  it('leaves defaults to the reader: a DLP policy with only matchers stays that way', () => {
    const [result] = parseManifests(
      policyFile((p) => {
        delete p.spec.traffic;
        p.spec.backend.mcp = { dlp: { matchers: [{ builtin: 'Email' }] } };
      }),
      'x.yaml',
    );
    expect((result!.resource as EnterpriseAgentgatewayPolicy).spec).toEqual({ targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'agw-waypoint', sectionName: 'http' }], backend: { mcp: { dlp: { matchers: [{ builtin: 'Email' }] } } } });
  });

  it.each<[string, (p: YamlObject) => void, string]>([
    ['a matcher with a builtin and a regex', (p) => (dlp(p).matchers[0].regex = '\\d+'), 'spec.backend.mcp.dlp.matchers[0].builtin: cannot be combined with name or regex: a matcher is either a built-in or a named regex'],
    ['a matcher with a builtin and a name', (p) => (dlp(p).matchers[0].name = 'ni'), 'spec.backend.mcp.dlp.matchers[0].builtin: cannot be combined with name or regex: a matcher is either a built-in or a named regex'],
    ['an empty matcher', (p) => (dlp(p).matchers[0] = {}), 'spec.backend.mcp.dlp.matchers[0]: must set builtin, or name and regex'],
    ['a named matcher without a regex', (p) => delete dlp(p).matchers[2].regex, 'spec.backend.mcp.dlp.matchers[2].regex: is required with name'],
    ['a regex without a name', (p) => delete dlp(p).matchers[2].name, 'spec.backend.mcp.dlp.matchers[2].name: is required with regex (it names the matcher in logs and redactions)'],
    ['a regex that does not compile', (p) => (dlp(p).matchers[2].regex = '(\\d{8}'), 'spec.backend.mcp.dlp.matchers[2].regex: is not a valid regular expression: Unterminated group'],
    ['a regex with inline flags', (p) => (dlp(p).matchers[2].regex = '(?i)acct-\\d+'), 'spec.backend.mcp.dlp.matchers[2].regex: is not a valid regular expression: Invalid group'],
    ['an unknown builtin', (p) => (dlp(p).matchers[0].builtin = 'Iban'), 'spec.backend.mcp.dlp.matchers[0].builtin: must be one of UkNiNumber, Email, UkPostcode, Phone, CreditCard, DateOfBirth, PersonName, StreetAddress (got "Iban")'],
    ['the same builtin twice', (p) => dlp(p).matchers.push({ builtin: 'UkNiNumber' }), 'spec.backend.mcp.dlp.matchers[3].builtin: duplicates the name "UkNiNumber" of matchers[0]'],
    ['two custom matchers with one name', (p) => dlp(p).matchers.push({ name: 'account-number', regex: 'ACC\\d+' }), 'spec.backend.mcp.dlp.matchers[3].name: duplicates the name "account-number" of matchers[2]'],
    ['no matchers', (p) => (dlp(p).matchers = []), 'spec.backend.mcp.dlp.matchers: must list at least one matcher'],
    ['an unknown DLP action', (p) => (dlp(p).action = 'Mask'), 'spec.backend.mcp.dlp.action: must be one of Reject, RedactInPlace (got "Mask")'],
    ['an empty DLP scope', (p) => (dlp(p).scope = []), 'spec.backend.mcp.dlp.scope: must not be empty (leave it out to inspect Arguments)'],
    ['an unknown DLP scope', (p) => (dlp(p).scope = ['Prompts']), 'spec.backend.mcp.dlp.scope[0]: must be one of Arguments, Results (got "Prompts")'],
    ['a results side without Results in scope', (p) => Object.assign(dlp(p), { scope: ['Arguments'], results: { action: 'Reject' } }), 'spec.backend.mcp.dlp.results: is set but scope does not list Results: add Results to scope, or remove results'],
    ['an unknown results action', (p) => (dlp(p).results = { action: 'Mask' }), 'spec.backend.mcp.dlp.results.action: must be one of Reject, RedactInPlace (got "Mask")'],
    ['an empty results matchExpressions', (p) => (dlp(p).results = { matchExpressions: [] }), 'spec.backend.mcp.dlp.results.matchExpressions: must list at least one CEL expression (leave it out to inspect every result)'],
    ['a results expression that does not compile', (p) => (dlp(p).results = { matchExpressions: ['mcp.tool.name =='] }), 'spec.backend.mcp.dlp.results.matchExpressions[0]: is not a valid CEL authorization rule: Unexpected token: EOF'],
    ['an unknown results field', (p) => (dlp(p).results = { tools: ['get_profile'] }), 'spec.backend.mcp.dlp.results.tools: is not a field of EnterpriseAgentgatewayPolicy'],
    ['tool pinning without an action', (p) => (p.spec.backend.mcp.toolPinning = {}), 'spec.backend.mcp.toolPinning.action: is required'],
    ['an unknown tool pinning action', (p) => (p.spec.backend.mcp.toolPinning.action = 'Block'), 'spec.backend.mcp.toolPinning.action: must be one of Alert, HideDrifted, BlockServer (got "Block")'],
    [
      'a token lifetime in words',
      (p) => (exchange(p).tokenExpiration = '5 minutes'),
      'spec.traffic.tokenExchange.tokenExpiration: invalid duration "5 minutes": must be a Go duration such as "30s", "5m", "1h" or "1h30m"',
    ],
    ['a token lifetime in days', (p) => (exchange(p).tokenExpiration = '1d'), 'spec.traffic.tokenExchange.tokenExpiration: invalid duration "1d": must be a Go duration such as "30s", "5m", "1h" or "1h30m"'],
    ['a token lifetime without a unit', (p) => (exchange(p).tokenExpiration = 300), 'spec.traffic.tokenExchange.tokenExpiration: expected a string, got the number 300 (quote it in YAML: "8080" is a string, 8080 a number)'],
    ['a zero token lifetime', (p) => (exchange(p).tokenExpiration = '0s'), 'spec.traffic.tokenExchange.tokenExpiration: invalid duration "0s": must be longer than 0'],
    ['token exchange without an issuer', (p) => delete exchange(p).issuer, 'spec.traffic.tokenExchange.issuer: is required'],
    ['token exchange without a subject validator', (p) => delete exchange(p).subjectValidator, 'spec.traffic.tokenExchange.subjectValidator: is required'],
    [
      'a subject validator with two key sets',
      (p) => (exchange(p).subjectValidator.jwks.inline = JWKS),
      'spec.traffic.tokenExchange.subjectValidator.jwks: must set exactly one of inline or remote (both are set)',
    ],
    ['a target in the wrong group', (p) => (p.spec.targetRefs[0].group = 'agentgateway.dev'), 'spec.targetRefs[0].group: must be "gateway.networking.k8s.io" for kind Gateway (got "agentgateway.dev")'],
    ['CORS', (p) => (p.spec.traffic.cors = { allowOrigins: ['https://bank.local'] }), `spec.traffic.cors: ${UNSUPPORTED}`],
    ['backend TLS', (p) => (p.spec.backend.tls = { sni: 'account-mcp' }), `spec.backend.tls: ${UNSUPPORTED}`],
    ['a frontend policy', (p) => (p.spec.frontend = { http: { maxBufferSize: 1024 } }), `spec.frontend: ${UNSUPPORTED}`],
  ])('refuses %s', (_description, edit, expected) => {
    expect(problemLines(policyFile(edit))).toEqual([`${SUBJECT}: ${expected}`]);
  });

  it('refuses a policy that sets nothing', () => {
    expect(problemLines(policyFile((p) => ((p.spec.traffic = {}), (p.spec.backend = {}))))).toEqual([`${SUBJECT}: spec: must set at least one policy under traffic or backend.mcp (this policy does nothing)`]);
  });
});

/** The JSON.parse message Node gives for `text`, which differs between Node versions. */
function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${text} is valid JSON`);
}
