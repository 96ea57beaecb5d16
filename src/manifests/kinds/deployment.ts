// Deployment (apps/v1): one container per pod, configured by image, args, env, ports and an HTTP readiness probe.
import { z } from 'zod';
import { checkedString, kubeObject, labelMap, nonNegativeInt, portNumber, portNumberOrName, positiveInt, tcpProtocol, type Expect, type SameShape } from '../fields.ts';
import { imageReferenceProblem } from '../image-reference.ts';
import { dns1123LabelProblem, dns1123SubdomainProblem, envVarNameProblem, portNameProblem } from '../names.ts';
import { OBJECT_BOOKKEEPING, objectMeta, podTemplateMeta } from '../object-meta.ts';
import type { Deployment } from '../types.ts';

const containerPort = kubeObject(
  { containerPort: portNumber, name: checkedString(portNameProblem, 'port name').optional(), protocol: tcpProtocol.optional() },
  { unsupported: ['hostPort', 'hostIP'] },
);

const envVar = kubeObject(
  { name: checkedString(envVarNameProblem, 'environment variable name'), value: z.string().optional() },
  { unsupported: ['valueFrom'], hints: { valueFrom: 'give the variable a literal value' } },
).superRefine((env, ctx) => {
  // Kubernetes would default a missing value to ""; an absent value is far more often a mistake, and
  // `valueFrom` (reported above when present) is the other reason to leave it out.
  if (env.value === undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: 'is required: TrustUsBank needs a literal value (valueFrom is not supported)' });
});

const httpGetAction = kubeObject(
  { path: z.string().startsWith('/', { error: "must start with '/'" }), port: portNumberOrName },
  { unsupported: ['host', 'scheme', 'httpHeaders'] },
);

const readinessProbe = kubeObject(
  {
    httpGet: httpGetAction,
    initialDelaySeconds: nonNegativeInt.optional(),
    periodSeconds: positiveInt.optional(),
    timeoutSeconds: positiveInt.optional(),
    failureThreshold: positiveInt.optional(),
  },
  { unsupported: ['exec', 'tcpSocket', 'grpc', 'successThreshold', 'terminationGracePeriodSeconds'], hints: { exec: 'use httpGet', tcpSocket: 'use httpGet', grpc: 'use httpGet' } },
);

const CONTAINER_UNSUPPORTED = [
  'command',
  'workingDir',
  'envFrom',
  'resources',
  'resizePolicy',
  'restartPolicy',
  'volumeMounts',
  'volumeDevices',
  'livenessProbe',
  'startupProbe',
  'lifecycle',
  'terminationMessagePath',
  'terminationMessagePolicy',
  'imagePullPolicy',
  'securityContext',
  'stdin',
  'stdinOnce',
  'tty',
];

const container = kubeObject(
  {
    name: checkedString(dns1123LabelProblem, 'container name'),
    image: checkedString((image) => imageReferenceProblem(image), 'image reference'),
    args: z.array(z.string()).optional(),
    env: z.array(envVar).optional(),
    ports: z.array(containerPort).optional(),
    readinessProbe: readinessProbe.optional(),
  },
  { unsupported: CONTAINER_UNSUPPORTED, hints: { command: "the image's own entrypoint runs, so pass arguments with args" } },
).superRefine((spec, ctx) => {
  const names = new Map<string, number>();
  spec.ports?.forEach((port, i) => {
    if (port.name === undefined) return;
    const first = names.get(port.name);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['ports', i, 'name'], message: `duplicates the name of ports[${first}]` });
    else names.set(port.name, i);
  });
  const probePort = spec.readinessProbe?.httpGet.port;
  if (typeof probePort === 'string' && !names.has(probePort)) {
    const declared = [...names.keys()];
    ctx.addIssue({
      code: 'custom',
      path: ['readinessProbe', 'httpGet', 'port'],
      message: `names port "${probePort}", which this container does not declare (${declared.length > 0 ? `declared: ${declared.join(', ')}` : 'no named ports'})`,
    });
  }
});

const singleContainer = z
  .array(container)
  .superRefine(
    (containers, ctx) => {
      if (containers.length === 0) ctx.addIssue({ code: 'custom', message: 'needs one container', continue: true });
      else if (containers.length > 1) {
        ctx.addIssue({
          code: 'custom',
          message: `has ${containers.length} containers, but TrustUsBank runs exactly one container per pod (multi-container pods and sidecars are not supported)`,
          continue: true,
        });
      }
    },
    // Counting needs only the list, so say it even when a container inside is also wrong.
    { when: (payload) => Array.isArray(payload.value) },
  )
    // types.ts spells "exactly one" as a one-element tuple.
  .transform((containers) => containers as [z.output<typeof container>]);

const POD_UNSUPPORTED = [
  'volumes',
  'initContainers',
  'ephemeralContainers',
  'restartPolicy',
  'terminationGracePeriodSeconds',
  'activeDeadlineSeconds',
  'dnsPolicy',
  'dnsConfig',
  'nodeSelector',
  'nodeName',
  'serviceAccount',
  'automountServiceAccountToken',
  'hostNetwork',
  'hostPID',
  'hostIPC',
  'shareProcessNamespace',
  'securityContext',
  'imagePullSecrets',
  'hostname',
  'subdomain',
  'affinity',
  'schedulerName',
  'tolerations',
  'hostAliases',
  'priorityClassName',
  'priority',
  'readinessGates',
  'runtimeClassName',
  'enableServiceLinks',
  'preemptionPolicy',
  'overhead',
  'topologySpreadConstraints',
  'setHostnameAsFQDN',
  'os',
  'hostUsers',
  'schedulingGates',
  'resourceClaims',
  'resources',
];

const podSpec = kubeObject(
  { serviceAccountName: checkedString(dns1123SubdomainProblem, 'service account name').optional(), containers: singleContainer },
  { unsupported: POD_UNSUPPORTED, hints: { serviceAccount: 'use serviceAccountName' } },
);

const deploymentSpec = kubeObject(
  {
    replicas: nonNegativeInt.optional(),
    selector: kubeObject({ matchLabels: labelMap }, { unsupported: ['matchExpressions'], hints: { matchExpressions: 'use matchLabels' } }),
    template: kubeObject({ metadata: podTemplateMeta, spec: podSpec }),
  },
  { unsupported: ['strategy', 'minReadySeconds', 'revisionHistoryLimit', 'progressDeadlineSeconds', 'paused'] },
).superRefine((spec, ctx) => {
  const selector = Object.entries(spec.selector.matchLabels);
  if (selector.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['selector', 'matchLabels'], message: 'must not be empty: a Deployment selects its pods by label' });
    return;
  }
  // Kubernetes refuses a Deployment whose selector does not select its own pod template.
  const labels = spec.template.metadata.labels;
  const missing = selector.filter(([key, value]) => labels[key] !== value).map(([key, value]) => `${key}=${value}`);
  if (missing.length > 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['template', 'metadata', 'labels'],
      message: `do not match spec.selector.matchLabels: missing ${missing.join(', ')} (the selector must select the pod template's labels)`,
    });
  }
});

export const deploymentSchema = kubeObject(
  { apiVersion: z.literal('apps/v1'), kind: z.literal('Deployment'), metadata: objectMeta(dns1123SubdomainProblem), spec: deploymentSpec },
  { bookkeeping: OBJECT_BOOKKEEPING },
);

type _DeploymentSchemaMatchesType = Expect<SameShape<z.output<typeof deploymentSchema>, Deployment>>;
