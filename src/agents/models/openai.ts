// OpenAI's Chat Completions as a ModelProvider, and with it every server that speaks the same wire format (Ollama,
// vLLM, LM Studio…) through OPENAI_BASE_URL. Plain fetch and no SDK, for the same reasons as the Anthropic provider;
// parsing is lenient where local servers are known to differ and strict where a difference would mislead the loop.
import { randomUUID } from 'node:crypto';
import { badShape, isRecord, jsonPoster, nonEmpty, normaliseBaseUrl, positiveInteger, retryAfter } from './http.ts';
import { ModelError, type ChatMessage, type ModelProvider, type ModelRequest, type ModelTool, type ModelTurn, type ToolCall } from './types.ts';

export interface OpenAiModelOptions {
  model: string;
  /** Defaults to OPENAI_API_KEY in `env`; optional when the base URL is not OpenAI's. */
  apiKey?: string;
  /** Defaults to OPENAI_BASE_URL in `env`, then https://api.openai.com/v1. */
  baseUrl?: string;
  /** For the whole exchange, answer body included. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  env?: NodeJS.ProcessEnv;
}

const DEFAULT_BASE_URL = 'https://api.openai.com/v1';
const DEFAULT_TIMEOUT_MS = 60_000;

type OpenAiToolCall = { id: string; type: 'function'; function: { name: string; arguments: string } };

type OpenAiMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: OpenAiToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

export function createOpenAiModel(options: OpenAiModelOptions): ModelProvider {
  const env = options.env ?? process.env;
  const baseUrl = normaliseBaseUrl(options.baseUrl ?? nonEmpty(env.OPENAI_BASE_URL) ?? DEFAULT_BASE_URL, options.baseUrl === undefined ? 'OPENAI_BASE_URL' : 'baseUrl');
  const apiKey = nonEmpty(options.apiKey) ?? nonEmpty(env.OPENAI_API_KEY);
  // Local servers (Ollama, vLLM, LM Studio) usually take no key, so only OpenAI itself makes a missing key an error.
  // Checked here rather than at the first call, so a misconfigured agent fails when it starts.
  if (apiKey === undefined && baseUrl === DEFAULT_BASE_URL) {
    throw new ModelError('config', 'OPENAI_API_KEY is not set: set it (or pass apiKey) to use OpenAI models, or set OPENAI_BASE_URL for a local server');
  }
  if (nonEmpty(options.model) === undefined) throw new ModelError('config', 'no OpenAI model name given');
  const timeoutMs = positiveInteger(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs');
  const shown = shownUrl(baseUrl);
  // Messages name the server when it is not OpenAI's: "unreachable" means something else for a local Ollama.
  const label = baseUrl === DEFAULT_BASE_URL ? 'OpenAI API' : `OpenAI-compatible server at ${shown}`;
  const where = baseUrl === DEFAULT_BASE_URL ? `${label} at ${shown}` : label;
  const postJson = jsonPoster({
    label,
    unreachable: `${where} could not be reached`,
    keyVariable: 'OPENAI_API_KEY',
    apiKey,
    timeoutMs,
    fetch: options.fetch,
    errorMessage: apiErrorMessage,
    retryAfter: retryAfterOrMs,
  });
  const { model } = options;

  return {
    provider: 'openai',
    model,
    scripted: false,
    async next(request: ModelRequest): Promise<ModelTurn> {
      const body = {
        model,
        messages: toOpenAiMessages(request.system, request.messages),
        // Omitted rather than empty: OpenAI refuses an empty tools array.
        ...(request.tools.length === 0 ? {} : { tools: request.tools.map(toOpenAiTool) }),
      };
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (apiKey !== undefined) headers.authorization = `Bearer ${apiKey}`;
      return toTurn(await postJson(`${baseUrl}/chat/completions`, headers, body, request.signal), label);
    },
  };
}

function toOpenAiMessages(system: string, messages: ChatMessage[]): OpenAiMessage[] {
  const out: OpenAiMessage[] = system === '' ? [] : [{ role: 'system', content: system }];
  for (const message of messages) {
    if (message.role === 'user') {
      out.push({ role: 'user', content: message.content });
    } else if (message.role === 'assistant') {
      const calls = message.toolCalls ?? [];
      if (calls.length === 0) out.push({ role: 'assistant', content: message.content });
      // A turn of only tool calls has no text; null is what the API itself sends for it.
      else out.push({ role: 'assistant', content: message.content === '' ? null : message.content, tool_calls: calls.map(toOpenAiToolCall) });
    } else {
      // The tool message has no error flag, so the model learns of a failure from the text itself.
      out.push({ role: 'tool', tool_call_id: message.toolCallId, content: message.isError === true ? `ERROR: ${message.content}` : message.content });
    }
  }
  return out;
}

function toOpenAiToolCall(call: ToolCall): OpenAiToolCall {
  return { id: call.id, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.arguments) } };
}

function toOpenAiTool(tool: ModelTool): { type: 'function'; function: { name: string; description: string; parameters: Record<string, unknown> } } {
  return { type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.inputSchema } };
}

/** The turn in `choices[0].message`: tool calls if it has any, else its text. */
function toTurn(json: unknown, label: string): ModelTurn {
  if (!isRecord(json) || !Array.isArray(json.choices)) throw badShape(label, 'it has no choices array');
  const choice: unknown = json.choices[0];
  if (!isRecord(choice) || !isRecord(choice.message)) throw badShape(label, 'choices[0] has no message');
  const { message } = choice;
  const text = messageText(message, label);
  // Some servers send `tool_calls: null` or `[]` on a plain answer.
  if (message.tool_calls === undefined || message.tool_calls === null) return { kind: 'final', text };
  if (!Array.isArray(message.tool_calls)) throw badShape(label, 'tool_calls is not an array');
  if (message.tool_calls.length === 0) return { kind: 'final', text };
  const toolCalls = message.tool_calls.map((call: unknown) => toolCallFrom(call, label));
  return text === '' ? { kind: 'tool_calls', toolCalls } : { kind: 'tool_calls', toolCalls, text };
}

/** `content` is null on a turn of only tool calls; a refusal comes in `refusal` instead, and is the answer then. */
function messageText(message: Record<string, unknown>, label: string): string {
  const { content, refusal } = message;
  if (typeof content === 'string') return content;
  if (content !== undefined && content !== null) throw badShape(label, 'message content is not a string');
  return typeof refusal === 'string' ? refusal : '';
}

function toolCallFrom(call: unknown, label: string): ToolCall {
  if (!isRecord(call) || !isRecord(call.function)) throw badShape(label, 'a tool call has no function');
  const { name, arguments: raw } = call.function;
  if (typeof name !== 'string' || name === '') throw badShape(label, 'a tool call has no function name');
  // Results refer to calls by id; some local servers leave it out, and a fresh one keeps ids unique.
  const id = typeof call.id === 'string' && call.id !== '' ? call.id : `call_${randomUUID()}`;
  return { id, name, arguments: parseArguments(raw, name, label) };
}

/**
 * The arguments: a JSON object in a string. Also taken: an empty string (models send it for a tool without
 * parameters) and an object already parsed (as some local servers send it).
 */
function parseArguments(raw: unknown, name: string, label: string): Record<string, unknown> {
  const quoted = JSON.stringify(name.slice(0, 100));
  if (isRecord(raw)) return raw;
  if (typeof raw !== 'string') throw new ModelError('bad_response', `${label}: the arguments of tool call ${quoted} are not a JSON string`);
  if (raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ModelError('bad_response', `${label}: the arguments of tool call ${quoted} are not valid JSON`);
  }
  if (!isRecord(parsed)) throw new ModelError('bad_response', `${label}: the arguments of tool call ${quoted} are not a JSON object`);
  return parsed;
}

/**
 * The message of an error body: OpenAI's {error: {message, type, code}}, and the shapes compatible servers use
 * instead ({error: "…"}, or vLLM's {message, type, code} at the top level).
 */
function apiErrorMessage(json: Record<string, unknown>): string | undefined {
  const { error } = json;
  const message = isRecord(error) ? error.message : typeof error === 'string' ? error : json.message;
  return typeof message === 'string' && message !== '' ? message : undefined;
}

/** Retry-After as seconds or an HTTP date, else retry-after-ms (which OpenAI-style servers may send); else nothing. */
function retryAfterOrMs(headers: Headers): string | undefined {
  const after = retryAfter(headers);
  if (after !== undefined) return after;
  const ms = headers.get('retry-after-ms')?.trim();
  return ms !== undefined && /^\d+(\.\d+)?$/.test(ms) ? `retry after ${ms} ms` : undefined;
}

/** The base URL as shown in messages: without any user:password part. */
function shownUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}
