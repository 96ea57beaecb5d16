// What the gateway understands of A2A: the JSON-RPC method of a request (A2A 1.0 names such as
// `SendMessage`, and 0.3 names such as `message/send`), and agent cards, whose URLs it rewrites to point at
// itself so a client that read the card through the gateway keeps calling through the gateway.

/** A2A 0.3 method names and their 1.0 equivalents, so a policy can name either. */
const V03_TO_V10: Readonly<Record<string, string>> = {
  'message/send': 'SendMessage',
  'message/stream': 'SendStreamingMessage',
  'tasks/get': 'GetTask',
  'tasks/list': 'ListTasks',
  'tasks/cancel': 'CancelTask',
  'tasks/resubscribe': 'SubscribeToTask',
  'tasks/pushNotificationConfig/set': 'CreateTaskPushNotificationConfig',
  'tasks/pushNotificationConfig/get': 'GetTaskPushNotificationConfig',
  'tasks/pushNotificationConfig/list': 'ListTaskPushNotificationConfigs',
  'tasks/pushNotificationConfig/delete': 'DeleteTaskPushNotificationConfig',
  'agent/getAuthenticatedExtendedCard': 'GetExtendedAgentCard',
};

export interface A2aRequest {
  /** The method as sent. */
  method: string;
  /** The A2A 1.0 name of the method (the same when it already is one). */
  operation: string;
  /** 1.0 or 0.3, from the method's naming. */
  version: '1.0' | '0.3';
}

/** The A2A method of a JSON-RPC body, if it is one. */
export function parseA2aRequest(body: string): A2aRequest | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const method = (value as { method?: unknown }).method;
  if (typeof method !== 'string') return undefined;
  const mapped = V03_TO_V10[method];
  if (mapped) return { method, operation: mapped, version: '0.3' };
  return { method, operation: method, version: method.includes('/') ? '0.3' : '1.0' };
}

export const AGENT_CARD_PATHS = ['/.well-known/agent-card.json', '/.well-known/agent.json'];

/** Is this a request for an agent card (the path ends in one of the well-known names)? */
export function agentCardBase(path: string): string | undefined {
  const bare = path.split('?')[0]!;
  const suffix = AGENT_CARD_PATHS.find((p) => bare.endsWith(p));
  return suffix === undefined ? undefined : bare.slice(0, bare.length - suffix.length);
}

/**
 * Point every URL of a card at the gateway: `url` (0.3), `additionalInterfaces[].url` (0.3) and
 * `supportedInterfaces[].url` (1.0). The path an interface had is replaced by the path the card was
 * fetched under, which is where the gateway routes this agent.
 */
export function rewriteAgentCard(card: Record<string, unknown>, gatewayBase: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...card };
  if (typeof out.url === 'string') out.url = gatewayBase;
  for (const key of ['additionalInterfaces', 'supportedInterfaces']) {
    const list = out[key];
    if (Array.isArray(list)) out[key] = list.map((entry: unknown) => (entry && typeof entry === 'object' && 'url' in entry ? { ...(entry as object), url: gatewayBase } : entry));
  }
  return out;
}
