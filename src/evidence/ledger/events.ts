// Which log lines are security events, and what the ledger keeps of them. The stack's components already log
// every refusal as one JSON line (ztunnel's access log, the agent gateways' and waypoints' access logs, the
// control plane's admission and image events); the ledger reads the same lines instead of asking every layer to
// call it, so a layer cannot deny without the ledger hearing of it. Data in, data out: a line, or nothing.
import type { LedgerEntry } from './chain.ts';

/** Kinds of resource whose change turns a defence on or off. */
export const POLICY_KINDS = new Set(['AuthorizationPolicy', 'AccessPolicy', 'AgentgatewayPolicy', 'ClusterPolicy', 'Policy', 'PeerAuthentication', 'ServiceEntry', 'PrometheusRule']);

type Line = Record<string, unknown>;
const text = (value: unknown): string => (typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value));

/** The ledger entry a log line stands for, or undefined when it is not a security event. */
export function securityEventOf(raw: string): LedgerEntry | undefined {
  let line: Line;
  try {
    line = JSON.parse(raw) as Line;
  } catch {
    return undefined;
  }
  if (typeof line !== 'object' || line === null) return undefined;
  const time = text(line.ts) || new Date().toISOString();
  const entry = (kind: string, subject: string, data: Record<string, unknown>): LedgerEntry => ({ time, kind, subject, data: Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined && v !== '')) });

  switch (line.component) {
    case 'ztunnel': {
      const error = text(line.error);
      if (line.msg !== 'connection complete' || !error) return undefined;
      const data = { source: text(line['src.identity']), workload: text(line['src.workload']), namespace: text(line['src.namespace']), destination: text(line['dst.service']), destination_identity: text(line['dst.identity']), direction: text(line.direction), reason: error, trace_id: text(line['trace.id']) };
      if (/policy rejection|denied/.test(error)) return entry('mesh.deny', data.source, data);
      if (/ refused: /.test(error)) return entry('mesh.egress_refused', data.source, data);
      return undefined;
    }
    case 'agentgateway': {
      if (line.msg === 'tool drift') return entry('tool.drift', text(line.server), { server: text(line.server), target: text(line.target), changes: line.changes });
      const status = Number(line['http.status']);
      if (line.msg !== 'request' || ![401, 403, 429].includes(status)) return undefined;
      const gateway = text(line.gateway);
      const data = { gateway, route: text(line.route), source: text(line['src.identity']), status, reason: text(line.reason), policy: text(line.policy), mcp_method: text(line['mcp.method.name']), tool: text(line['gen_ai.tool.name']), error: text(line.error), trace_id: text(line['trace.id']) };
      return entry(/-waypoint$/.test(gateway) ? 'accesspolicy.deny' : 'gateway.deny', data.source || gateway, data);
    }
    case 'control-plane': {
      if (line.msg === 'image retagged') return entry('image.retag', text(line.ref), { ref: text(line.ref), from: text(line.from), to: text(line.to), variant: text(line.variant) });
      if (line.msg === 'admission refused' || line.msg === 'pod start refused') {
        return entry('admission.refused', text(line.object), { object: text(line.object), image: text(line.image), digest: text(line.digest), stage: line.msg === 'admission refused' ? 'admission' : 'start', event_reason: text(line.event_reason), policy: text(line.policy), rule: text(line.rule), reason: text(line.reason) });
      }
      if (line.msg === 'resource changed') {
        const resource = text(line.resource);
        if (!POLICY_KINDS.has(resource.split('/')[0] ?? '')) return undefined;
        const action = text(line.action);
        return entry(action === 'deleted' ? 'policy.removed' : 'policy.applied', resource, { resource, action });
      }
      return undefined;
    }
    default:
      return undefined;
  }
}
