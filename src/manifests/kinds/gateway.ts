// Gateway API Gateway (gateway.networking.k8s.io/v1). For now the class Istio uses for ambient waypoints,
// `istio-waypoint`, with its HBONE listener; the MCP gateway's classes join with the gateway itself.
import { z } from 'zod';
import { kubeObject, supportedValue, type Expect, type SameShape } from '../fields.ts';
import { dns1123SubdomainProblem } from '../names.ts';
import { OBJECT_BOOKKEEPING, objectMeta } from '../object-meta.ts';
import type { Gateway } from '../types.ts';

export const WAYPOINT_CLASS = 'istio-waypoint';

const listener = kubeObject({
  name: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  protocol: supportedValue(['HBONE'], { what: 'listener protocol (a waypoint listens for HBONE)' }),
});

const gatewaySpec = kubeObject(
  {
    gatewayClassName: supportedValue([WAYPOINT_CLASS], { what: 'gateway class (istio-waypoint is supported)' }),
    listeners: z.array(listener).min(1),
  },
  { unsupported: ['addresses', 'infrastructure', 'backendTLS'] },
);

export const gatewaySchema = kubeObject(
  { apiVersion: z.literal('gateway.networking.k8s.io/v1'), kind: z.literal('Gateway'), metadata: objectMeta(dns1123SubdomainProblem), spec: gatewaySpec },
  { bookkeeping: OBJECT_BOOKKEEPING },
);

type _GatewaySchemaMatchesType = Expect<SameShape<z.output<typeof gatewaySchema>, Gateway>>;
