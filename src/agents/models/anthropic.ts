// Anthropic's Messages API as a ModelProvider: our conversation mapped to its content blocks, its answer mapped back
// to a turn, and every failure turned into a ModelError whose message is safe to show. Plain fetch and no SDK: the
// wire format is small and pinned by `anthropic-version`, and an injectable fetch lets tests use a local fake.
import { badShape as badShapeOf, isRecord, jsonPoster, nonEmpty, normaliseBaseUrl, positiveInteger } from './http.ts';
import { ModelError, type ChatMessage, type ModelProvider, type ModelRequest, type ModelTool, type ModelTurn, type ToolCall } from './types.ts';

export interface AnthropicModelOptions {
  model: string;
  /** Defaults to ANTHROPIC_API_KEY in `env`. */
  apiKey?: string;
  /** Defaults to ANTHROPIC_BASE_URL in `env`, then https://api.anthropic.com. */
  baseUrl?: string;
  maxTokens?: number;
  /** For the whole exchange, answer body included. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  env?: NodeJS.ProcessEnv;
}

const DEFAULT_BASE_URL = 'https://api.anthropic.com';
const API_VERSION = '2023-06-01';
/** The API requires a limit; an agent's turn is a few tool calls or a short answer, well under this. */
const DEFAULT_MAX_TOKENS = 4096;
const DEFAULT_TIMEOUT_MS = 60_000;
const LABEL = 'Anthropic API';

type TextBlock = { type: 'text'; text: string };
type ToolUseBlock = { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };
type ToolResultBlock = { type: 'tool_result'; tool_use_id: string; content: string; is_error: boolean };

type AnthropicMessage =
  | { role: 'user'; content: string }
  | { role: 'user'; content: ToolResultBlock[] }
  | { role: 'assistant'; content: Array<TextBlock | ToolUseBlock> };

export function createAnthropicModel(options: AnthropicModelOptions): ModelProvider {
  const env = options.env ?? process.env;
  // Checked here rather than at the first call, so a misconfigured agent fails when it starts, not mid-conversation.
  const apiKey = nonEmpty(options.apiKey) ?? nonEmpty(env.ANTHROPIC_API_KEY);
  if (apiKey === undefined) throw new ModelError('config', 'ANTHROPIC_API_KEY is not set: set it (or pass apiKey) to use Anthropic models');
  if (nonEmpty(options.model) === undefined) throw new ModelError('config', 'no Anthropic model name given');
  const baseUrl = normaliseBaseUrl(options.baseUrl ?? nonEmpty(env.ANTHROPIC_BASE_URL) ?? DEFAULT_BASE_URL, options.baseUrl === undefined ? 'ANTHROPIC_BASE_URL' : 'baseUrl');
  const maxTokens = positiveInteger(options.maxTokens ?? DEFAULT_MAX_TOKENS, 'maxTokens');
  const timeoutMs = positiveInteger(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs');
  const postJson = jsonPoster({
    label: LABEL,
    unreachable: `${LABEL} could not be reached at ${new URL(baseUrl).origin}`,
    keyVariable: 'ANTHROPIC_API_KEY',
    apiKey,
    timeoutMs,
    fetch: options.fetch,
    errorMessage: apiErrorMessage,
  });
  const { model } = options;

  return {
    provider: 'anthropic',
    model,
    scripted: false,
    async next(request: ModelRequest): Promise<ModelTurn> {
      const body = {
        model,
        max_tokens: maxTokens,
        ...(request.system === '' ? {} : { system: request.system }),
        messages: toAnthropicMessages(request.messages),
        // Omitted rather than empty: a conversation without tools is a plain chat.
        ...(request.tools.length === 0 ? {} : { tools: request.tools.map(toAnthropicTool) }),
      };
      const headers = { 'x-api-key': apiKey, 'anthropic-version': API_VERSION, 'content-type': 'application/json' };
      return toTurn(await postJson(`${baseUrl}/v1/messages`, headers, body, request.signal));
    },
  };
}

/**
 * Our conversation in Anthropic's shape. Tool results become `tool_result` blocks of a user message, and the results
 * of one assistant turn share one user message: the API wants every result of a turn in the message that follows it.
 */
function toAnthropicMessages(messages: ChatMessage[]): AnthropicMessage[] {
  const out: AnthropicMessage[] = [];
  for (const message of messages) {
    if (message.role === 'user') {
      out.push({ role: 'user', content: message.content });
    } else if (message.role === 'assistant') {
      out.push({ role: 'assistant', content: assistantBlocks(message.content, message.toolCalls ?? []) });
    } else {
      const block: ToolResultBlock = { type: 'tool_result', tool_use_id: message.toolCallId, content: message.content, is_error: message.isError === true };
      const last = out.at(-1);
      // Only tool results make a user message with a block array, so this never merges into a user's own text.
      if (last !== undefined && last.role === 'user' && Array.isArray(last.content)) last.content.push(block);
      else out.push({ role: 'user', content: [block] });
    }
  }
  return out;
}

function assistantBlocks(text: string, toolCalls: ToolCall[]): Array<TextBlock | ToolUseBlock> {
  // The API refuses empty text blocks, and a turn of only tool calls has no text.
  const blocks: Array<TextBlock | ToolUseBlock> = text === '' ? [] : [{ type: 'text', text }];
  for (const call of toolCalls) blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: call.arguments });
  return blocks;
}

function toAnthropicTool(tool: ModelTool): { name: string; description: string; input_schema: Record<string, unknown> } {
  return { name: tool.name, description: tool.description, input_schema: tool.inputSchema };
}

/** The turn in an answer; `tool_use` is the only stop reason that asks us to run tools. */
function toTurn(json: unknown): ModelTurn {
  if (!isRecord(json) || !Array.isArray(json.content)) throw badShape('it has no content array');
  const texts: string[] = [];
  const toolCalls: ToolCall[] = [];
  for (const block of json.content) {
    if (!isRecord(block)) throw badShape('a content block is not an object');
    if (block.type === 'text') {
      if (typeof block.text !== 'string') throw badShape('a text block has no text');
      texts.push(block.text);
    } else if (block.type === 'tool_use') {
      toolCalls.push(toolCallFrom(block));
    }
    // Other blocks (thinking, redacted_thinking) carry nothing the tool loop can use.
  }
  // Text blocks are consecutive pieces of one text (citations split it), so they join without a separator.
  const text = texts.join('');
  if (json.stop_reason !== 'tool_use') return { kind: 'final', text };
  if (toolCalls.length === 0) throw badShape('stop_reason is tool_use but there is no tool_use block');
  return text === '' ? { kind: 'tool_calls', toolCalls } : { kind: 'tool_calls', toolCalls, text };
}

function toolCallFrom(block: Record<string, unknown>): ToolCall {
  const { id, name, input } = block;
  if (typeof id !== 'string' || id === '') throw badShape('a tool_use block has no id');
  if (typeof name !== 'string' || name === '') throw badShape('a tool_use block has no name');
  if (!isRecord(input)) throw badShape(`the input of tool_use ${JSON.stringify(name.slice(0, 100))} is not an object`);
  return { id, name, arguments: input };
}

function badShape(what: string): ModelError {
  return badShapeOf(LABEL, what);
}

/** `error.message` of the API's error body ({type: 'error', error: {type, message}}), if the body is one. */
function apiErrorMessage(json: Record<string, unknown>): string | undefined {
  const { error } = json;
  return isRecord(error) && typeof error.message === 'string' && error.message !== '' ? error.message : undefined;
}
