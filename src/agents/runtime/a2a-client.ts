// A small A2A client: one JSON-RPC message to an agent, at protocol 1.0 (`SendMessage`, what agents use to hand
// off to each other) or 0.3 (`message/send`, what the bank's chatbot sends), and the reply read back into what
// the caller needs: the final text, who wrote it, the model, and the tool chain carried as kagent-style data
// parts in the task's history. No Node imports: the chatbot's page bundles the reading half for the browser.
export type A2aProtocol = '1.0' | '0.3';

/** One step of a tool chain, as the reply's data parts carry it. */
export interface ChainEntry {
  type: 'function_call' | 'function_response';
  id: string;
  name: string;
  author: string;
  args?: Record<string, unknown>;
  result?: unknown;
  isError?: boolean;
}

export interface A2aReply {
  text: string;
  /** The agent that wrote the final text. */
  author: string;
  /** The model that agent ran, e.g. `scripted` (offline stand-in) or `anthropic/claude-haiku-4-5`. */
  model: string;
  chain: ChainEntry[];
  taskId: string;
  contextId: string;
  state: string;
  /** No answer, an error answer, or a task that did not complete. */
  failed: boolean;
  /** HTTP status of the exchange. */
  status: number;
}

/** What the client needs of fetch; web fetch fits, and so does a client that dials through the mesh. */
export type A2aFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<{ status: number; ok: boolean; text(): Promise<string> }>;

export interface A2aSendOptions {
  protocol?: A2aProtocol;
  contextId?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  fetch?: A2aFetch;
}

/** Metadata keys on parts and messages, as kagent's ADK names them. */
export const KAGENT_TYPE = 'kagent_type';
export const KAGENT_AUTHOR = 'kagent_author';

export async function sendA2aMessage(url: string, text: string, options: A2aSendOptions = {}): Promise<A2aReply> {
  const protocol = options.protocol ?? '1.0';
  const messageId = crypto.randomUUID();
  const body =
    protocol === '1.0'
      ? { jsonrpc: '2.0', id: messageId, method: 'SendMessage', params: { message: { messageId, role: 'ROLE_USER', parts: [{ text }], ...(options.contextId ? { contextId: options.contextId } : {}) } } }
      : { jsonrpc: '2.0', id: messageId, method: 'message/send', params: { message: { kind: 'message', messageId, role: 'user', parts: [{ kind: 'text', text }], ...(options.contextId ? { contextId: options.contextId } : {}) } } };
  const response = await (options.fetch ?? (fetch as A2aFetch))(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'a2a-version': protocol, ...options.headers },
    body: JSON.stringify(body),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const raw = await response.text();
  const failure = (message: string): A2aReply => ({ text: message, author: '', model: '', chain: [], taskId: '', contextId: '', state: 'failed', failed: true, status: response.status });
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return failure(`${url} answered HTTP ${response.status}: ${raw.slice(0, 300) || '(no body)'}`);
  }
  if (!response.ok && !('result' in parsed)) {
    // JSON-RPC errors carry {error: {message}}; a proxy's refusal (a waypoint's 403) {error, message}.
    const detail = isRecord(parsed.error) ? String(parsed.error.message ?? JSON.stringify(parsed.error)) : typeof parsed.message === 'string' ? `${String(parsed.error ?? '')} ${parsed.message}`.trim() : raw.slice(0, 300);
    return failure(`${url} answered HTTP ${response.status}: ${detail}`);
  }
  if (isRecord(parsed.error)) return failure(`A2A error ${String(parsed.error.code)}: ${String(parsed.error.message)}`);
  const result = isRecord(parsed.result) ? parsed.result : {};
  // 1.0 wraps the answer ({task} or {message}); 0.3 answers the task or message itself, with a `kind`.
  const task = isRecord(result.task) ? result.task : result.kind === 'task' ? result : undefined;
  const message = isRecord(result.message) ? result.message : result.kind === 'message' ? result : undefined;
  if (message) {
    return { ...readMessage(message), chain: [], taskId: '', contextId: String(message.contextId ?? ''), state: 'completed', failed: false, status: response.status };
  }
  if (!task) return failure(`${url} answered neither a task nor a message`);
  return { ...readTask(task), status: response.status };
}

/** Read a task (either protocol's JSON) into the reply's parts. */
export function readTask(task: Record<string, unknown>): Omit<A2aReply, 'status'> {
  const status = isRecord(task.status) ? task.status : {};
  const state = normaliseState(String(status.state ?? ''));
  const history = Array.isArray(task.history) ? task.history.filter(isRecord) : [];
  const chain: ChainEntry[] = [];
  for (const message of history) {
    if (!isAgentRole(message.role)) continue;
    for (const part of partsOf(message)) {
      const entry = chainEntry(part, message);
      if (entry) chain.push(entry);
    }
  }
  let final = isRecord(status.message) ? readMessage(status.message) : undefined;
  if (!final || final.text === '') {
    const artifacts = Array.isArray(task.artifacts) ? task.artifacts.filter(isRecord) : [];
    const text = artifacts.flatMap((a) => partsOf(a)).map(textOf).filter((t): t is string => t !== undefined).join('\n');
    final = { text, author: final?.author ?? '', model: final?.model ?? '' };
  }
  const metadata = isRecord(task.metadata) ? task.metadata : {};
  return {
    text: final.text,
    author: final.author || String(metadata[KAGENT_AUTHOR] ?? ''),
    model: final.model || String(metadata.kagent_model ?? ''),
    chain,
    taskId: String(task.id ?? ''),
    contextId: String(task.contextId ?? ''),
    state,
    failed: state !== 'completed',
  };
}

/** Pair the chain's calls with their responses: the `tools` list `chat --json` prints. */
export function toolCallsOf(chain: readonly ChainEntry[]): Array<{ name: string; author: string; args: Record<string, unknown>; result: unknown; isError: boolean }> {
  const calls: Array<{ id: string; name: string; author: string; args: Record<string, unknown>; result: unknown; isError: boolean }> = [];
  for (const entry of chain) {
    if (entry.type === 'function_call') calls.push({ id: `${entry.author}/${entry.id}`, name: entry.name, author: entry.author, args: entry.args ?? {}, result: undefined, isError: false });
    else {
      const call = calls.find((c) => c.id === `${entry.author}/${entry.id}` && c.result === undefined);
      if (call) {
        call.result = entry.result;
        call.isError = entry.isError === true;
      }
    }
  }
  return calls.map(({ id: _id, ...call }) => call);
}

function readMessage(message: Record<string, unknown>): { text: string; author: string; model: string } {
  const metadata = isRecord(message.metadata) ? message.metadata : {};
  const text = partsOf(message).map(textOf).filter((t): t is string => t !== undefined).join('\n');
  return { text, author: String(metadata[KAGENT_AUTHOR] ?? ''), model: String(metadata.kagent_model ?? '') };
}

function chainEntry(part: Record<string, unknown>, message: Record<string, unknown>): ChainEntry | undefined {
  const metadata = isRecord(part.metadata) ? part.metadata : {};
  const type = metadata[KAGENT_TYPE];
  if ((type !== 'function_call' && type !== 'function_response') || !isRecord(part.data)) return undefined;
  const data = part.data;
  const messageMeta = isRecord(message.metadata) ? message.metadata : {};
  const author = String(metadata[KAGENT_AUTHOR] ?? messageMeta[KAGENT_AUTHOR] ?? '');
  const base = { type, id: String(data.id ?? ''), name: String(data.name ?? ''), author } as ChainEntry;
  if (type === 'function_call') return { ...base, args: isRecord(data.args) ? data.args : {} };
  const response = isRecord(data.response) ? data.response : {};
  return { ...base, result: response.result, ...(data.is_error === true || response.isError === true ? { isError: true } : {}) };
}

function partsOf(holder: Record<string, unknown>): Record<string, unknown>[] {
  return Array.isArray(holder.parts) ? holder.parts.filter(isRecord) : [];
}

function textOf(part: Record<string, unknown>): string | undefined {
  return typeof part.text === 'string' ? part.text : undefined;
}

function isAgentRole(role: unknown): boolean {
  return role === 'agent' || role === 'ROLE_AGENT';
}

/** `TASK_STATE_COMPLETED` (1.0) and `completed` (0.3) alike → `completed`. */
function normaliseState(state: string): string {
  return state.replace(/^TASK_STATE_/, '').toLowerCase().replace(/_/g, '-');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
