// The bounded task store on its own: which task goes when a bound is reached (the least recently used
// terminal one), which never goes (a running one), and that a flood of tasks cannot push it past its bounds.
import { describe, expect, it } from 'vitest';
import { TaskState, type Task } from '@a2a-js/sdk';
import { ServerCallContext } from '@a2a-js/sdk/server';
import { retainedBytes } from '../../core/retained-bytes.ts';
import { BoundedTaskStore } from './task-store.ts';
import { ConversationMemory, trimToBytes } from './conversations.ts';
import type { ChatMessage } from '../models/types.ts';

const context = new ServerCallContext();

function task(id: string, state: TaskState, text = '', timestamp = '2026-01-01T00:00:00.000Z'): Task {
  return {
    id,
    contextId: `ctx-${id}`,
    status: { state, message: undefined, timestamp },
    artifacts: [],
    history: [{ messageId: `m-${id}`, contextId: `ctx-${id}`, taskId: id, role: 1, parts: [{ content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: '' }], metadata: undefined, extensions: [], referenceTaskIds: [] }],
    metadata: undefined,
  };
}
const DONE = TaskState.TASK_STATE_COMPLETED;
const WORKING = TaskState.TASK_STATE_WORKING;

describe('the bounded task store', () => {
  it('evicts the least recently used terminal task at the count bound; a load counts as a use', async () => {
    const store = new BoundedTaskStore({ maxTasks: 3, maxBytes: 1e9 });
    for (const id of ['a', 'b', 'c']) await store.save(task(id, DONE), context);
    expect(await store.load('a', context)).toBeDefined(); // a is now the most recent
    await store.save(task('d', DONE), context);
    expect(await store.load('b', context)).toBeUndefined();
    for (const id of ['a', 'c', 'd']) expect(await store.load(id, context)).toMatchObject({ id });
    expect(store.usage()).toMatchObject({ tasks: 3, evicted: 1 });
  });

  it('never evicts a running task, even the oldest, and evicts it once it has finished', async () => {
    const store = new BoundedTaskStore({ maxTasks: 2, maxBytes: 1e9 });
    await store.save(task('running', WORKING), context);
    await store.save(task('x', DONE), context);
    await store.save(task('y', DONE), context);
    expect(await store.load('running', context)).toBeDefined();
    expect(await store.load('x', context)).toBeUndefined();
    // Its last save makes it terminal and the most recent; the next new task pushes out the older of the two.
    await store.save(task('running', DONE), context);
    await store.save(task('z', DONE), context);
    expect(await store.load('y', context)).toBeUndefined();
    expect(await store.load('running', context)).toBeDefined();
  });

  it('keeps the byte bound whatever the sizes, counting a re-saved task once', async () => {
    const limits = { maxTasks: 1000, maxBytes: 200_000 };
    const store = new BoundedTaskStore(limits);
    for (let i = 0; i < 300; i++) {
      const text = 'q'.repeat(1000 + ((i * 7919) % 30_000));
      await store.save(task(`t${i}`, WORKING, text), context);
      await store.save(task(`t${i}`, DONE, text), context);
      const usage = store.usage();
      expect(usage.bytes).toBeLessThanOrEqual(limits.maxBytes);
    }
    const usage = store.usage();
    expect(usage.tasks + usage.evicted).toBe(300);
    // The accounting is the sum of what is kept, not a running guess.
    let sum = 0;
    for (let i = 0; i < 300; i++) {
      const kept = await store.load(`t${i}`, context);
      if (kept) sum += retainedBytes(kept);
    }
    expect(usage.bytes).toBe(sum);
  });

  it('lets running tasks exceed the bounds rather than lose one (the executor bounds how many run)', async () => {
    const store = new BoundedTaskStore({ maxTasks: 2, maxBytes: 1e9 });
    for (const id of ['r1', 'r2', 'r3']) await store.save(task(id, WORKING), context);
    expect(store.usage()).toMatchObject({ tasks: 3, running: 3, evicted: 0 });
  });

  it('returns copies, so a caller mutating a task does not change what is stored (or its size)', async () => {
    const store = new BoundedTaskStore();
    const original = task('a', DONE, 'hello');
    await store.save(original, context);
    original.history.push(...Array.from({ length: 100 }, () => original.history[0]!));
    const loaded = (await store.load('a', context))!;
    expect(loaded.history).toHaveLength(1);
    loaded.history.length = 0;
    expect((await store.load('a', context))!.history).toHaveLength(1);
  });

  it('scopes tasks by tenant as the SDK does: another tenant cannot load or list them', async () => {
    const store = new BoundedTaskStore();
    await store.save(task('a', DONE), context);
    const other = new ServerCallContext({ tenant: 'other' });
    expect(await store.load('a', other)).toBeUndefined();
    expect((await store.list({ tenant: 'other', contextId: '', status: 0, pageToken: '', statusTimestampAfter: undefined }, other)).tasks).toEqual([]);
    expect((await store.list({ tenant: '', contextId: '', status: 0, pageToken: '', statusTimestampAfter: undefined }, context)).tasks.map((t) => t.id)).toEqual(['a']);
  });

  it('lists newest first with page tokens', async () => {
    const store = new BoundedTaskStore();
    for (let i = 0; i < 5; i++) await store.save(task(`t${i}`, DONE, '', `2026-01-01T00:00:0${i}.000Z`), context);
    const first = await store.list({ tenant: '', contextId: '', status: 0, pageToken: '', statusTimestampAfter: undefined, pageSize: 2 }, context);
    expect(first.tasks.map((t) => t.id)).toEqual(['t4', 't3']);
    expect(first.totalSize).toBe(5);
    const second = await store.list({ tenant: '', contextId: '', status: 0, pageToken: first.nextPageToken, statusTimestampAfter: undefined, pageSize: 2 }, context);
    expect(second.tasks.map((t) => t.id)).toEqual(['t2', 't1']);
  });
});

describe('the conversation memory', () => {
  const turn = (n: number, size: number): ChatMessage[] => [
    { role: 'user', content: `${n} ${'u'.repeat(size)}` },
    { role: 'assistant', content: '', toolCalls: [{ id: `c${n}`, name: 'get_balance', arguments: {} }] },
    { role: 'tool', toolCallId: `c${n}`, name: 'get_balance', content: '{"balance":1}' },
    { role: 'assistant', content: 'done' },
  ];

  it('drops whole old turns to fit a conversation, so a tool result never loses its call', () => {
    const messages = [...turn(1, 1000), ...turn(2, 1000), ...turn(3, 1000)];
    const kept = trimToBytes(messages, 2500);
    expect(kept.messages).toEqual([...turn(2, 1000), ...turn(3, 1000)]);
    expect(kept.bytes).toBe(retainedBytes(kept.messages));
    expect(trimToBytes(turn(1, 5000), 1000).messages).toEqual([]);
  });

  it('keeps the total under its bound, forgetting the least recently used conversation first', () => {
    const memory = new ConversationMemory({ maxConversations: 10, maxBytesPerConversation: 10_000, maxBytes: 5_000 });
    for (let i = 0; i < 50; i++) {
      memory.remember(`c${i}`, turn(i, 1500));
      expect(memory.usage().bytes).toBeLessThanOrEqual(5_000);
    }
    expect(memory.get('c49')).toEqual(turn(49, 1500));
    expect(memory.get('c0')).toEqual([]);
    expect(memory.usage().conversations).toBeLessThanOrEqual(3);
  });
});
