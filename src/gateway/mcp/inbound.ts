// Which MCP revision a client's POST speaks, and the spec's refusal when it speaks none correctly: one ordered
// ladder, the MCP SDK's own, so the gateway answers exactly what the bank's servers (built on that SDK) answer.
// 1. Batches: MCP removed JSON-RPC batching in 2025-06-18, and the gateway serves only 2025-11-25 sessions and
//    2026-07-28 requests, so no revision it serves allows one (-32600, 400). This also means one request is one
//    call, so a rate limit that counts requests counts calls.
// 2. The SDK's classifier (body first, headers as a cross-check): shape, era, header/envelope disagreement
//    (-32020), a missing or invalid `_meta` envelope, clientCapabilities included (-32602), all 400.
// 3. 2025-11-25: an MCP-Protocol-Version header naming no supported revision (400, as the SDK's transport).
// 4. 2026-07-28: an unsupported revision (-32022, 400, naming the supported ones); the standard headers of
//    SEP-2243 present on requests (MCP-Protocol-Version, then Mcp-Method, then Mcp-Name; -32020, 400); a
//    method that revision removed (ping, initialize, …: -32601, 404).
// Pure: the parsed request in, a route or a refusal out.
import type { IncomingHttpHeaders } from 'node:http';
import { SUPPORTED_PROTOCOL_VERSIONS, classifyInboundRequest } from '@modelcontextprotocol/server';
import { HEADER_MISMATCH, INVALID_REQUEST, METHOD_NOT_FOUND, errorResponse, idOf, isRequest, type JsonRpcMessage, type JsonRpcResponse } from './jsonrpc.ts';
import { LEGACY_REVISION, MCP_NAME_SOURCE, MODERN_REVISION, type Revision } from './upstream.ts';

/** MCP 2026-07-28: the request names a revision the server does not speak. */
export const UNSUPPORTED_PROTOCOL_VERSION = -32022;

/** Spec methods that 2026-07-28 removed from the request registry (the SDK's 2025 registry minus its 2026 one). */
const REMOVED_IN_MODERN = new Set(['ping', 'initialize', 'logging/setLevel', 'resources/subscribe', 'resources/unsubscribe', 'sampling/createMessage', 'elicitation/create', 'roots/list']);

export type InboundRoute = { kind: 'route'; revision: Revision } | { kind: 'refuse'; status: number; response: JsonRpcResponse };

export function classifyClientPost(headers: IncomingHttpHeaders, body: unknown, messages: JsonRpcMessage[], batch: boolean): InboundRoute {
  const versionHeader = header(headers, 'mcp-protocol-version');
  const methodHeader = header(headers, 'mcp-method');
  const nameHeader = header(headers, 'mcp-name');
  const classified = classifyInboundRequest({
    httpMethod: 'POST',
    ...(versionHeader !== undefined ? { protocolVersionHeader: versionHeader } : {}),
    ...(methodHeader !== undefined ? { mcpMethodHeader: methodHeader } : {}),
    ...(nameHeader !== undefined ? { mcpNameHeader: nameHeader } : {}),
    body,
  });
  const first = batch ? undefined : messages[0];
  if (classified.kind === 'reject') return refuse(classified.httpStatus, errorResponse(idOf(first), classified.code, classified.message, classified.data));
  if (batch) {
    return refuse(
      400,
      errorResponse(null, INVALID_REQUEST, `Invalid Request: JSON-RPC batches are not part of MCP since 2025-06-18; send one message per request (this gateway serves ${LEGACY_REVISION} and ${MODERN_REVISION})`, { batchSize: messages.length }),
    );
  }
  if (classified.kind === 'legacy') {
    if (versionHeader !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(versionHeader)) {
      return refuse(400, errorResponse(idOf(first), -32000, `Bad Request: Unsupported protocol version: ${versionHeader} (supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`));
    }
    return { kind: 'route', revision: LEGACY_REVISION };
  }
  const revision = classified.classification.revision;
  if (revision !== MODERN_REVISION) {
    return refuse(400, errorResponse(idOf(first), UNSUPPORTED_PROTOCOL_VERSION, `Unsupported protocol version: ${revision ?? '(none)'}`, { supported: [MODERN_REVISION], requested: revision }));
  }
  if (classified.messageKind === 'request') {
    const message = classified.message as JsonRpcMessage;
    const mismatch = standardHeaderProblem(versionHeader, methodHeader, nameHeader, message);
    if (mismatch) return refuse(400, errorResponse(idOf(message), HEADER_MISMATCH, mismatch.message, { mismatch: mismatch.data }));
    if (isRequest(message) && REMOVED_IN_MODERN.has(message.method)) return refuse(404, errorResponse(message.id, METHOD_NOT_FOUND, 'Method not found'));
  }
  return { kind: 'route', revision: MODERN_REVISION };
}

function refuse(status: number, response: JsonRpcResponse): InboundRoute {
  return { kind: 'refuse', status, response };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function decodeHeaderValue(value: string): string | undefined {
  const sentinel = /^=\?base64\?([A-Za-z0-9+/=]*)\?=$/.exec(value);
  if (!sentinel) return value;
  try {
    return Buffer.from(sentinel[1]!, 'base64').toString('utf8');
  } catch {
    return undefined;
  }
}

/** SEP-2243 on a request: the headers present, in the spec's order, and agreeing with the body. */
function standardHeaderProblem(
  version: string | undefined,
  method: string | undefined,
  name: string | undefined,
  message: JsonRpcMessage,
): { message: string; data: Record<string, unknown> } | undefined {
  if (!('method' in message)) return undefined;
  if (version === undefined) return { message: `Header mismatch: MCP-Protocol-Version is required with a ${MODERN_REVISION} envelope`, data: { header: 'MCP-Protocol-Version', body: MODERN_REVISION } };
  if (method === undefined) return { message: `Header mismatch: Mcp-Method is required for ${message.method}`, data: { header: 'Mcp-Method', body: message.method } };
  if (method !== message.method) return { message: `Header mismatch: Mcp-Method is "${method}" but the body's method is "${message.method}"`, data: { header: 'Mcp-Method', value: method, body: message.method } };
  const field = MCP_NAME_SOURCE[message.method];
  if (!field || !isRequest(message)) return undefined;
  const bodyValue = message.params?.[field];
  if (name === undefined) return bodyValue === undefined ? undefined : { message: `Header mismatch: Mcp-Name is required for ${message.method}`, data: { header: 'Mcp-Name', body: bodyValue } };
  const decoded = decodeHeaderValue(name.trim());
  if (decoded === undefined) return { message: 'Header mismatch: Mcp-Name carries an invalid Base64 sentinel value', data: { header: 'Mcp-Name', value: name } };
  if (bodyValue !== undefined && decoded !== bodyValue) return { message: `Header mismatch: Mcp-Name does not match params.${field}`, data: { header: 'Mcp-Name', value: name, body: bodyValue } };
  return undefined;
}
