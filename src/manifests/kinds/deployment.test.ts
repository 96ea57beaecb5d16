import { describe, expect, it } from 'vitest';
import { parseManifests } from '../load.ts';
import { editedDocument, problemLines as problems, readTestdata, type YamlObject } from '../testdata/support.ts';
import type { Deployment } from '../types.ts';

const BANK_MCP = readTestdata('bank-mcp.yaml');
const SUBJECT = 'deploy/x.yaml: document 1 (Deployment trustusbank-bank-mcp/account-mcp)';
const NAMESPACE_DOC = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: trustusbank-bank-mcp\n';

/** The realistic Deployment from testdata, changed by `edit`, as document 1 of a file (after a Namespace). */
function deploymentFile(edit: (deployment: YamlObject) => void): string {
  return `${NAMESPACE_DOC}---\n${editedDocument('bank-mcp.yaml', 1, edit)}`;
}

describe('Deployment', () => {
  it('loads the realistic account-mcp Deployment exactly as written', () => {
    const [, loaded] = parseManifests(BANK_MCP, 'deploy/bank-mcp.yaml');
    expect(loaded!.origin).toEqual({ file: 'deploy/bank-mcp.yaml', index: 1 });
    const deployment = loaded!.resource as Deployment;
    expect(deployment).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'account-mcp', namespace: 'trustusbank-bank-mcp', labels: { app: 'account-mcp', 'app.kubernetes.io/part-of': 'trustusbank' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'account-mcp' } },
        template: {
          metadata: { labels: { app: 'account-mcp', version: 'v1' } },
          spec: {
            serviceAccountName: 'account-mcp',
            containers: [
              {
                name: 'account-mcp',
                image: 'trustusbank/account-mcp:1.0.0',
                args: ['--seed'],
                env: [
                  { name: 'PORT', value: '8080' },
                  { name: 'LOG_LEVEL', value: 'info' },
                ],
                ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
                readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds: 1, periodSeconds: 5 },
              },
            ],
          },
        },
      },
    });
  });

  it('accepts a numeric probe port, replicas 0, a digest-pinned image and the minimum a Deployment needs', () => {
    const text = deploymentFile((d) => {
      d.spec.replicas = 0;
      d.spec.template.spec.containers[0].image = `trustusbank/account-mcp:1.0.0@sha256:${'0f'.repeat(32)}`;
      d.spec.template.spec.containers[0].readinessProbe.httpGet.port = 8080;
      delete d.spec.template.spec.containers[0].ports;
    });
    expect(problems(text)).toEqual([]);
    const minimal = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: a }\nspec:\n  selector: { matchLabels: { app: a } }\n  template:\n    metadata: { labels: { app: a } }\n    spec: { containers: [{ name: a, image: a }] }\n';
    const [loaded] = parseManifests(minimal, 'a.yaml');
    expect(loaded!.resource.metadata).toEqual({ name: 'a', namespace: 'default' });
  });

  type Edit = (d: YamlObject) => void;
  type Case = [description: string, edit: Edit, expected: string[]];
  const container = (d: YamlObject) => d.spec.template.spec.containers[0];

  // Real Kubernetes fields the engine does not implement: each refused by name.
  const unsupportedFields: [path: string, edit: Edit][] = [
    ['spec.template.spec.containers[0].imagePullPolicy', (d) => (container(d).imagePullPolicy = 'Always')],
    ['spec.template.spec.containers[0].resources', (d) => (container(d).resources = { limits: { cpu: '1' } })],
    ['spec.template.spec.containers[0].livenessProbe', (d) => (container(d).livenessProbe = { httpGet: { path: '/healthz', port: 8080 } })],
    ['spec.template.spec.containers[0].securityContext', (d) => (container(d).securityContext = { runAsNonRoot: true })],
    ['spec.template.spec.containers[0].volumeMounts', (d) => (container(d).volumeMounts = [{ name: 'data', mountPath: '/data' }])],
    ['spec.template.spec.volumes', (d) => (d.spec.template.spec.volumes = [{ name: 'data', emptyDir: {} }])],
    ['spec.template.spec.securityContext', (d) => (d.spec.template.spec.securityContext = { fsGroup: 1000 })],
    ['spec.template.spec.automountServiceAccountToken', (d) => (d.spec.template.spec.automountServiceAccountToken = false)],
    ['spec.strategy', (d) => (d.spec.strategy = { type: 'Recreate' })],
    ['spec.template.spec.containers[0].ports[0].hostPort', (d) => (container(d).ports[0].hostPort = 80)],
  ];

  const cases: Case[] = [
    // Unknown fields: not part of the kind at all.
    ['a misspelt field, with a suggestion', (d) => (d.spec.replica = 2), ['spec.replica: is not a field of Deployment (did you mean "replicas"?)']],
    ['a field no Kubernetes object has', (d) => (container(d).colour = 'blue'), ['spec.template.spec.containers[0].colour: is not a field of Deployment']],
    ...unsupportedFields.map(([path, edit]): Case => [`the Kubernetes field ${path}`, edit, [`${path}: is a Kubernetes field TrustUsBank does not support yet`]]),
    [
      'command, with what to do instead',
      (d) => (container(d).command = ['node', 'main.js']),
      ["spec.template.spec.containers[0].command: is a Kubernetes field TrustUsBank does not support yet; the image's own entrypoint runs, so pass arguments with args"],
    ],
    [
      'an env var from a secret',
      (d) => (container(d).env[0] = { name: 'PORT', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }),
      ['spec.template.spec.containers[0].env[0].valueFrom: is a Kubernetes field TrustUsBank does not support yet; give the variable a literal value'],
    ],
    ['an env var without a value', (d) => (container(d).env[0] = { name: 'PORT' }), ['spec.template.spec.containers[0].env[0].value: is required: TrustUsBank needs a literal value (valueFrom is not supported)']],
    [
      'an exec probe',
      (d) => (container(d).readinessProbe = { exec: { command: ['true'] } }),
      ['spec.template.spec.containers[0].readinessProbe.httpGet: is required', 'spec.template.spec.containers[0].readinessProbe.exec: is a Kubernetes field TrustUsBank does not support yet; use httpGet'],
    ],
    [
      'a UDP port',
      (d) => (container(d).ports[0].protocol = 'UDP'),
      ['spec.template.spec.containers[0].ports[0].protocol: UDP is a Kubernetes protocol TrustUsBank does not support yet (supported: TCP)'],
    ],
    // Wrong types.
    ['replicas as a string', (d) => (d.spec.replicas = '2'), ['spec.replicas: expected a number, got the string "2"']],
    ['a fractional replica count', (d) => (d.spec.replicas = 1.5), ['spec.replicas: expected an integer, got the fraction 1.5']],
    ['containers as a mapping', (d) => (d.spec.template.spec.containers = { name: 'a' }), ['spec.template.spec.containers: expected a list, got a mapping']],
    [
      'an unquoted number as env value',
      (d) => (container(d).env[0].value = 8080),
      ['spec.template.spec.containers[0].env[0].value: expected a string, got the number 8080 (quote it in YAML: "8080" is a string, 8080 a number)'],
    ],
    ['a missing template', (d) => delete d.spec.template, ['spec.template: is required']],
    // Names.
    [
      'an invalid object name',
      (d) => (d.metadata.name = 'Account_MCP'),
      [
        `deploy/x.yaml: document 1 (Deployment trustusbank-bank-mcp/Account_MCP): metadata.name: invalid name "Account_MCP": must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit (e.g. "account-mcp")`,
      ],
    ],
    [
      'an invalid namespace',
      (d) => (d.metadata.namespace = 'bank.mcp'),
      [
        `deploy/x.yaml: document 1 (Deployment bank.mcp/account-mcp): metadata.namespace: invalid namespace "bank.mcp": must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. "account-mcp")`,
      ],
    ],
    [
      'an invalid label key',
      (d) => (d.metadata.labels['-tier'] = 'bank'),
      [`metadata.labels["-tier"]: invalid label key "-tier": must be letters, digits, '-', '_' and '.', starting and ending with a letter or digit, after an optional "prefix/" (e.g. "app" or "app.kubernetes.io/name")`],
    ],
    ['a label value over 63 characters', (d) => (d.metadata.labels.app = 'a'.repeat(64)), [`metadata.labels.app: invalid label value "${'a'.repeat(64)}": must be at most 63 characters`]],
    ['a container name with a capital', (d) => (container(d).name = 'Account'), [`spec.template.spec.containers[0].name: invalid container name "Account": must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. "account-mcp")`]],
    // Deployment rules.
    [
      'a selector that does not select the template',
      (d) => (d.spec.selector.matchLabels = { app: 'account-mcp', tier: 'bank' }),
      ["spec.template.metadata.labels: do not match spec.selector.matchLabels: missing tier=bank (the selector must select the pod template's labels)"],
    ],
    ['an empty selector', (d) => (d.spec.selector.matchLabels = {}), ['spec.selector.matchLabels: must not be empty: a Deployment selects its pods by label']],
    ['matchExpressions', (d) => (d.spec.selector.matchExpressions = [{ key: 'app', operator: 'Exists' }]), ['spec.selector.matchExpressions: is a Kubernetes field TrustUsBank does not support yet; use matchLabels']],
    [
      'two containers',
      (d) => d.spec.template.spec.containers.push({ name: 'sidecar', image: 'envoyproxy/envoy:v1.30.0' }),
      ['spec.template.spec.containers: has 2 containers, but TrustUsBank runs exactly one container per pod (multi-container pods and sidecars are not supported)'],
    ],
    ['no container', (d) => (d.spec.template.spec.containers = []), ['spec.template.spec.containers: needs one container']],
    ['negative replicas', (d) => (d.spec.replicas = -1), ['spec.replicas: must be 0 or more']],
    [
      'an invalid image reference',
      (d) => (container(d).image = 'trustusbank/account-mcp:1.0.0@sha256:1234'),
      ['spec.template.spec.containers[0].image: invalid image reference "trustusbank/account-mcp:1.0.0@sha256:1234": has an invalid digest "sha256:1234": expected sha256: followed by 64 lower-case hex digits'],
    ],
    ['port 0', (d) => (container(d).ports[0].containerPort = 0), ['spec.template.spec.containers[0].ports[0].containerPort: must be a port number from 1 to 65535']],
    ['port 65536', (d) => (container(d).ports[0].containerPort = 65536), ['spec.template.spec.containers[0].ports[0].containerPort: must be a port number from 1 to 65535']],
    [
      'two ports with one name',
      (d) => container(d).ports.push({ name: 'http', containerPort: 9090 }),
      ['spec.template.spec.containers[0].ports[1].name: duplicates the name of ports[0]'],
    ],
    [
      'a probe on a port the container does not name',
      (d) => (container(d).readinessProbe.httpGet.port = 'metrics'),
      ['spec.template.spec.containers[0].readinessProbe.httpGet.port: names port "metrics", which this container does not declare (declared: http)'],
    ],
    ['a probe on port 0', (d) => (container(d).readinessProbe.httpGet.port = 0), ['spec.template.spec.containers[0].readinessProbe.httpGet.port: 0 must be a port number from 1 to 65535']],
    ['a probe path without a slash', (d) => (container(d).readinessProbe.httpGet.path = 'healthz'), ["spec.template.spec.containers[0].readinessProbe.httpGet.path: must start with '/'"]],
    ['a probe period of 0', (d) => (container(d).readinessProbe.periodSeconds = 0), ['spec.template.spec.containers[0].readinessProbe.periodSeconds: must be 1 or more']],
    [
      'an invalid env var name',
      (d) => (container(d).env[0].name = '1PORT'),
      [`spec.template.spec.containers[0].env[0].name: invalid environment variable name "1PORT": must be letters, digits, '_', '-' and '.', not starting with a digit (e.g. "FX_API_URL")`],
    ],
  ];

  it.each(cases)('refuses %s', (_description, edit, expected) => {
    const text = deploymentFile(edit);
    expect(problems(text)).toEqual(expected.map((line) => (line.startsWith('deploy/') ? line : `${SUBJECT}: ${line}`)));
  });
});
