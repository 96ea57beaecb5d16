// JSON-RPC 2.0 as the gateway reads it: a body is one message or a batch; each message is classified
// (request, notification, response) so policy can look at every element of a batch, never just the first.
import { JsonTooDeepError, parseBoundedJson } from '../../core/json-depth.ts';

export type JsonRpcId = string | number | null;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id: string | number;
  method: string;
  params?: Record<string, unknown>;
}

export interface JsonRpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: Record<string, unknown>;
}

export interface JsonRpcError {
  code: number;
  message: string;
  data?: unknown;
}

export interface JsonRpcResponse {
  jsonrpc: '2.0';
  id: JsonRpcId;
  result?: Record<string, unknown>;
  error?: JsonRpcError;
}

export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;
/** MCP 2026-07-28 (SEP-2243): a standard header disagrees with the body. */
export const HEADER_MISMATCH = -32020;
/** The gateway's own code for a request a policy refused (JSON-RPC leaves -32000..-32099 to servers). */
export const FORBIDDEN = -32003;

export type ParsedBody = { ok: true; batch: boolean; messages: JsonRpcMessage[]; value: unknown } | { ok: false; error: JsonRpcError };

export function isRequest(message: JsonRpcMessage): message is JsonRpcRequest {
  return 'method' in message && 'id' in message;
}

/** Parse and shape-check a body. A batch is accepted so that each element can be judged on its own. */
export function parseJsonRpc(body: string): ParsedBody {
  const parsed = parseBoundedJson(body);
  if (!parsed.ok) {
    if (parsed.error instanceof JsonTooDeepError) {
      // Measured on the text, before anything recursive (our walks, JSON.stringify to the upstream) sees it.
      const path = parsed.error.path;
      const inParams = (typeof path[0] === 'number' ? path[1] : path[0]) === 'params';
      return { ok: false, error: { code: inParams ? INVALID_PARAMS : INVALID_REQUEST, message: `${inParams ? 'Invalid params' : 'Invalid Request'}: ${parsed.error.message}` } };
    }
    return { ok: false, error: { code: PARSE_ERROR, message: 'Parse error: the request body is not valid JSON' } };
  }
  const value = parsed.value;
  const batch = Array.isArray(value);
  const items = batch ? (value as unknown[]) : [value];
  if (batch && items.length === 0) return { ok: false, error: { code: INVALID_REQUEST, message: 'Invalid Request: empty batch' } };
  const messages: JsonRpcMessage[] = [];
  for (const [index, item] of items.entries()) {
    const problem = messageProblem(item);
    if (problem) return { ok: false, error: { code: INVALID_REQUEST, message: `Invalid Request${batch ? ` (batch element ${index})` : ''}: ${problem}` } };
    messages.push(item as JsonRpcMessage);
  }
  return { ok: true, batch, messages, value };
}

function messageProblem(item: unknown): string | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return 'not a JSON object';
  const message = item as Record<string, unknown>;
  if (message.jsonrpc !== '2.0') return 'jsonrpc must be "2.0"';
  if ('id' in message && !(typeof message.id === 'string' || typeof message.id === 'number' || message.id === null)) return 'id must be a string or number';
  if ('method' in message) {
    if (typeof message.method !== 'string' || message.method === '') return 'method must be a non-empty string';
    if ('params' in message && (typeof message.params !== 'object' || message.params === null || Array.isArray(message.params))) return 'params must be an object';
    if ('id' in message && message.id === null) return 'a request id must not be null';
    return undefined;
  }
  if (!('id' in message)) return 'neither a request, a notification nor a response';
  if (!('result' in message) && !('error' in message)) return 'a response needs result or error';
  return undefined;
}

export function errorResponse(id: JsonRpcId, code: number, message: string, data?: unknown): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: { code, message, ...(data === undefined ? {} : { data }) } };
}

/** The id of a message, when it has one (for error replies). */
export function idOf(message: JsonRpcMessage | undefined): JsonRpcId {
  return message && 'id' in message ? (message.id ?? null) : null;
}

/** Split a Server-Sent Events body into the JSON-RPC messages of its `data:` fields. */
export function parseSseMessages(text: string): JsonRpcMessage[] {
  const out: JsonRpcMessage[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const data = block
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''))
      .join('\n');
    if (data === '') continue;
    // Not JSON-RPC (a comment or a priming event), or nested too deep to handle: nothing to relay.
    const parsed = parseBoundedJson(data);
    if (!parsed.ok) continue;
    const value = parsed.value as JsonRpcMessage | JsonRpcMessage[];
    out.push(...(Array.isArray(value) ? value : [value]));
  }
  return out;
}
