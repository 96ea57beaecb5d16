// The agent's memory stays bounded (issue 12): 1,000 large tasks through a real agent workload's A2A endpoint
// leave the task store under its documented bounds (its own byte accounting, read from /healthz), the oldest
// tasks answer GetTask with A2A's TaskNotFound error in both protocol versions, the newest are still there,
// and a message over the size bound is refused with a clear JSON-RPC error while one under it is served.
// Running tasks are never evicted, so how many run at once is bounded too: more are rejected at once.
import { createServer } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestWorkload, tempDir, type TestWorkload } from '../../../testing/workloads.ts';
import { closeServer, listen } from '../../core/http.ts';
import { silentLogger } from '../../core/log.ts';
import type { ModelProvider, ModelTurn } from '../models/types.ts';
import { SessionStore } from '../sessions.ts';
import { createA2aEndpoint, DEFAULT_MAX_MESSAGE_BYTES } from './a2a-server.ts';
import { AGENT_CONFIG_ENV, type AgentRuntimeConfig } from './config.ts';
import { DEFAULT_CONVERSATION_LIMITS } from './conversations.ts';
import { BankAgentExecutor } from './executor.ts';
import { DEFAULT_TASK_STORE_LIMITS, type TaskStoreUsage } from './task-store.ts';
import { Toolbox } from './toolbox.ts';
import { agentWorkload } from '../../../apps/agent/workload.ts';

const TASKS = 1000;
/** Large (a quarter of the message bound): the byte bound, not the count, is what evicts. 400 KB messages
 *  take four times as long through the SDK (it clones a task on every save) and prove nothing more. */
const TEXT_BYTES = 128 * 1024;
const CONCURRENCY = 4;

const config: AgentRuntimeConfig = {
  name: 'support-bot',
  namespace: 'bank',
  description: '',
  systemMessage: 'You are the bank support bot.',
  model: { provider: 'scripted', model: 'scripted', source: 'test' },
  mcpServers: [],
  agents: [],
  skills: [],
  maxSteps: 4,
  url: 'http://support-bot.bank.svc.cluster.local:8080/',
};

interface RpcAnswer {
  result?: { id?: string; task?: { id: string; status: { state: string } }; status?: { state: string } };
  error?: { code: number; message: string; data?: unknown };
}

describe('agent memory after 1,000 large tasks', () => {
  let agent: TestWorkload;
  const ids: string[] = [];
  const samples: TaskStoreUsage[] = [];

  const rpc = async (body: unknown, version?: '1.0'): Promise<{ status: number; answer: RpcAnswer }> => {
    const response = await fetch(`${agent.url}/`, { method: 'POST', headers: { 'content-type': 'application/json', ...(version ? { 'a2a-version': version } : {}) }, body: JSON.stringify(body) });
    return { status: response.status, answer: (await response.json()) as RpcAnswer };
  };
  const health = async (): Promise<{ tasks: TaskStoreUsage; conversations: { conversations: number; bytes: number }; runningTasks: number }> =>
    (await (await fetch(`${agent.url}/healthz`)).json()) as never;
  const send = async (n: number, text: string): Promise<RpcAnswer> => {
    // Alternate the protocol versions: both are bounded by the same store.
    if (n % 2 === 0) return (await rpc({ jsonrpc: '2.0', id: n, method: 'SendMessage', params: { message: { messageId: `m-${n}`, role: 'ROLE_USER', parts: [{ text }] } } }, '1.0')).answer;
    return (await rpc({ jsonrpc: '2.0', id: n, method: 'message/send', params: { message: { kind: 'message', messageId: `m-${n}`, role: 'user', parts: [{ kind: 'text', text }] } } })).answer;
  };
  const taskIdOf = (answer: RpcAnswer): string => answer.result?.task?.id ?? answer.result?.id ?? '';

  beforeAll(async () => {
    agent = await startTestWorkload('support-bot', agentWorkload, { env: { [AGENT_CONFIG_ENV]: JSON.stringify(config) } });
    const filler = 'What is my balance? '.repeat(Math.ceil(TEXT_BYTES / 20)).slice(0, TEXT_BYTES);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < TASKS) {
        const n = next++;
        // Each text differs, so nothing can be shared between tasks.
        const answer = await send(n, `${n} ${filler}`);
        if (answer.error) throw new Error(`task ${n}: ${answer.error.message}`);
        ids[n] = taskIdOf(answer);
        if (n % 50 === 0) samples.push((await health()).tasks);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    samples.push((await health()).tasks);
  }, 600_000);
  afterAll(async () => {
    await agent?.close();
  });

  it('keeps the task store under its documented bounds the whole time, evicting old tasks', async () => {
    expect(ids.filter(Boolean)).toHaveLength(TASKS);
    expect(samples.length).toBeGreaterThan(TASKS / 50 - 1);
    for (const usage of samples) {
      expect(usage.bytes).toBeLessThanOrEqual(DEFAULT_TASK_STORE_LIMITS.maxBytes);
      expect(usage.tasks).toBeLessThanOrEqual(DEFAULT_TASK_STORE_LIMITS.maxTasks);
    }
    const { tasks, conversations, runningTasks } = await health();
    // 1,000 × 400 KB is ~400 MB of messages; what is kept is the bound, and it is mostly full.
    expect(tasks.evicted).toBeGreaterThan(TASKS / 2);
    expect(tasks.tasks + tasks.evicted).toBe(TASKS);
    expect(tasks.bytes).toBeGreaterThan(DEFAULT_TASK_STORE_LIMITS.maxBytes / 2);
    expect(tasks.running).toBe(0);
    expect(runningTasks).toBe(0);
    expect(conversations.bytes).toBeLessThanOrEqual(DEFAULT_CONVERSATION_LIMITS.maxBytes);
    expect(conversations.conversations).toBeLessThanOrEqual(DEFAULT_CONVERSATION_LIMITS.maxConversations);
  });

  it('answers GetTask for an evicted task with TaskNotFound in both versions, and still serves the newest', async () => {
    const first = ids[0]!;
    const current = await rpc({ jsonrpc: '2.0', id: 'g1', method: 'GetTask', params: { id: first } }, '1.0');
    expect(current.answer.error).toMatchObject({ code: -32001, message: expect.stringContaining(first) });
    const legacy = await rpc({ jsonrpc: '2.0', id: 'g2', method: 'tasks/get', params: { id: ids[1]! } });
    expect(legacy.answer.error).toMatchObject({ code: -32001 });

    const last = ids[TASKS - 1]!;
    const kept = await rpc({ jsonrpc: '2.0', id: 'g3', method: 'GetTask', params: { id: last } }, '1.0');
    expect(kept.answer.error).toBeUndefined();
    expect(kept.answer.result).toMatchObject({ id: last, status: { state: 'TASK_STATE_COMPLETED' } });
  });

  it('refuses a message over the size bound with a JSON-RPC invalid-params error, before any task exists', async () => {
    const before = (await health()).tasks;
    const text = 'x'.repeat(DEFAULT_MAX_MESSAGE_BYTES);
    const refused = await rpc({ jsonrpc: '2.0', id: 'big', method: 'SendMessage', params: { message: { messageId: 'm-big', role: 'ROLE_USER', parts: [{ text }] } } }, '1.0');
    expect(refused.answer.error).toMatchObject({ code: -32602, message: expect.stringMatching(new RegExp(`at most ${DEFAULT_MAX_MESSAGE_BYTES} bytes`)) });
    const legacy = await rpc({ jsonrpc: '2.0', id: 'big2', method: 'message/send', params: { message: { kind: 'message', messageId: 'm-big2', role: 'user', parts: [{ kind: 'text', text }] } } });
    expect(legacy.answer.error).toMatchObject({ code: -32602 });
    const after = (await health()).tasks;
    expect(after.tasks + after.evicted).toBe(before.tasks + before.evicted);

    // The clean run: a message just under the bound is served.
    const fits = await send(0, 'y'.repeat(DEFAULT_MAX_MESSAGE_BYTES - 200));
    expect(fits.error).toBeUndefined();
    expect(fits.result?.task?.status.state).toBe('TASK_STATE_COMPLETED');
  });
});

describe('running tasks are bounded', () => {
  it('rejects a task beyond the running bound at once (a terminal task), and runs the ones admitted', async () => {
    const dir = tempDir();
    const sessions = SessionStore.open(join(dir.path, 'sessions.sqlite'));
    // A model that answers only when the test says so: the first two tasks stay running.
    const gates: (() => void)[] = [];
    const model: ModelProvider = {
      provider: 'test',
      model: 'gated',
      scripted: false,
      next: () => new Promise<ModelTurn>((resolve) => gates.push(() => resolve({ kind: 'final', text: 'answered' }))),
    };
    const executor = new BankAgentExecutor({ config, model, toolbox: new Toolbox([], [], silentLogger, { name: 'support-bot', namespace: 'bank' }), sessions, log: silentLogger, maxRunningTasks: 2 });
    const endpoint = createA2aEndpoint(config, executor, 'test/gated', silentLogger);
    const server = createServer((req, res) => void endpoint.handle(req, res));
    const { url } = await listen(server, { host: '127.0.0.1', port: 0, portHint: '' });
    const send = async (n: number): Promise<RpcAnswer> =>
      (await (
        await fetch(`${url}/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'a2a-version': '1.0' },
          body: JSON.stringify({ jsonrpc: '2.0', id: n, method: 'SendMessage', params: { message: { messageId: `m-${n}`, role: 'ROLE_USER', parts: [{ text: 'hello' }] } } }),
        })
      ).json()) as RpcAnswer;
    try {
      const admitted = [send(1), send(2)];
      await vi.waitFor(() => expect(gates).toHaveLength(2));
      expect(executor.runningCount()).toBe(2);

      const refused = await send(3);
      expect(refused.result?.task?.status.state).toBe('TASK_STATE_REJECTED');
      expect(JSON.stringify(refused.result)).toContain('The agent is busy: 2 tasks are running (at most 2)');
      expect(gates).toHaveLength(2); // the model was never asked

      for (const open of gates) open();
      for (const answer of await Promise.all(admitted)) expect(answer.result?.task?.status.state).toBe('TASK_STATE_COMPLETED');
      expect(endpoint.tasks.usage()).toMatchObject({ tasks: 3, running: 0 });
    } finally {
      await closeServer(server);
      sessions.close();
      dir.remove();
    }
  });
});
