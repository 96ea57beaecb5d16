// The tool loop: ask the model for its next turn; run the tool calls it asks for; show it the results (errors
// included, so it can recover or explain); repeat until it answers in text or the step limit is reached.
// I/O is injected (the model, the tool caller, the event sink), so the loop is tested without a network.
import type { ChatMessage, ModelProvider, ModelTool, ToolCall } from '../models/types.ts';

export interface LoopTool {
  tool: ModelTool;
}

export interface LoopOutcome {
  content: string;
  isError: boolean;
}

export type LoopEvent<B, O> = { type: 'call'; call: ToolCall; binding: B | undefined } | { type: 'result'; call: ToolCall; binding: B | undefined; outcome: O; durationMs: number };

export interface LoopInput<B extends LoopTool, O extends LoopOutcome> {
  model: ModelProvider;
  system: string;
  /** The conversation so far, ending with the user's new message. */
  messages: ChatMessage[];
  bindings: readonly B[];
  call(binding: B, args: Record<string, unknown>): Promise<O>;
  /** A tool the model named that is not on offer: the result it is shown. */
  unknownTool(name: string): O;
  maxSteps: number;
  signal?: AbortSignal;
  onEvent?(event: LoopEvent<B, O>): void | Promise<void>;
}

export interface LoopResult {
  text: string;
  /** The conversation with this task's turns appended. */
  messages: ChatMessage[];
  steps: number;
  stoppedBy: 'final' | 'step-limit';
}

export async function runToolLoop<B extends LoopTool, O extends LoopOutcome>(input: LoopInput<B, O>): Promise<LoopResult> {
  const messages = [...input.messages];
  const tools = input.bindings.map((b) => b.tool);
  for (let step = 1; step <= input.maxSteps; step++) {
    input.signal?.throwIfAborted();
    const turn = await input.model.next({ system: input.system, messages, tools, ...(input.signal ? { signal: input.signal } : {}) });
    if (turn.kind === 'final') {
      messages.push({ role: 'assistant', content: turn.text });
      return { text: turn.text, messages, steps: step, stoppedBy: 'final' };
    }
    messages.push({ role: 'assistant', content: turn.text ?? '', toolCalls: turn.toolCalls });
    // Calls of one turn run in order: a model that asks for two calls may depend on their order.
    for (const call of turn.toolCalls) {
      const binding = input.bindings.find((b) => b.tool.name === call.name);
      await input.onEvent?.({ type: 'call', call, binding });
      const started = performance.now();
      const outcome = binding ? await input.call(binding, call.arguments) : input.unknownTool(call.name);
      await input.onEvent?.({ type: 'result', call, binding, outcome, durationMs: performance.now() - started });
      messages.push({ role: 'tool', toolCallId: call.id, name: call.name, content: outcome.content, ...(outcome.isError ? { isError: true } : {}) });
    }
  }
  const text = `I could not finish this request within ${input.maxSteps} steps, so I stopped. Please try again or ask a member of staff.`;
  messages.push({ role: 'assistant', content: text });
  return { text, messages, steps: input.maxSteps, stoppedBy: 'step-limit' };
}
