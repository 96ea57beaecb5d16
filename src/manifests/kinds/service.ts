// Service (v1): a ClusterIP name in front of the pods its selector picks.
import { z } from 'zod';
import { checkedString, kubeObject, labelMap, portNumber, portNumberOrName, supportedValue, tcpProtocol, type Expect, type SameShape } from '../fields.ts';
import { dns1035LabelProblem, dns1123LabelProblem } from '../names.ts';
import { OBJECT_BOOKKEEPING, objectMeta } from '../object-meta.ts';
import type { Service } from '../types.ts';

const servicePort = kubeObject(
  {
    name: checkedString(dns1123LabelProblem, 'port name').optional(),
    port: portNumber,
    targetPort: portNumberOrName.optional(),
    protocol: tcpProtocol.optional(),
    appProtocol: z.string().min(1, { error: 'must not be empty' }).optional(),
  },
  { unsupported: ['nodePort'] },
);

const SERVICE_UNSUPPORTED = [
  'clusterIP',
  'clusterIPs',
  'externalIPs',
  'externalName',
  'sessionAffinity',
  'sessionAffinityConfig',
  'loadBalancerIP',
  'loadBalancerSourceRanges',
  'loadBalancerClass',
  'allocateLoadBalancerNodePorts',
  'externalTrafficPolicy',
  'internalTrafficPolicy',
  'healthCheckNodePort',
  'publishNotReadyAddresses',
  'ipFamilies',
  'ipFamilyPolicy',
  'trafficDistribution',
];

const serviceSpec = kubeObject(
  {
    type: supportedValue(['ClusterIP'], { what: 'Service type', unsupported: ['NodePort', 'LoadBalancer', 'ExternalName'] }).optional(),
    selector: labelMap.optional(),
    ports: z.array(servicePort).min(1, { error: 'must list at least one port' }),
  },
  { unsupported: SERVICE_UNSUPPORTED },
).superRefine((spec, ctx) => {
  // As Kubernetes: with several ports each needs a distinct name (clients pick ports by name), and two
  // entries may not claim the same port.
  const names = new Map<string, number>();
  const numbers = new Map<number, number>();
  spec.ports.forEach((port, i) => {
    if (port.name === undefined) {
      if (spec.ports.length > 1) ctx.addIssue({ code: 'custom', path: ['ports', i, 'name'], message: 'is required when a Service has more than one port' });
    } else if (names.has(port.name)) {
      ctx.addIssue({ code: 'custom', path: ['ports', i, 'name'], message: `duplicates the name of ports[${names.get(port.name)}]` });
    } else names.set(port.name, i);
    if (numbers.has(port.port)) ctx.addIssue({ code: 'custom', path: ['ports', i, 'port'], message: `duplicates port ${port.port} of ports[${numbers.get(port.port)}]` });
    else numbers.set(port.port, i);
  });
});

export const serviceSchema = kubeObject(
  { apiVersion: z.literal('v1'), kind: z.literal('Service'), metadata: objectMeta(dns1035LabelProblem), spec: serviceSpec },
  { bookkeeping: OBJECT_BOOKKEEPING },
);

type _ServiceSchemaMatchesType = Expect<SameShape<z.output<typeof serviceSchema>, Service>>;
