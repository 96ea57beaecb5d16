import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.ts';
import { ManifestError } from './errors.ts';
import { loadManifestPath, loadManifestPaths, manifestFiles, parseManifests } from './load.ts';
import { problemLines, readTestdata } from './testdata/support.ts';
import type { Deployment } from './types.ts';

const namespace = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`;

function manifestError(run: () => unknown): ManifestError {
  try {
    run();
  } catch (error) {
    if (error instanceof ManifestError) return error;
    throw error;
  }
  throw new Error('expected a ManifestError');
}

describe('parseManifests', () => {
  it('skips empty and comment-only documents but keeps their positions as document indexes', () => {
    const text = ['---', namespace('a'), '---', '---', '# only a comment', '---', 'null', '---', namespace('b'), '---', ''].join('\n');
    const loaded = parseManifests(text, 'ns.yaml');
    expect(loaded.map(({ resource, origin }) => [resource.metadata.name, origin])).toEqual([
      ['a', { file: 'ns.yaml', index: 0 }],
      ['b', { file: 'ns.yaml', index: 4 }],
    ]);
  });

  it('counts documents as YAML does: comments before the first "---" belong to the first document', () => {
    const loaded = parseManifests(`# Namespaces of the bank\n---\n${namespace('a')}---\n${namespace('b')}`, 'ns.yaml');
    expect(loaded.map(({ origin }) => origin.index)).toEqual([0, 1]);
  });

  it('loads the realistic bank manifests in document order', () => {
    const loaded = parseManifests(readTestdata('bank-mcp.yaml') + '---\n' + readTestdata('policies.yaml'), 'all.yaml');
    expect(loaded.map(({ resource, origin }) => `${origin.index} ${resource.kind} ${resource.metadata.namespace ?? '-'}/${resource.metadata.name}`)).toEqual([
      '0 ServiceAccount trustusbank-bank-mcp/account-mcp',
      '1 Deployment trustusbank-bank-mcp/account-mcp',
      '2 Service trustusbank-bank-mcp/account-mcp',
      '3 Namespace -/external-attacker',
      '4 AuthorizationPolicy external-attacker/deny-bank-to-attacker',
      '5 AuthorizationPolicy trustusbank-bank-vendors/default-deny',
      '6 PeerAuthentication trustusbank-bank-mcp/default',
    ]);
  });

  it('reports a YAML syntax error with its document index, line and column, and still checks the other documents', () => {
    const text = `${namespace('a')}---\napiVersion: v1\nkind: Namespace\nmetadata: { name: b\n---\napiVersion: v1\nkind: Nothing\n`;
    const error = manifestError(() => parseManifests(text, 'deploy/x.yaml'));
    expect(error.issues).toEqual([
      { file: 'deploy/x.yaml', index: 1, path: '', message: expect.stringMatching(/^YAML syntax error: /), line: 9, column: 1 },
      expect.objectContaining({ index: 2, path: 'kind', line: 11 }),
    ]);
    expect(error.message.split('\n')[0]).toMatch(/^deploy\/x\.yaml: document 1: YAML syntax error: .+ \(line 9, column 1\)$/);
  });

  it('reports a duplicate key as a YAML error at the repeated key', () => {
    const error = manifestError(() => parseManifests('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  name: b\n', 'x.yaml'));
    expect(error.message).toBe('x.yaml: document 0: YAML syntax error: Map keys must be unique (line 5, column 3)');
  });

  it('reports every problem of every document together, in reading order, with lines', () => {
    const text = [
      'apiVersion: apps/v1', //                   1
      'kind: Deployment',
      'metadata:',
      '  name: account-mcp',
      '  namespace: trustusbank-bank-mcp', //     5
      'spec:',
      '  replicas: many',
      '  selector: { matchLabels: { app: account-mcp } }',
      '  template:',
      '    metadata: { labels: { app: account-mcp } }', // 10
      '    spec:',
      '      containers:',
      '        - name: account-mcp',
      '          image: trustusbank/account-mcp:1.0.0',
      '          imagePullPolicy: IfNotPresent', // 15
      '---',
      'apiVersion: v1',
      'kind: Service',
      'metadata: { name: account-mcp, namespace: trustusbank-bank-mcp }',
      'spec:', //                                 20
      '  type: LoadBalancer',
      '  ports: [{ port: 80, targetport: http }]',
      '---',
      'apiVersion: networking.k8s.io/v1',
      'kind: Ingress', //                         25
      'metadata: { name: web }',
    ].join('\n');
    expect(manifestError(() => parseManifests(text, 'deploy/x.yaml')).message.split('\n')).toEqual([
      'deploy/x.yaml: document 0 (Deployment trustusbank-bank-mcp/account-mcp): spec.replicas: expected a number, got the string "many" (line 7, column 3)',
      'deploy/x.yaml: document 0 (Deployment trustusbank-bank-mcp/account-mcp): spec.template.spec.containers[0].imagePullPolicy: is a Kubernetes field TrustUsBank does not support yet (line 15, column 11)',
      'deploy/x.yaml: document 1 (Service trustusbank-bank-mcp/account-mcp): spec.type: LoadBalancer is a Kubernetes Service type TrustUsBank does not support yet (supported: ClusterIP) (line 21, column 3)',
      'deploy/x.yaml: document 1 (Service trustusbank-bank-mcp/account-mcp): spec.ports[0].targetport: is not a field of Service (did you mean "targetPort"?) (line 22, column 23)',
      'deploy/x.yaml: document 2 (Ingress web): kind: unknown kind "Ingress"; TrustUsBank supports AccessPolicy, Agent, AgentgatewayBackend, AgentgatewayPolicy, AuthorizationPolicy, ClusterPolicy, ConfigMap, Deployment, EnterpriseAgentgatewayPolicy, Gateway, HTTPRoute, ModelConfig, Namespace, PeerAuthentication, PrometheusRule, ReferenceGrant, RemoteMCPServer, Service, ServiceAccount, ServiceEntry (line 25, column 1)',
    ]);
  });

  it('carries structured issues: file, index, kind, namespace, name, path, message', () => {
    const error = manifestError(() => parseManifests('apiVersion: v1\nkind: Service\nmetadata: { name: web, namespace: shop }\nspec: { ports: [{ port: 0 }] }\n', 'svc.yaml'));
    expect(error).toBeInstanceOf(UserError);
    expect(error.issues).toEqual([
      { file: 'svc.yaml', index: 0, kind: 'Service', namespace: 'shop', name: 'web', path: 'spec.ports[0].port', message: 'must be a port number from 1 to 65535', line: 4, column: 19 },
    ]);
  });

  it.each([
    ['a list', '- a\n- b\n', 'deploy/x.yaml: document 0: expected a Kubernetes object (a mapping with apiVersion, kind and metadata), got a list'],
    ['a string', 'hello\n', 'deploy/x.yaml: document 0: expected a Kubernetes object (a mapping with apiVersion, kind and metadata), got the string "hello"'],
    ['no apiVersion', 'kind: Namespace\nmetadata: { name: a }\n', 'deploy/x.yaml: document 0 (Namespace a): apiVersion: is required'],
    ['no kind', 'apiVersion: v1\nmetadata: { name: a }\n', 'deploy/x.yaml: document 0: kind: is required'],
    ['a kind in the wrong case', 'apiVersion: apps/v1\nkind: deployment\nmetadata: { name: a }\n', `deploy/x.yaml: document 0 (deployment a): kind: unknown kind "deployment" (did you mean "Deployment"?); TrustUsBank supports AccessPolicy, Agent, AgentgatewayBackend, AgentgatewayPolicy, AuthorizationPolicy, ClusterPolicy, ConfigMap, Deployment, EnterpriseAgentgatewayPolicy, Gateway, HTTPRoute, ModelConfig, Namespace, PeerAuthentication, PrometheusRule, ReferenceGrant, RemoteMCPServer, Service, ServiceAccount, ServiceEntry`],
    ['a retired apiVersion', 'apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: { name: a }\n', 'deploy/x.yaml: document 0 (Deployment default/a): apiVersion: extensions/v1beta1 is not a supported apiVersion for Deployment (supported: apps/v1)'],
    [
      'an Istio kind at an old apiVersion',
      'apiVersion: security.istio.io/v1alpha1\nkind: AuthorizationPolicy\nmetadata: { name: a, namespace: b }\n',
      'deploy/x.yaml: document 0 (AuthorizationPolicy b/a): apiVersion: security.istio.io/v1alpha1 is not a supported apiVersion for AuthorizationPolicy (supported: security.istio.io/v1, security.istio.io/v1beta1)',
    ],
    ['an unknown top-level field', `${namespace('a')}sepc: {}\n`, 'deploy/x.yaml: document 0 (Namespace a): sepc: is not a field of Namespace'],
  ])('refuses a document that is %s', (_description, text, expected) => {
    expect(problemLines(text)).toEqual([expected]);
  });

  it('reads YAML as Kubernetes does (1.1): unquoted yes/on are booleans, dates stay strings', () => {
    const text = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels: { enabled: yes }\n  annotations: { released: 2026-01-07 }\n';
    expect(problemLines(text)).toEqual([
      'deploy/x.yaml: document 0 (Namespace a): metadata.labels.enabled: expected a string, got the boolean true (quote it in YAML: unquoted true/false, yes/no, y/n and on/off are booleans)',
    ]);
    const quoted = parseManifests(text.replace('yes', '"yes"'), 'x.yaml');
    expect(quoted[0]!.resource.metadata).toEqual({ name: 'a', labels: { enabled: 'yes' }, annotations: { released: '2026-01-07' } });
  });

  it('follows anchors, aliases and merge keys, and refuses an alias that contains itself', () => {
    const text = 'apiVersion: v1\nkind: Service\nmetadata: { name: a, labels: &labels { app: a } }\nspec:\n  selector: { <<: *labels, tier: bank }\n  ports: [{ port: 80 }]\n';
    expect(parseManifests(text, 'x.yaml')[0]!.resource).toMatchObject({ spec: { selector: { app: 'a', tier: 'bank' } } });
    expect(problemLines(`${namespace('a')}---\nloop: &loop [*loop]\n`)).toEqual(['deploy/x.yaml: document 1: YAML error: an alias refers to a node that contains it (the document would be infinite)']);
  });

  it('treats a field with no value (null) as absent, as the Kubernetes decoder does', () => {
    const text = 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n  namespace:\n  labels:\n';
    expect(parseManifests(text, 'x.yaml')[0]!.resource.metadata).toEqual({ name: 'a', namespace: 'default' });
  });

  it('refuses two documents for the same object, naming where the first one is', () => {
    const error = manifestError(() => parseManifests(`${namespace('a')}---\n${namespace('b')}---\n${namespace('a')}`, 'ns.yaml'));
    expect(error.message).toBe('ns.yaml: document 2 (Namespace a): metadata.name: Namespace a is already defined in ns.yaml document 0 (line 14, column 3)');
  });
});

describe('kubectl-exported YAML', () => {
  it('loads a `kubectl get -o yaml` List, dropping server bookkeeping (uid, resourceVersion, managedFields, status, ...)', () => {
    const loaded = parseManifests(readTestdata('kubectl-export.yaml'), 'export.yaml');
    expect(loaded.map((l) => l.origin)).toEqual([
      { file: 'export.yaml', index: 0 },
      { file: 'export.yaml', index: 0 },
    ]);
    expect(loaded[0]!.resource).toEqual({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'ticket-mcp', namespace: 'trustusbank-bank-mcp' } });
    const deployment = loaded[1]!.resource as Deployment;
    expect(deployment.metadata).toEqual({
      name: 'ticket-mcp',
      namespace: 'trustusbank-bank-mcp',
      annotations: {
        'deployment.kubernetes.io/revision': '1',
        'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"ticket-mcp","namespace":"trustusbank-bank-mcp"}}\n',
      },
    });
    expect(deployment).not.toHaveProperty('status');
    expect(deployment.spec.template).toEqual({
      metadata: { labels: { app: 'ticket-mcp' } },
      spec: { serviceAccountName: 'ticket-mcp', containers: [{ name: 'ticket-mcp', image: 'trustusbank/ticket-mcp:1.0.0' }] },
    });
  });

  it('loads `kubectl create --dry-run -o yaml` output: null timestamps and empty unsupported fields ask for nothing', () => {
    const [loaded] = parseManifests(readTestdata('kubectl-create-dry-run.yaml'), 'dry-run.yaml');
    expect(loaded!.resource).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'account-mcp', namespace: 'trustusbank-bank-mcp', labels: { app: 'account-mcp' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'account-mcp' } },
        template: { metadata: { labels: { app: 'account-mcp' } }, spec: { containers: [{ name: 'account-mcp', image: 'trustusbank/account-mcp:1.0.0' }] } },
      },
    });
  });

  it('names the item of a List that is wrong', () => {
    const text = 'apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Namespace\n    metadata: { name: ok }\n  - apiVersion: v1\n    kind: Namespace\n    metadata: { name: Not-OK }\n';
    expect(problemLines(text)).toEqual([
      `deploy/x.yaml: document 0 (Namespace Not-OK): items[1].metadata.name: invalid name "Not-OK": must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. "account-mcp")`,
    ]);
  });
});

describe('loading files', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  function tree(files: Record<string, string>): string {
    const root = mkdtempSync(join(tmpdir(), 'tub-manifests-'));
    dirs.push(root);
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    return root;
  }

  it('loads a directory recursively: *.yaml and *.yml only, in path order', () => {
    const root = tree({
      'workloads/b.yaml': namespace('from-workloads-b'),
      'namespaces.yaml': namespace('from-namespaces'),
      'workloads/a.yml': namespace('from-workloads-a'),
      'policies/mesh/default-deny.yaml': namespace('from-policies'),
      'README.md': '# not a manifest',
      'kustomization.json': '{}',
    });
    expect(manifestFiles(root).map((file) => file.slice(root.length + 1))).toEqual(['namespaces.yaml', 'policies/mesh/default-deny.yaml', 'workloads/a.yml', 'workloads/b.yaml']);
    // The initial manifests leave the on-demand layers out (a top-level directory only), and Alertmanager's own
    // configuration is never a manifest.
    expect(manifestFiles(root, ['policies']).map((file) => file.slice(root.length + 1))).toEqual(['namespaces.yaml', 'workloads/a.yml', 'workloads/b.yaml']);
    expect(manifestFiles(join(root, 'workloads'), ['policies']).map((file) => file.slice(root.length + 1))).toEqual(['workloads/a.yml', 'workloads/b.yaml']);
    expect(loadManifestPath(root).map((l) => [l.resource.metadata.name, l.origin.file.slice(root.length + 1)])).toEqual([
      ['from-namespaces', 'namespaces.yaml'],
      ['from-policies', 'policies/mesh/default-deny.yaml'],
      ['from-workloads-a', 'workloads/a.yml'],
      ['from-workloads-b', 'workloads/b.yaml'],
    ]);
  });

  it('loads a single file whatever its extension', () => {
    const root = tree({ 'ns.txt': namespace('a') });
    expect(loadManifestPath(join(root, 'ns.txt'))).toEqual([
      { origin: { file: join(root, 'ns.txt'), index: 0 }, resource: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } } },
    ]);
  });

  it('reports the problems of every file together, and duplicates across files', () => {
    const root = tree({ 'a.yaml': `${namespace('bank')}---\n${namespace('Bad')}`, 'b.yaml': namespace('bank') });
    const error = manifestError(() => loadManifestPath(root));
    expect(error.issues.map((issue) => [issue.file.slice(root.length + 1), issue.index, issue.path])).toEqual([
      ['a.yaml', 1, 'metadata.name'],
      ['b.yaml', 0, 'metadata.name'],
    ]);
    expect(error.issues[1]!.message).toBe(`Namespace bank is already defined in ${join(root, 'a.yaml')} document 0`);
  });

  it('loads several paths as one set', () => {
    const root = tree({ 'one/ns.yaml': namespace('one'), 'two.yaml': namespace('two') });
    expect(loadManifestPaths([join(root, 'two.yaml'), join(root, 'one')]).map((l) => l.resource.metadata.name)).toEqual(['two', 'one']);
  });

  it('does not loop on a symbolic link back up the tree', () => {
    const root = tree({ 'ns.yaml': namespace('a') });
    symlinkSync(root, join(root, 'loop'));
    expect(loadManifestPath(root).map((l) => l.resource.metadata.name)).toEqual(['a']);
  });

  it('refuses a path that does not exist with a user error, not a stack trace', () => {
    expect(() => loadManifestPath('/nonexistent/manifests')).toThrow(new UserError('no such file or directory: /nonexistent/manifests'));
  });
});
