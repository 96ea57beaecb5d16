// Reading an A2A 0.3 `message/stream` answer in the page: server-sent events split as they arrive, each event's
// JSON-RPC result folded into the task so far (the task, then a status update per tool call and result, the
// reply's artifact, the final status), and the task read with the same reader `trustusbank chat` uses.
import { readTask, type A2aReply } from '../../../src/agents/runtime/a2a-client.ts';

export interface SseEvent {
  event: string;
  data: string;
}

/** An incremental SSE parser: feed it text as it arrives, get the complete events. */
export function createSseParser(): { push(text: string): SseEvent[] } {
  let buffer = '';
  return {
    push(text) {
      buffer += text.replace(/\r\n?/g, '\n');
      const events: SseEvent[] = [];
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon === -1 ? line : line.slice(0, colon);
          const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
        }
        if (data.length > 0) events.push({ event, data: data.join('\n') });
      }
      return events;
    },
  };
}

type Json = Record<string, unknown>;

export interface StreamState {
  task?: Json;
  error?: string;
}

/** Fold one JSON-RPC event of the stream into the state. Unknown kinds are ignored, as a client should. */
export function applyStreamEvent(state: StreamState, rpc: unknown): StreamState {
  if (!isRecord(rpc)) return { ...state, error: 'the agent sent an event that is not JSON-RPC' };
  if (isRecord(rpc.error)) return { ...state, error: `A2A error ${String(rpc.error.code)}: ${String(rpc.error.message)}` };
  const result = rpc.result;
  if (!isRecord(result)) return state;
  switch (result.kind) {
    case 'task':
      return { ...state, task: { ...result, history: list(result.history), artifacts: list(result.artifacts) } };
    case 'message':
      // An agent may answer with a message instead of a task.
      return { ...state, task: { kind: 'task', id: '', contextId: result.contextId, status: { state: 'completed', message: result }, history: [], artifacts: [] } };
    case 'status-update': {
      const task = state.task ?? { kind: 'task', id: result.taskId, contextId: result.contextId, history: [], artifacts: [] };
      const status = isRecord(result.status) ? result.status : {};
      // Progress messages (the tool chain) join the history; the final one is the reply itself.
      const history = isRecord(status.message) && result.final !== true ? [...list(task.history), status.message] : list(task.history);
      return { ...state, task: { ...task, status, history } };
    }
    case 'artifact-update': {
      if (!state.task || !isRecord(result.artifact)) return state;
      const artifact = result.artifact;
      const artifacts = list(state.task.artifacts).filter(isRecord);
      const same = artifacts.findIndex((a) => a.artifactId === artifact.artifactId);
      if (same !== -1 && result.append === true) {
        const merged = { ...artifacts[same]!, parts: [...list(artifacts[same]!.parts), ...list(artifact.parts)] };
        return { ...state, task: { ...state.task, artifacts: artifacts.map((a, i) => (i === same ? merged : a)) } };
      }
      return { ...state, task: { ...state.task, artifacts: same === -1 ? [...artifacts, artifact] : artifacts.map((a, i) => (i === same ? artifact : a)) } };
    }
    default:
      return state;
  }
}

export type StreamView = Omit<A2aReply, 'status'>;

/** What the page shows of the state: the reply so far and its chain, or nothing yet. */
export function viewOf(state: StreamState): StreamView | undefined {
  return state.task ? readTask(state.task) : undefined;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
