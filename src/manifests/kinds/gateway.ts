// Gateway API Gateway (gateway.networking.k8s.io/v1), for three classes: Istio's ambient waypoint
// (`istio-waypoint`, HBONE listeners only) and the agentgateway classes (`agentgateway`, the MCP gateway with its
// HTTP listeners, and `enterprise-agentgateway-waypoint`, an agentgateway acting as waypoint, HTTP plus HBONE).
import { z } from 'zod';
import { kubeObject, supportedValue, type Expect, type SameShape } from '../fields.ts';
import { dns1123SubdomainProblem } from '../names.ts';
import { OBJECT_BOOKKEEPING, objectMeta } from '../object-meta.ts';
import { GATEWAY_CLASSES, type Gateway, type GatewayClassName } from '../types.ts';

export const WAYPOINT_CLASS = 'istio-waypoint';
export const AGENTGATEWAY_CLASSES = ['agentgateway', 'enterprise-agentgateway-waypoint'] as const;

/** The listener protocols each class accepts; the first is the one it needs at least one of. */
const CLASS_PROTOCOLS: Readonly<Record<GatewayClassName, readonly ['HBONE' | 'HTTP', ...('HBONE' | 'HTTP')[]]>> = {
  'istio-waypoint': ['HBONE'],
  agentgateway: ['HTTP'],
  'enterprise-agentgateway-waypoint': ['HTTP', 'HBONE'],
};

const allowedRoutes = kubeObject(
  {
    namespaces: kubeObject(
      { from: supportedValue(['Same', 'All'], { what: 'allowedRoutes.namespaces.from value', unsupported: ['Selector', 'None'] }) },
      { unsupported: ['selector'] },
    ).optional(),
  },
  { unsupported: ['kinds'] },
);

const listener = kubeObject(
  {
    name: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    protocol: supportedValue(['HBONE', 'HTTP'], { what: 'listener protocol', unsupported: ['HTTPS', 'TLS', 'TCP', 'UDP'] }),
    allowedRoutes: allowedRoutes.optional(),
  },
  { unsupported: ['hostname', 'tls'] },
);

const gatewaySpec = kubeObject(
  {
    gatewayClassName: supportedValue(GATEWAY_CLASSES, { what: 'gateway class' }),
    listeners: z.array(listener).min(1),
  },
  { unsupported: ['addresses', 'infrastructure', 'backendTLS', 'allowedListeners'] },
).superRefine((spec, ctx) => {
  const className = spec.gatewayClassName;
  const protocols = CLASS_PROTOCOLS[className];
  const names = new Map<string, number>();
  const ports = new Map<number, number>();
  let wrongProtocol = false;
  spec.listeners.forEach((entry, i) => {
    if (!protocols.includes(entry.protocol)) {
      wrongProtocol = true;
      ctx.addIssue({ code: 'custom', path: ['listeners', i, 'protocol'], message: `must be ${protocols.join(' or ')} for class ${className} (got "${entry.protocol}")` });
    }
    if (names.has(entry.name)) ctx.addIssue({ code: 'custom', path: ['listeners', i, 'name'], message: `duplicates the name of listeners[${names.get(entry.name)}]` });
    else names.set(entry.name, i);
    if (ports.has(entry.port)) ctx.addIssue({ code: 'custom', path: ['listeners', i, 'port'], message: `duplicates port ${entry.port} of listeners[${ports.get(entry.port)}]` });
    else ports.set(entry.port, i);
  });
  // An agentgateway serves HTTP (MCP over Streamable HTTP or SSE); a waypoint of that class may add HBONE.
  if (className !== WAYPOINT_CLASS && !wrongProtocol && !spec.listeners.some((entry) => entry.protocol === 'HTTP')) {
    ctx.addIssue({ code: 'custom', path: ['listeners'], message: `needs at least one HTTP listener for class ${className}` });
  }
});

export const gatewaySchema = kubeObject(
  { apiVersion: z.literal('gateway.networking.k8s.io/v1'), kind: z.literal('Gateway'), metadata: objectMeta(dns1123SubdomainProblem), spec: gatewaySpec },
  { bookkeeping: OBJECT_BOOKKEEPING },
);

type _ClassesCoverTheType = Expect<SameShape<typeof WAYPOINT_CLASS | (typeof AGENTGATEWAY_CLASSES)[number], GatewayClassName>>;
type _GatewaySchemaMatchesType = Expect<SameShape<z.output<typeof gatewaySchema>, Gateway>>;
