// Istio AuthorizationPolicy for TrustUsBank's mesh: ztunnel (L4) and waypoint (L7) decisions as a pure library.
export { AuthorizationPolicyEngine, DEFAULT_ROOT_NAMESPACE, type AuthorizationPolicyEngineOptions } from './engine.ts';
export type {
  ConnectionAttributes,
  Decision,
  DecisionReason,
  DestinationAttributes,
  HttpAttributes,
  PolicyRef,
  PolicyTarget,
  PolicyTargetKind,
  PolicyWarning,
  PolicyWarningCode,
  SourceAttributes,
  WorkloadRef,
} from './types.ts';
