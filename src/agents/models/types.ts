// What an agent's tool loop asks of a model, whichever model it is: given the system message, the
// conversation so far (with tool calls and their results) and the tools on offer, the next turn — tool calls,
// or the final text. Providers: the offline scripted model, Anthropic's Messages API, OpenAI-compatible Chat
// Completions.

/** A tool as the model sees it: the description exactly as the MCP server (or the hand-off) gives it. */
export interface ModelTool {
  name: string;
  description: string;
  /** JSON Schema of the arguments. */
  inputSchema: Record<string, unknown>;
}

export interface ToolCall {
  /** Unique within the conversation; tool results refer to it. */
  id: string;
  name: string;
  arguments: Record<string, unknown>;
}

export type ChatMessage =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; name: string; content: string; isError?: boolean };

export interface ModelRequest {
  system: string;
  messages: ChatMessage[];
  tools: ModelTool[];
  signal?: AbortSignal;
}

export type ModelTurn = { kind: 'tool_calls'; toolCalls: ToolCall[]; text?: string } | { kind: 'final'; text: string };

export interface ModelProvider {
  /** `scripted`, `anthropic` or `openai`. */
  readonly provider: string;
  /** The model name (e.g. claude-haiku-4-5), or `scripted` for the offline model. */
  readonly model: string;
  /** True for the offline stand-in: replies are labelled as scripted wherever they are shown. */
  readonly scripted: boolean;
  next(request: ModelRequest): Promise<ModelTurn>;
}

export type ModelErrorKind = 'config' | 'auth' | 'rate_limit' | 'timeout' | 'unavailable' | 'bad_request' | 'bad_response';

/** A model failure, with a kind a caller can act on and a message safe to show (never a key). */
export class ModelError extends Error {
  override readonly name = 'ModelError';
  constructor(
    readonly kind: ModelErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}
