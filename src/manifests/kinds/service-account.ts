// ServiceAccount (v1): the identity a pod runs as, and so its SPIFFE ID in the mesh.
import { z } from 'zod';
import { kubeObject, type Expect, type SameShape } from '../fields.ts';
import { dns1123SubdomainProblem } from '../names.ts';
import { OBJECT_BOOKKEEPING, objectMeta } from '../object-meta.ts';
import type { ServiceAccount } from '../types.ts';

export const serviceAccountSchema = kubeObject(
  { apiVersion: z.literal('v1'), kind: z.literal('ServiceAccount'), metadata: objectMeta(dns1123SubdomainProblem) },
  { bookkeeping: OBJECT_BOOKKEEPING, unsupported: ['secrets', 'imagePullSecrets', 'automountServiceAccountToken'] },
);

type _ServiceAccountSchemaMatchesType = Expect<SameShape<z.output<typeof serviceAccountSchema>, ServiceAccount>>;
