// The agent's A2A endpoint over plain node:http, using @a2a-js/sdk's transport handlers (no web framework):
//   GET  /.well-known/agent-card.json   the agent card (1.0 shape when asked with `A2A-Version: 1.0`, else the
//                                       0.3 shape with `url`, which is what 0.3 clients such as the chatbot read)
//   POST /                              JSON-RPC: 1.0 (`SendMessage`, `SendStreamingMessage`, ...) when the request
//                                       says `A2A-Version: 1.0`, else 0.3 (`message/send`, `message/stream`, ...),
//                                       as the SDK's own Express binding decides. Streams answer as SSE.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AgentCard, AgentExtension } from '@a2a-js/sdk';
import { duplicateInterfacesForLegacy } from '@a2a-js/sdk/compat/v0_3';
import { LegacyJsonRpcTransportHandler } from '@a2a-js/sdk/compat/v0_3/server';
import { RequestMalformedError } from '@a2a-js/sdk/errors';
import { DefaultRequestHandler, JsonRpcTransportHandler, ServerCallContext, validateVersion, type AgentExecutor } from '@a2a-js/sdk/server';
import { BodyTooLargeError, readBody, sendJson } from '../../core/http.ts';
import { JsonTooDeepError, parseBoundedJson } from '../../core/json-depth.ts';
import { requestTarget } from '../../core/request-guard.ts';
import type { Logger } from '../../core/log.ts';
import type { AgentRuntimeConfig } from './config.ts';
import { CALLER_STATE_KEY } from './executor.ts';
import { BoundedTaskStore, DEFAULT_TASK_STORE_LIMITS, type TaskStoreLimits } from './task-store.ts';

export const AGENT_CARD_PATH = '/.well-known/agent-card.json';
/** The 0.2-era path some clients still ask for. */
const LEGACY_CARD_PATH = '/.well-known/agent.json';
const MAX_BODY_BYTES = 1024 * 1024;
/** One message's size (its JSON); the body limit above leaves room for the envelope around the largest. */
export const DEFAULT_MAX_MESSAGE_BYTES = 512 * 1024;
const LEGACY_VERSION = '0.3';

export interface A2aEndpoint {
  /** Answer a request; false when the path is not the agent's. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  card: AgentCard;
  tasks: BoundedTaskStore;
}

export interface A2aEndpointOptions {
  taskStore?: TaskStoreLimits;
  maxMessageBytes?: number;
}

/**
 * The extension by which a card says which model answers, so a client can label scripted replies. A2A has no
 * card-level metadata (a2a.proto 1.0's AgentCard has no such field, and a strict ProtoJSON reader refuses
 * unknown ones); extensions, with their free-form `params`, are where the spec lets an agent add to its card.
 * Optional (`required: false`): a client that does not know it loses nothing.
 */
export const MODEL_EXTENSION_URI = 'https://trustusbank.example/a2a/extensions/model/v1';

function modelExtension(modelLabel: string): AgentExtension {
  return { uri: MODEL_EXTENSION_URI, description: 'Names the model that answers (params.model), so a client can label scripted replies.', required: false, params: { model: modelLabel } };
}

/** The model a card names through the model extension, or undefined (a card from elsewhere, or an older one). */
export function cardModel(card: { capabilities?: { extensions?: readonly { uri?: string; params?: unknown }[] } }): string | undefined {
  const params = card.capabilities?.extensions?.find((e) => e.uri === MODEL_EXTENSION_URI)?.params;
  const model = typeof params === 'object' && params !== null ? (params as { model?: unknown }).model : undefined;
  return typeof model === 'string' ? model : undefined;
}

export function agentCard(config: AgentRuntimeConfig, modelLabel: string): AgentCard {
  return {
    name: config.name,
    description: config.description || `${config.name} (${config.namespace})`,
    supportedInterfaces: duplicateInterfacesForLegacy([{ url: config.url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' }], ['JSONRPC']),
    provider: { organization: 'TrustUsBank', url: 'https://trustusbank.example' },
    version: '1.0.0',
    capabilities: { streaming: true, pushNotifications: false, extensions: [modelExtension(modelLabel)] },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ['text'],
    defaultOutputModes: ['text'],
    skills: config.skills.map((s) => ({ ...s, inputModes: [], outputModes: [], securityRequirements: [] })),
    signatures: [],
  };
}

/** The card as 0.3 clients read it (top-level url, protocolVersion, preferredTransport). */
function legacyCard(card: AgentCard, config: AgentRuntimeConfig): Record<string, unknown> {
  return {
    name: card.name,
    description: card.description,
    url: config.url,
    version: card.version,
    protocolVersion: '0.3.0',
    preferredTransport: 'JSONRPC',
    provider: card.provider,
    // 0.3's AgentExtension has the same fields (uri, description, required, params).
    capabilities: { streaming: true, pushNotifications: false, extensions: card.capabilities?.extensions ?? [] },
    defaultInputModes: card.defaultInputModes,
    defaultOutputModes: card.defaultOutputModes,
    skills: config.skills,
  };
}

export function createA2aEndpoint(config: AgentRuntimeConfig, executor: AgentExecutor, modelLabel: string, log: Logger, options: A2aEndpointOptions = {}): A2aEndpoint {
  const card = agentCard(config, modelLabel);
  const tasks = new BoundedTaskStore(options.taskStore ?? DEFAULT_TASK_STORE_LIMITS);
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const requestHandler = new DefaultRequestHandler(card, tasks, executor);
  const current = new JsonRpcTransportHandler(requestHandler);
  const legacy = new LegacyJsonRpcTransportHandler(requestHandler);

  const serveCard = (req: IncomingMessage, res: ServerResponse): void => {
    const version = header(req, 'a2a-version');
    const body = version && version !== LEGACY_VERSION ? card : legacyCard(card, config);
    sendJson(res, 200, body, { vary: 'A2A-Version', 'cache-control': 'no-cache' });
  };

  const serveRpc = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requested = header(req, 'a2a-version');
    const useLegacy = (requested ?? LEGACY_VERSION) === LEGACY_VERSION;
    const mapError = useLegacy ? LegacyJsonRpcTransportHandler.mapToLegacyJSONRPCError : JsonRpcTransportHandler.mapToJSONRPCError;
    let text: string;
    try {
      text = (await readBody(req, MAX_BODY_BYTES)).toString('utf8');
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        sendJson(res, 413, { jsonrpc: '2.0', id: null, error: { code: -32600, message: `request body over ${MAX_BODY_BYTES} bytes` } });
        return;
      }
      throw error;
    }
    const parsed = parseBoundedJson(text);
    if (!parsed.ok) {
      const error = parsed.error instanceof JsonTooDeepError ? { code: -32600, message: `Invalid Request: ${parsed.error.message}` } : { code: -32700, message: 'Parse error: the body is not JSON' };
      sendJson(res, 200, { jsonrpc: '2.0', id: null, error });
      return;
    }
    const body = parsed.value;
    const id = typeof body === 'object' && body !== null ? ((body as { id?: unknown }).id ?? null) : null;
    try {
      const state = new Map<string, unknown>([[CALLER_STATE_KEY, callerOf(req)]]);
      const context = new ServerCallContext({ ...(requested ? { requestedVersion: requested } : {}), state });
      validateVersion(context.requestedVersion, card, 'JSONRPC');
      const size = messageBytes(body);
      if (size > maxMessageBytes) throw new RequestMalformedError(`The message is ${size} bytes; this agent accepts messages of at most ${maxMessageBytes} bytes.`);
      const answer = await (useLegacy ? legacy : current).handle(body as Record<string, unknown>, context);
      if (typeof (answer as AsyncGenerator)[Symbol.asyncIterator] !== 'function') {
        sendJson(res, 200, answer);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      try {
        for await (const event of answer as AsyncGenerator<unknown>) res.write(`data: ${JSON.stringify(event)}\n\n`);
      } catch (error) {
        res.write(`event: error\ndata: ${JSON.stringify({ jsonrpc: '2.0', id, error: mapError(error) })}\n\n`);
      }
      res.end();
    } catch (error) {
      log.warn('A2A request failed', { error: (error as Error).message });
      if (!res.headersSent) sendJson(res, 200, { jsonrpc: '2.0', id, error: mapError(error) });
      else res.end();
    }
  };

  return {
    card,
    tasks,
    async handle(req, res) {
      const path = requestTarget(req).pathname;
      if (path === AGENT_CARD_PATH || path === LEGACY_CARD_PATH) {
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          sendJson(res, 405, { error: 'method not allowed' }, { allow: 'GET' });
          return true;
        }
        serveCard(req, res);
        return true;
      }
      if (path !== '/') return false;
      if (req.method !== 'POST') {
        sendJson(res, 405, { error: 'A2A JSON-RPC takes POST' }, { allow: 'POST' });
        return true;
      }
      await serveRpc(req, res);
      return true;
    },
  };
}

/** The size of the request's message (`params.message`, in both versions' send methods), as sent. */
function messageBytes(body: unknown): number {
  const message = (body as { params?: { message?: unknown } } | null)?.params?.message;
  return message === undefined ? 0 : Buffer.byteLength(JSON.stringify(message), 'utf8');
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value || undefined;
}

/**
 * The caller's SPIFFE id, as the agent's waypoint vouches for it in `x-forwarded-client-cert` (the waypoint
 * replaces any such header a client sends). Without a waypoint in front, nothing vouches, and it is empty.
 */
function callerOf(req: IncomingMessage): string {
  const xfcc = header(req, 'x-forwarded-client-cert') ?? '';
  return /(?:^|;)URI=([^;,]+)/.exec(xfcc)?.[1] ?? '';
}
