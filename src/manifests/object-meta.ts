// `metadata` of every object and of pod templates.
import { annotationMap, checkedString, kubeObject, labelMap } from './fields.ts';
import { dns1123LabelProblem } from './names.ts';

/**
 * What API servers write into `metadata` for themselves. `kubectl get -o yaml` exports them; they say nothing
 * about the desired state, so they are accepted and dropped.
 */
export const METADATA_BOOKKEEPING = [
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'generation',
  'managedFields',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
] as const;

/** Top-level fields every kind tolerates and drops: `status` is observed state, written by controllers. */
export const OBJECT_BOOKKEEPING = ['status'] as const;

const METADATA_UNSUPPORTED = ['generateName', 'finalizers', 'ownerReferences'];

/** Object metadata; `nameProblem` is the kind's name rule (Services need DNS-1035 labels, most kinds subdomains). */
export function objectMeta(nameProblem: (name: string) => string | undefined) {
  return kubeObject(
    {
      name: checkedString(nameProblem, 'name'),
      namespace: checkedString(dns1123LabelProblem, 'namespace').optional(),
      labels: labelMap.optional(),
      annotations: annotationMap.optional(),
    },
    { bookkeeping: METADATA_BOOKKEEPING, unsupported: METADATA_UNSUPPORTED },
  );
}

/** A pod template's metadata: the labels its selector matches, and annotations. */
export const podTemplateMeta = kubeObject(
  { labels: labelMap, annotations: annotationMap.optional() },
  // `kubectl create deployment --dry-run -o yaml` writes `creationTimestamp: null` here too.
  { bookkeeping: ['creationTimestamp'], unsupported: ['name', 'namespace', 'generateName', 'finalizers', 'ownerReferences'] },
);
