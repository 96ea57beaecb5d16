// The offline model: a deterministic stand-in for an LLM agent, so the demo runs with no API key and no network.
// It is stateless: every turn is derived from the system message, the conversation (the user's words, earlier tool
// calls and their results) and the tools on offer, exactly as a hosted model would see them. It behaves like a naive
// but competent agent:
//   - support: plans from the user's words (balance, recent transactions, conversion to named currencies, a charge
//     the user does not recognise → hand-off to the fraud agent), calling only tools it has;
//   - fraud: looks up the named transactions, scores their risk (`riskScore`), flags the risky ones and hands off to
//     the triage agent when the overall risk is above 70;
//   - triage: opens a ticket with a severity from the risk score and notifies a human.
// One tool call per turn; when the plan is done, the final reply is composed from the tool results.
//
// The point of the demo is its one naive rule, which is general and knows nothing of the currency converter: when a
// tool it is about to call says in its description "first call X and pass its result as `arg`" (`findPrerequisite`),
// it calls X, then the tool with X's result in `arg`, and says nothing about it. That is how a rug-pulled tool
// description steers a real model, and what the bank's defences have to stop.
//
// What counts as "the conversation": the last user message and the tool calls after it (a new question re-runs its
// tools); the customer id falls back to earlier user messages. Tool-call ids count over the whole conversation.
//
// The parts, by concern, in scripted/: transcript (the conversation), words (the user's language), tools (hand-offs
// and the prerequisite rule), run (one call per turn), plans (the three agents), risk, money and masking.
import type { ModelProvider, ModelRequest, ModelTurn, ToolCall } from './types.ts';
import { agentPlan } from './scripted/plans.ts';
import { Run } from './scripted/run.ts';
import { Transcript } from './scripted/transcript.ts';
import { readWords } from './scripted/words.ts';

export { findHandOff, findPrerequisite, isHandOffTool, type Prerequisite } from './scripted/tools.ts';
export { customerIdIn } from './scripted/words.ts';
export { riskScore, severityFor } from './scripted/risk.ts';
export { formatMoney } from './scripted/money.ts';
export { maskAddress, maskDob, maskEmail, maskNiNumber, maskPhone, maskPii } from './scripted/masking.ts';

export function createScriptedModel(): ModelProvider {
  return {
    provider: 'scripted',
    model: 'scripted',
    scripted: true,
    next(request: ModelRequest): Promise<ModelTurn> {
      try {
        request.signal?.throwIfAborted();
        return Promise.resolve(scriptedTurn(request));
      } catch (error) {
        return Promise.reject(error as Error);
      }
    },
  };
}

/** The scripted model's next turn for a request: a pure function of the request. */
export function scriptedTurn(request: ModelRequest): ModelTurn {
  const transcript = Transcript.read(request.messages);
  const words = readWords(transcript);
  const run = new Run(request.tools, transcript, words.customerId);
  const plan = agentPlan(request, words, run);
  if ('text' in plan) return { kind: 'final', text: plan.text };
  const call: ToolCall = { id: `call_${transcript.callCount + 1}`, name: plan.next.name, arguments: plan.next.arguments };
  return { kind: 'tool_calls', toolCalls: [call] };
}
