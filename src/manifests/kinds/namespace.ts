// Namespace (v1): a name and labels. Cluster-scoped.
import { z } from 'zod';
import { kubeObject, type Expect, type SameShape } from '../fields.ts';
import { dns1123LabelProblem } from '../names.ts';
import { OBJECT_BOOKKEEPING, objectMeta } from '../object-meta.ts';
import type { Namespace } from '../types.ts';

export const namespaceSchema = kubeObject(
  { apiVersion: z.literal('v1'), kind: z.literal('Namespace'), metadata: objectMeta(dns1123LabelProblem) },
  // A Namespace's spec holds only `finalizers`, which the API server fills in (`[kubernetes]`) and which
  // only governs deletion; exported Namespaces carry it, so it is bookkeeping here.
  { bookkeeping: [...OBJECT_BOOKKEEPING, 'spec'] },
);

type _NamespaceSchemaMatchesType = Expect<SameShape<z.output<typeof namespaceSchema>, Namespace>>;
