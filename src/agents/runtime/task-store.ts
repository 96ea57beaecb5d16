// The agent's A2A task store, bounded. The SDK's InMemoryTaskStore keeps every task forever (80 tasks of
// 400 KB each added ~45 MB of heap), so this store keeps at most `maxTasks` tasks and `maxBytes` of task
// content, evicting the least recently used *terminal* task (completed, failed, canceled, rejected) first. A
// task that is still running is never evicted: the executor bounds how many run at once, so the running set
// is bounded without the store. An evicted task is simply absent, and the SDK answers a GetTask for it with
// A2A's TaskNotFoundError, as for a task that never existed.
//
// Sizes are the store's own accounting (`retainedBytes`), which is what the bounds count.
import { TaskState, type ListTasksRequest, type ListTasksResponse, type Task } from '@a2a-js/sdk';
import { RequestMalformedError } from '@a2a-js/sdk/errors';
import type { ServerCallContext, TaskStore } from '@a2a-js/sdk/server';
import { retainedBytes } from '../../core/retained-bytes.ts';

export interface TaskStoreLimits {
  /** Tasks kept (terminal and running together; only terminal ones are evicted). */
  maxTasks: number;
  /** Bytes of task content kept, by `retainedBytes`. */
  maxBytes: number;
}

/** The documented bounds (README, "Memory bounds"). */
export const DEFAULT_TASK_STORE_LIMITS: TaskStoreLimits = { maxTasks: 1000, maxBytes: 16 * 1024 * 1024 };

const TERMINAL = new Set<TaskState>([TaskState.TASK_STATE_COMPLETED, TaskState.TASK_STATE_FAILED, TaskState.TASK_STATE_CANCELED, TaskState.TASK_STATE_REJECTED]);
const DEFAULT_PAGE_SIZE = 50;

export function isTerminal(task: Task): boolean {
  return task.status !== undefined && TERMINAL.has(task.status.state);
}

interface Entry {
  task: Task;
  bytes: number;
  scope: string;
}

export interface TaskStoreUsage {
  tasks: number;
  bytes: number;
  running: number;
  evicted: number;
}

export class BoundedTaskStore implements TaskStore {
  /** Insertion order is recency: a save or load moves the entry to the end, so the first entries are the LRU. */
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private evicted = 0;

  constructor(readonly limits: TaskStoreLimits = DEFAULT_TASK_STORE_LIMITS) {}

  load(taskId: string, context: ServerCallContext): Promise<Task | undefined> {
    const key = entryKey(scopeOf(context), taskId);
    const entry = this.entries.get(key);
    if (!entry) return Promise.resolve(undefined);
    this.entries.delete(key);
    this.entries.set(key, entry);
    return Promise.resolve(structuredClone(entry.task));
  }

  save(task: Task, context: ServerCallContext): Promise<void> {
    const scope = scopeOf(context);
    const key = entryKey(scope, task.id);
    const previous = this.entries.get(key);
    if (previous) {
      this.bytes -= previous.bytes;
      this.entries.delete(key);
    }
    const entry: Entry = { task: structuredClone(task), bytes: retainedBytes(task), scope };
    this.entries.set(key, entry);
    this.bytes += entry.bytes;
    this.evict();
    return Promise.resolve();
  }

  list(params: ListTasksRequest, context: ServerCallContext): Promise<ListTasksResponse> {
    const scope = scopeOf(context);
    const { contextId, status, pageSize = DEFAULT_PAGE_SIZE, pageToken, statusTimestampAfter, includeArtifacts = false } = params;
    const after = statusTimestampAfter ? new Date(statusTimestampAfter).getTime() : undefined;
    let tasks = [...this.entries.values()]
      .filter((e) => e.scope === scope)
      .map((e) => e.task)
      .filter((t) => !contextId || t.contextId === contextId)
      .filter((t) => status === undefined || status === TaskState.TASK_STATE_UNSPECIFIED || t.status?.state === status)
      .filter((t) => after === undefined || (t.status?.timestamp !== undefined && new Date(t.status.timestamp).getTime() > after))
      .sort((a, b) => (b.status?.timestamp ?? '').localeCompare(a.status?.timestamp ?? '') || b.id.localeCompare(a.id));
    const totalSize = tasks.length;
    if (pageToken) {
      const cursor = decodePageToken(pageToken);
      const index = tasks.findIndex((t) => (t.status?.timestamp ?? '') === cursor.timestamp && t.id === cursor.id);
      tasks = index === -1 ? [] : tasks.slice(index + 1);
    }
    const page = tasks.slice(0, pageSize);
    const last = page.at(-1);
    return Promise.resolve({
      tasks: page.map((t) => ({ ...structuredClone(t), ...(includeArtifacts ? {} : { artifacts: [] }) })),
      nextPageToken: last && tasks.length > page.length ? Buffer.from(`${last.status?.timestamp ?? ''}|${last.id}`).toString('base64') : '',
      pageSize,
      totalSize,
    });
  }

  usage(): TaskStoreUsage {
    let running = 0;
    for (const entry of this.entries.values()) if (!isTerminal(entry.task)) running++;
    return { tasks: this.entries.size, bytes: this.bytes, running, evicted: this.evicted };
  }

  private evict(): void {
    if (this.entries.size <= this.limits.maxTasks && this.bytes <= this.limits.maxBytes) return;
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.limits.maxTasks && this.bytes <= this.limits.maxBytes) return;
      if (!isTerminal(entry.task)) continue;
      this.entries.delete(key);
      this.bytes -= entry.bytes;
      this.evicted++;
    }
  }
}

/** As the SDK scopes tasks: by tenant and by the authenticated user's name. */
function scopeOf(context: ServerCallContext): string {
  return `${context.tenant ?? ''}\0${context.user?.userName || 'unknown'}`;
}

function entryKey(scope: string, taskId: string): string {
  return `${scope}\0${taskId}`;
}

function decodePageToken(token: string): { timestamp: string; id: string } {
  const [timestamp = '', ...id] = Buffer.from(token, 'base64').toString('utf8').split('|');
  if (id.length === 0) throw new RequestMalformedError('Invalid page token format.');
  return { timestamp, id: id.join('|') };
}
