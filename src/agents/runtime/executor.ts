// The agent as an A2A AgentExecutor: one task = one run of the tool loop over the user's message. Progress is
// published the way kagent's ADK runtime does it, so clients written for kagent read it unchanged: every tool
// call and every result is a status update whose message carries one data part with `kagent_type`
// (`function_call` {id, name, args} / `function_response` {id, name, response: {result}}) and `kagent_author`;
// a hand-off's own chain is re-published with its authors, so the reply shows support → fraud → triage in one
// history. The final text is the completed status's message and an artifact. Every message and tool call is
// also written to the session store (SQLite) for the agents UI.
import { randomUUID } from 'node:crypto';
import { AgentEvent, type AgentExecutor, type ExecutionEventBus, type RequestContext } from '@a2a-js/sdk/server';
import { Role, TaskState, type Message, type Part } from '@a2a-js/sdk';
import type { Logger } from '../../core/log.ts';
import { ModelError, type ModelProvider } from '../models/types.ts';
import type { SessionStore } from '../sessions.ts';
import { KAGENT_AUTHOR, KAGENT_TYPE, type ChainEntry } from './a2a-client.ts';
import type { AgentRuntimeConfig } from './config.ts';
import { ConversationMemory, type ConversationLimits } from './conversations.ts';
import { runToolLoop } from './loop.ts';
import type { ToolBinding, ToolOutcome, Toolbox } from './toolbox.ts';
import { inSpan } from '../../core/tracing.ts';

/** The ServerCallContext state key under which the HTTP layer leaves the caller's verified identity. */
export const CALLER_STATE_KEY = 'trustusbank.caller';
/** Tasks run at once; more are rejected at once. This is what bounds the task store's unevictable part. */
export const DEFAULT_MAX_RUNNING_TASKS = 64;

export interface ExecutorDependencies {
  config: AgentRuntimeConfig;
  model: ModelProvider;
  toolbox: Toolbox;
  sessions: SessionStore;
  log: Logger;
  now?: () => Date;
  maxRunningTasks?: number;
  conversations?: ConversationLimits;
}

export function modelLabel(model: ModelProvider): string {
  return model.scripted ? 'scripted' : `${model.provider}/${model.model}`;
}

export class BankAgentExecutor implements AgentExecutor {
  readonly conversations: ConversationMemory;
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly deps: ExecutorDependencies) {
    this.conversations = new ConversationMemory(deps.conversations);
  }

  runningCount(): number {
    return this.running.size;
  }

  /** One task, as one span (OpenTelemetry's GenAI `invoke_agent`) in the trace of the request that asked it. */
  execute(request: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const { config } = this.deps;
    return inSpan(config.name, `invoke_agent ${config.name}`, { attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': config.name, 'gen_ai.conversation.id': request.contextId, 'trustusbank.model': modelLabel(this.deps.model) } }, () => this.run(request, bus));
  }

  private async run(request: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const { config, model, toolbox, sessions, log } = this.deps;
    const now = (): string => (this.deps.now?.() ?? new Date()).toISOString();
    const { taskId, contextId } = request;
    const author = config.name;
    const label = modelLabel(model);
    const userText = request.userMessage.parts.map((p) => (p.content?.$case === 'text' ? p.content.value : '')).filter(Boolean).join('\n');
    const caller = String(request.context.state.get(CALLER_STATE_KEY) ?? '');
    const maxRunning = this.deps.maxRunningTasks ?? DEFAULT_MAX_RUNNING_TASKS;
    if (this.running.size >= maxRunning) {
      // Refused before any model or tool is called: a terminal task, so the store may evict it like any other.
      log.warn('task rejected: too many running', { task: taskId, context: contextId, caller, running: this.running.size });
      const text = `The agent is busy: ${this.running.size} tasks are running (at most ${maxRunning}). Try again shortly.`;
      const reply: Part = { content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: '' };
      const status = { state: TaskState.TASK_STATE_REJECTED, timestamp: now(), message: { messageId: randomUUID(), contextId, taskId, role: Role.ROLE_AGENT, parts: [reply], metadata: { [KAGENT_AUTHOR]: author, kagent_error: 'busy' }, extensions: [], referenceTaskIds: [] } };
      bus.publish(AgentEvent.task({ id: taskId, contextId, status, artifacts: [], history: [request.userMessage], metadata: { [KAGENT_AUTHOR]: author } }));
      bus.finished();
      return;
    }
    const abort = new AbortController();
    this.running.set(taskId, abort);
    const metadata = { [KAGENT_AUTHOR]: author, kagent_model: label, kagent_model_scripted: model.scripted };

    const message = (parts: Part[], extra: Record<string, unknown> = {}): Message => ({
      messageId: randomUUID(),
      contextId,
      taskId,
      role: Role.ROLE_AGENT,
      parts,
      metadata: { ...metadata, ...extra },
      extensions: [],
      referenceTaskIds: [],
    });
    const working = (parts: Part[]): void => {
      bus.publish(AgentEvent.statusUpdate({ taskId, contextId, status: { state: TaskState.TASK_STATE_WORKING, message: message(parts), timestamp: now() }, metadata: undefined }));
    };
    const publishChain = (entry: ChainEntry): void => working([chainPart(entry)]);

    bus.publish(
      AgentEvent.task({
        id: taskId,
        contextId,
        status: { state: TaskState.TASK_STATE_WORKING, message: undefined, timestamp: now() },
        artifacts: [],
        history: request.task?.history?.length ? [...request.task.history, request.userMessage] : [request.userMessage],
        metadata,
      }),
    );
    sessions.ensureSession({ id: contextId, agent: config.name, namespace: config.namespace, caller, model: label });
    sessions.addMessage({ sessionId: contextId, taskId, role: 'user', author: caller || 'user', text: userText });

    let finalText: string;
    let state = TaskState.TASK_STATE_COMPLETED;
    const extra: Record<string, unknown> = {};
    try {
      const { bindings, problems } = await toolbox.catalogue();
      const history = this.conversations.get(contextId);
      const result = await runToolLoop<ToolBinding, ToolOutcome>({
        model,
        system: systemWithProblems(config.systemMessage, problems),
        messages: [...history, { role: 'user', content: userText }],
        bindings,
        call: (binding, args) => toolbox.call(binding, args, { contextId, signal: abort.signal }),
        unknownTool: (name) => ({ content: JSON.stringify({ error: `unknown tool "${name}"; the tools on offer are ${bindings.map((b) => b.tool.name).join(', ') || 'none'}` }), isError: true, value: undefined }),
        maxSteps: config.maxSteps,
        signal: abort.signal,
        onEvent: (event) => {
          if (event.type === 'call') {
            publishChain({ type: 'function_call', id: event.call.id, name: event.call.name, author, args: event.call.arguments });
            return;
          }
          // A hand-off's chain first, so the history reads in the order things happened.
          for (const entry of event.outcome.chain ?? []) publishChain(entry);
          publishChain({ type: 'function_response', id: event.call.id, name: event.call.name, author, result: event.outcome.value, ...(event.outcome.isError ? { isError: true } : {}) });
          sessions.addToolCall({
            sessionId: contextId,
            taskId,
            callId: event.call.id,
            name: event.call.name,
            kind: event.binding?.kind ?? 'mcp',
            server: event.binding?.server ?? '',
            args: event.call.arguments,
            result: event.outcome.value ?? null,
            isError: event.outcome.isError,
            startedAt: new Date(Date.now() - event.durationMs).toISOString(),
            durationMs: event.durationMs,
          });
        },
      });
      finalText = result.text;
      if (result.stoppedBy === 'step-limit') extra.kagent_stopped = 'step_limit';
      this.conversations.remember(contextId, result.messages);
      log.info('task completed', { task: taskId, context: contextId, caller, steps: result.steps, stopped: result.stoppedBy, model: label });
    } catch (error) {
      state = abort.signal.aborted ? TaskState.TASK_STATE_CANCELED : TaskState.TASK_STATE_FAILED;
      finalText = abort.signal.aborted ? 'The task was canceled.' : error instanceof ModelError ? `The model could not answer (${error.kind}): ${error.message}` : `The agent failed: ${(error as Error).message}`;
      extra.kagent_error = error instanceof ModelError ? error.kind : 'internal';
      log.error('task failed', { task: taskId, context: contextId, error: (error as Error).message });
    } finally {
      this.running.delete(taskId);
    }
    sessions.addMessage({ sessionId: contextId, taskId, role: 'agent', author, text: finalText });
    const textPart: Part = { content: { $case: 'text', value: finalText }, metadata: undefined, filename: '', mediaType: '' };
    if (state === TaskState.TASK_STATE_COMPLETED) {
      bus.publish(AgentEvent.artifactUpdate({ taskId, contextId, artifact: { artifactId: randomUUID(), name: 'reply', description: '', parts: [textPart], metadata: { ...metadata }, extensions: [] }, append: false, lastChunk: true, metadata: undefined }));
    }
    bus.publish(AgentEvent.statusUpdate({ taskId, contextId, status: { state, message: message([textPart], extra), timestamp: now() }, metadata: { ...metadata, ...extra } }));
    bus.finished();
  }

  cancelTask(taskId: string, _bus: ExecutionEventBus): Promise<void> {
    this.running.get(taskId)?.abort();
    return Promise.resolve();
  }
}

function chainPart(entry: ChainEntry): Part {
  const data =
    entry.type === 'function_call'
      ? { id: entry.id, name: entry.name, args: entry.args ?? {} }
      : { id: entry.id, name: entry.name, response: { result: entry.result ?? null }, ...(entry.isError ? { is_error: true } : {}) };
  return { content: { $case: 'data', value: data }, metadata: { [KAGENT_TYPE]: entry.type, [KAGENT_AUTHOR]: entry.author }, filename: '', mediaType: '' };
}

/** Tell the model which servers could not be listed, so it can say so instead of pretending. */
function systemWithProblems(system: string, problems: string[]): string {
  if (problems.length === 0) return system;
  return `${system}\n\nNote: some tools are unavailable right now:\n${problems.map((p) => `- ${p}`).join('\n')}`;
}
