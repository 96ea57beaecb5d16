// Pieces the Istio security kinds share.
import { z } from 'zod';
import { kubeObject, labelMap } from '../fields.ts';

export const ISTIO_SECURITY_API_VERSIONS = ['security.istio.io/v1', 'security.istio.io/v1beta1'] as const;

export const istioSecurityApiVersion = z.enum(ISTIO_SECURITY_API_VERSIONS);

/** Istio's WorkloadSelector: labels only (no matchExpressions in Istio's API). */
export const workloadSelector = kubeObject({ matchLabels: labelMap.optional() });

/** Istio carries ports as strings of digits (`"8080"`), in policy rules and as `portLevelMtls` keys. */
export function portStringProblem(value: string): string | undefined {
  if (!/^[0-9]+$/.test(value)) return 'must be a port number written as a string of digits (e.g. "8080")';
  const port = Number(value);
  if (port < 1 || port > 65535) return 'must be a port number from 1 to 65535';
  return undefined;
}
