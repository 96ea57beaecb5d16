import { describe, expect, it } from 'vitest';
import { parseManifests } from '../load.ts';
import { editedDocument, problemLines, readTestdata, type YamlObject } from '../testdata/support.ts';

const SUBJECT = 'deploy/x.yaml: document 0 (Service trustusbank-bank-mcp/account-mcp)';

function serviceFile(edit: (service: YamlObject) => void): string {
  return editedDocument('bank-mcp.yaml', 2, edit);
}

describe('Service', () => {
  it('loads the realistic account-mcp Service', () => {
    const [, , loaded] = parseManifests(readTestdata('bank-mcp.yaml'), 'deploy/bank-mcp.yaml');
    expect(loaded).toEqual({
      origin: { file: 'deploy/bank-mcp.yaml', index: 2 },
      resource: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'account-mcp', namespace: 'trustusbank-bank-mcp' },
        spec: { type: 'ClusterIP', selector: { app: 'account-mcp' }, ports: [{ name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' }] },
      },
    });
  });

  it('accepts several named ports, numeric target ports and no selector', () => {
    const text = serviceFile((s) => {
      delete s.spec.selector;
      s.spec.ports = [
        { name: 'http', port: 80, targetPort: 8080 },
        { name: 'metrics', port: 9090 },
      ];
    });
    expect(problemLines(text)).toEqual([]);
  });

  it.each<[string, (s: YamlObject) => void, string]>([
    ['type NodePort', (s) => (s.spec.type = 'NodePort'), 'spec.type: NodePort is a Kubernetes Service type TrustUsBank does not support yet (supported: ClusterIP)'],
    ['type LoadBalancer', (s) => (s.spec.type = 'LoadBalancer'), 'spec.type: LoadBalancer is a Kubernetes Service type TrustUsBank does not support yet (supported: ClusterIP)'],
    ['a type that does not exist', (s) => (s.spec.type = 'Internal'), 'spec.type: must be one of ClusterIP (got "Internal")'],
    ['a fixed clusterIP', (s) => (s.spec.clusterIP = '10.96.0.10'), 'spec.clusterIP: is a Kubernetes field TrustUsBank does not support yet'],
    ['a headless Service', (s) => (s.spec.clusterIP = 'None'), 'spec.clusterIP: is a Kubernetes field TrustUsBank does not support yet'],
    ['a nodePort', (s) => (s.spec.ports[0].nodePort = 30080), 'spec.ports[0].nodePort: is a Kubernetes field TrustUsBank does not support yet'],
    ['sessionAffinity', (s) => (s.spec.sessionAffinity = 'ClientIP'), 'spec.sessionAffinity: is a Kubernetes field TrustUsBank does not support yet'],
    ['no ports', (s) => delete s.spec.ports, 'spec.ports: is required'],
    ['an empty port list', (s) => (s.spec.ports = []), 'spec.ports: must list at least one port'],
    ['port 0', (s) => (s.spec.ports[0].port = 0), 'spec.ports[0].port: must be a port number from 1 to 65535'],
    ['a port given as a string', (s) => (s.spec.ports[0].port = '8080'), 'spec.ports[0].port: expected a number, got the string "8080"'],
    ['target port 70000', (s) => (s.spec.ports[0].targetPort = 70000), 'spec.ports[0].targetPort: 70000 must be a port number from 1 to 65535'],
    [
      'a quoted number as target port',
      (s) => (s.spec.ports[0].targetPort = '8080'),
      'spec.ports[0].targetPort: invalid port name "8080": must contain at least one letter (a number here would be a port number, not a name)',
    ],
    ['a target port that is a list', (s) => (s.spec.ports[0].targetPort = [8080]), 'spec.ports[0].targetPort: expected a port number (1-65535) or a port name'],
    ['a second port without a name', (s) => s.spec.ports.push({ port: 9090 }), 'spec.ports[1].name: is required when a Service has more than one port'],
    ['two ports with one name', (s) => s.spec.ports.push({ name: 'http', port: 9090 }), 'spec.ports[1].name: duplicates the name of ports[0]'],
    ['the same port twice', (s) => s.spec.ports.push({ name: 'other', port: 8080 }), 'spec.ports[1].port: duplicates port 8080 of ports[0]'],
    ['protocol UDP', (s) => (s.spec.ports[0].protocol = 'UDP'), 'spec.ports[0].protocol: UDP is a Kubernetes protocol TrustUsBank does not support yet (supported: TCP)'],
    ['an invalid selector value', (s) => (s.spec.selector.app = 'account mcp'), `spec.selector.app: invalid label value "account mcp": must be empty or letters, digits, '-', '_' and '.', starting and ending with a letter or digit`],
  ])('refuses %s', (_description, edit, expected) => {
    expect(problemLines(serviceFile(edit))).toEqual([`${SUBJECT}: ${expected}`]);
  });

  it('requires a DNS-1035 name: a Service name becomes a DNS label and must start with a letter', () => {
    const text = serviceFile((s) => (s.metadata.name = '1account'));
    expect(problemLines(text)).toEqual([
      `deploy/x.yaml: document 0 (Service trustusbank-bank-mcp/1account): metadata.name: invalid name "1account": must be a DNS-1035 label: lower-case letters, digits and '-', starting with a letter and ending with a letter or digit (e.g. "account-mcp")`,
    ]);
  });
});
