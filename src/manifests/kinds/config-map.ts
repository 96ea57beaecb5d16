// ConfigMap (v1): string data. The engine reads one of them, as Istio does: `istio` in `istio-system`, whose
// `mesh` key is the mesh config (src/control-plane/mesh-config.ts checks and reads it).
import { z } from 'zod';
import { kubeObject, type Expect, type SameShape } from '../fields.ts';
import { dns1123SubdomainProblem } from '../names.ts';
import { OBJECT_BOOKKEEPING, objectMeta } from '../object-meta.ts';
import type { ConfigMap } from '../types.ts';

export const configMapSchema = kubeObject(
  { apiVersion: z.literal('v1'), kind: z.literal('ConfigMap'), metadata: objectMeta(dns1123SubdomainProblem), data: z.record(z.string(), z.string()).optional() },
  { bookkeeping: OBJECT_BOOKKEEPING, unsupported: ['binaryData', 'immutable'] },
);

type _ConfigMapSchemaMatchesType = Expect<SameShape<z.output<typeof configMapSchema>, ConfigMap>>;
