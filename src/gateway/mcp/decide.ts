// The gateway's decision on one MCP item (a tool, prompt or resource) for one caller, as one ordered, pure
// pipeline: data in (the caller's attributes, the compiled policies, a snapshot of the pins taken for this
// request), a decision out. A call and a list run the same stages in the same order, so a listed item is always
// one a call to would pass (as far as can be known before the arguments):
//   1. traffic authorization   call: 403 (Authorization)              list: hidden
//   2. tool pinning            HideDrifted: unknown tool; BlockServer: call 403 (ToolPinning), list hidden
//   3. backend authorization   unknown item (agentgateway hides what mcp.authorization denies)
//   4. DLP on arguments        Reject: 403 (DLP); RedactInPlace: forwarded redacted       (calls only)
//   5. undeclared arguments    with HideDrifted or BlockServer: 403 (ToolPinning)        (calls only)
// Resolving names (network), reading the pin store (SQLite), logging and the access record are the handler's.
import type { AuthorizationDecision } from '../../cel/cel.ts';
import { isUnscannable, type DlpFinding } from '../policy/dlp.ts';
import { undeclaredArguments, type ToolDefinition } from '../policy/tool-pinning.ts';
import type { ItemKind } from './federation.ts';
import type { McpPolicies } from './handler.ts';

/** What the pin store says, read once for this request (per server, memoised by `pinSnapshot`). */
export interface PinSnapshot {
  /** Tools of the server whose definition drifted from its pin. */
  drifted(server: string): ReadonlySet<string>;
  /** Whether anything of the server drifted. */
  serverDrifted(server: string): boolean;
  pinned(server: string, tool: string): ToolDefinition | undefined;
}

export interface ItemRequest {
  kind: ItemKind;
  /** The item's name at its target (as resolved). */
  name: string;
  /** The target (route backend) and the server its pins are kept under. */
  target: string;
  server: string;
  /** The call's arguments; absent for a list (not known yet) and for a resource. */
  arguments?: unknown;
}

export type ItemDecision =
  | { kind: 'allow'; arguments?: unknown; redacted?: DlpFinding[] }
  | { kind: 'forbid'; reason: 'Authorization' | 'ToolPinning' | 'DLP'; message: string; policy?: string; decision?: AuthorizationDecision; data?: Record<string, unknown> }
  /** Answered as an unknown item (a call) or left out (a list). `reason` is for the access log. */
  | { kind: 'hide'; reason: 'Authorization' | 'ToolPinning'; policy?: string };

/**
 * Decide one item. `attributes` is the CEL context of the request with its `mcp` attributes (method, the item and,
 * for a call, its argument attributes).
 */
export function decideItem(mode: 'call' | 'list', item: ItemRequest, attributes: Record<string, unknown>, policies: McpPolicies, pins: PinSnapshot): ItemDecision {
  const traffic = policies.traffic.evaluate(attributes);
  if (!traffic.allowed) return mode === 'call' ? { kind: 'forbid', reason: 'Authorization', message: traffic.reason, ...(traffic.policy ? { policy: traffic.policy } : {}), decision: traffic } : { kind: 'hide', reason: 'Authorization', ...(traffic.policy ? { policy: traffic.policy } : {}) };

  const pinning = policies.pinning;
  if (item.kind === 'tool' && pinning) {
    if (pinning.action === 'HideDrifted' && pins.drifted(item.server).has(item.name)) return { kind: 'hide', reason: 'ToolPinning', policy: pinning.policy };
    if (pinning.action === 'BlockServer' && pins.serverDrifted(item.server)) {
      return mode === 'call' ? { kind: 'forbid', reason: 'ToolPinning', message: `server ${item.server} drifted from its pinned tools`, policy: pinning.policy } : { kind: 'hide', reason: 'ToolPinning', policy: pinning.policy };
    }
  }

  const backend = policies.backend.evaluate(attributes);
  if (!backend.allowed) return { kind: 'hide', reason: 'Authorization', ...(backend.policy ? { policy: backend.policy } : {}) };
  if (mode === 'list' || item.kind === 'resource' || item.arguments === undefined) return { kind: 'allow' };

  let forwarded: unknown = item.arguments;
  let redacted: DlpFinding[] | undefined;
  const dlp = policies.dlp;
  if (dlp?.arguments) {
    try {
      if (dlp.action === 'Reject') {
        const findings = dlp.scanner.scan(item.arguments);
        if (findings.length > 0) return { kind: 'forbid', reason: 'DLP', message: `sensitive data in ${item.kind} arguments: ${describeFindings(findings)}`, policy: dlp.policy, data: { findings } };
      } else {
        const { value, findings } = dlp.scanner.redact(item.arguments);
        if (findings.length > 0) {
          forwarded = value;
          redacted = findings;
        }
      }
    } catch (error) {
      if (!isUnscannable(error)) throw error;
      return { kind: 'forbid', reason: 'DLP', message: `${item.kind} arguments cannot be inspected: ${error.message}`, policy: dlp.policy };
    }
  }

  // After DLP, so that PII in an extra argument is reported as what it is.
  if (item.kind === 'tool' && pinning && pinning.action !== 'Alert') {
    const pinned = pins.pinned(item.server, item.name);
    // No pin yet means no list was ever observed; the call is judged by the other layers, as before pinning.
    const extra = pinned === undefined ? [] : undeclaredArguments(pinned.inputSchema, item.arguments);
    if (extra.length > 0) {
      const names = extra.map((name) => JSON.stringify(name)).join(', ');
      return {
        kind: 'forbid',
        reason: 'ToolPinning',
        message: `argument${extra.length > 1 ? 's' : ''} ${names} ${extra.length > 1 ? 'are' : 'is'} not declared in the pinned input schema of ${item.name}`,
        policy: pinning.policy,
        data: { arguments: extra },
      };
    }
  }
  return { kind: 'allow', ...(redacted ? { arguments: forwarded, redacted } : {}) };
}

/** The pin store read for one request: each server's drift report at most once. */
export function pinSnapshot(store: { driftedTools(server: string): Set<string>; status(server: string): { drifted: boolean }[]; pinnedDefinition(server: string, tool: string): ToolDefinition | undefined }): PinSnapshot {
  const drifted = new Map<string, ReadonlySet<string>>();
  const serverDrifted = new Map<string, boolean>();
  return {
    drifted: (server) => {
      let tools = drifted.get(server);
      if (!tools) drifted.set(server, (tools = store.driftedTools(server)));
      return tools;
    },
    serverDrifted: (server) => {
      let value = serverDrifted.get(server);
      if (value === undefined) serverDrifted.set(server, (value = store.status(server).some((report) => report.drifted)));
      return value;
    },
    pinned: (server, tool) => store.pinnedDefinition(server, tool),
  };
}

export function describeFindings(findings: DlpFinding[]): string {
  return findings.map((f) => `${f.matcher} at ${f.path}`).join(', ');
}
