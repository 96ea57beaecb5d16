// The conversation as the scripted model reads it: the user's messages, and the tool calls made since the last one
// with what came back.
import type { ChatMessage, ToolCall } from '../types.ts';
import { isRecord, parseJson, sameJson } from './json.ts';

/** A tool call made earlier in the conversation and what came back. */
export interface Observation {
  call: ToolCall;
  /** The tool result's text; empty when no result came back. */
  content: string;
  /** Marked as an error, answered with an `{error}` object, or not answered at all. */
  isError: boolean;
  /** The result parsed as JSON, when it is JSON. */
  value: unknown;
}

export class Transcript {
  private constructor(
    /** User messages, oldest first. */
    readonly userTexts: readonly string[],
    /** Calls made since the last user message, in order. */
    readonly observations: readonly Observation[],
    /** Tool calls in the whole conversation, for the next id. */
    readonly callCount: number,
  ) {}

  static read(messages: readonly ChatMessage[]): Transcript {
    const userTexts: string[] = [];
    let current: Observation[] = [];
    const byId = new Map<string, Observation>();
    let callCount = 0;
    for (const message of messages) {
      if (message.role === 'user') {
        userTexts.push(message.content);
        current = [];
      } else if (message.role === 'assistant') {
        for (const call of message.toolCalls ?? []) {
          callCount++;
          const observation: Observation = { call, content: '', isError: true, value: undefined };
          byId.set(call.id, observation);
          current.push(observation);
        }
      } else {
        const observation = byId.get(message.toolCallId);
        if (!observation) continue;
        const value = parseJson(message.content);
        observation.content = message.content;
        observation.value = value;
        observation.isError = message.isError === true || (isRecord(value) && typeof value.error === 'string');
      }
    }
    return new Transcript(userTexts, current, callCount);
  }

  /** The user's current message. */
  get userText(): string {
    return this.userTexts.at(-1) ?? '';
  }

  /** The earliest call of `name` whose arguments include all of `args`. */
  find(name: string, args: Record<string, unknown>): Observation | undefined {
    return this.observations.find(
      (o) => o.call.name === name && Object.entries(args).every(([key, value]) => sameJson(o.call.arguments[key], value)),
    );
  }
}

/** A hand-off's result: the downstream agent's reply, as text or as the text field of a JSON object. */
export function agentReply(result: Observation): string {
  if (isRecord(result.value)) {
    const text = ['reply', 'text', 'message', 'result', 'content'].map((key) => (result.value as Record<string, unknown>)[key]).find((v) => typeof v === 'string');
    if (typeof text === 'string') return text.trim();
  }
  return result.content.trim();
}

/** A tool error in plain words: the `error` of a JSON result with its other plain fields, else the text. */
export function errorText(result: Observation): string {
  if (isRecord(result.value) && typeof result.value.error === 'string') {
    const details = Object.entries(result.value)
      .filter(([key, value]) => key !== 'error' && ['string', 'number', 'boolean'].includes(typeof value))
      .map(([key, value]) => `${key} ${String(value)}`);
    return details.length > 0 ? `${result.value.error} (${details.join(', ')})` : result.value.error;
  }
  const text = result.content.replace(/\s+/g, ' ').trim().replace(/\.$/, '');
  if (text.length === 0) return 'no result came back';
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}
