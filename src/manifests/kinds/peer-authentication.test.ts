import { describe, expect, it } from 'vitest';
import { parseManifests } from '../load.ts';
import { editedDocument, problemLines, readTestdata, type YamlObject } from '../testdata/support.ts';

const SUBJECT = 'deploy/x.yaml: document 0 (PeerAuthentication trustusbank-bank-mcp/default)';

function peerAuthenticationFile(edit: (policy: YamlObject) => void): string {
  return editedDocument('policies.yaml', 3, edit);
}

describe('PeerAuthentication', () => {
  it('loads a namespace-wide STRICT policy (v1beta1)', () => {
    const loaded = parseManifests(readTestdata('policies.yaml'), 'policies.yaml')[3]!;
    expect(loaded.resource).toEqual({
      apiVersion: 'security.istio.io/v1beta1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace: 'trustusbank-bank-mcp' },
      spec: { mtls: { mode: 'STRICT' } },
    });
  });

  it('accepts port-level mTLS on a selected workload, with ports written as YAML numbers', () => {
    const text = 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: { name: a, namespace: b }\nspec:\n  selector: { matchLabels: { app: a } }\n  mtls: { mode: STRICT }\n  portLevelMtls:\n    8080: { mode: PERMISSIVE }\n';
    expect(parseManifests(text, 'x.yaml')[0]!.resource).toMatchObject({ spec: { portLevelMtls: { '8080': { mode: 'PERMISSIVE' } } } });
  });

  it.each<[string, (p: YamlObject) => void, string]>([
    ['a lower-case mode', (p) => (p.spec.mtls.mode = 'strict'), 'spec.mtls.mode: must be one of STRICT, PERMISSIVE, DISABLE, UNSET (got "strict")'],
    ['port-level mTLS without a selector', (p) => (p.spec.portLevelMtls = { '8080': { mode: 'DISABLE' } }), 'spec.portLevelMtls: needs a selector: a namespace-wide or mesh-wide PeerAuthentication cannot set port-level mTLS'],
    [
      'a port-level key that is not a port',
      (p) => ((p.spec.selector = { matchLabels: { app: 'a' } }), (p.spec.portLevelMtls = { http: { mode: 'DISABLE' } })),
      'spec.portLevelMtls.http: invalid port key "http": must be a port number written as a string of digits (e.g. "8080")',
    ],
    ['a field spelt in the wrong case', (p) => ((p.spec.mTLS = p.spec.mtls), delete p.spec.mtls), 'spec.mTLS: is not a field of PeerAuthentication (did you mean "mtls"?)'],
    ['a field of another kind', (p) => (p.spec.action = 'DENY'), 'spec.action: is not a field of PeerAuthentication'],
  ])('refuses %s', (_description, edit, expected) => {
    expect(problemLines(peerAuthenticationFile(edit))).toEqual([`${SUBJECT}: ${expected}`]);
  });
});
