// The agent runtime in-process against the bank's real MCP servers (no mesh, no gateway): the A2A endpoint at
// both protocol versions, streaming, the agent card's two shapes, hand-offs between two runtimes, the catalogue
// filtered by toolNames with descriptions as the server sent them, and the session store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountMcp } from '../../../apps/account-mcp/server.ts';
import { cleanConverter } from '../../../apps/currency-converter/clean/tool.ts';
import { transactionMcp } from '../../../apps/transaction-mcp/server.ts';
import { ticketMcp } from '../../../apps/ticket-mcp/server.ts';
import { startTestWorkload, type TestWorkload } from '../../../testing/workloads.ts';
import { SessionReader } from '../sessions.ts';
import { readTask, sendA2aMessage, toolCallsOf } from './a2a-client.ts';
import { AGENT_CONFIG_ENV, SESSIONS_FILE, type AgentRuntimeConfig } from './config.ts';
import { agentWorkload } from '../../../apps/agent/workload.ts';
import { closeFakes, ok, startFake } from '../models/fake-server.test-support.ts';
import { join } from 'node:path';

const SUPPORT_SYSTEM = 'You are the bank support bot. Mask PII (email, phone, address, DOB, NI number) in your replies.';

describe('the agent runtime', () => {
  const servers: Record<string, TestWorkload> = {};
  let support: TestWorkload;
  let fraud: TestWorkload;
  let triage: TestWorkload;

  const mcp = (name: string, toolNames?: string[]) => ({ name, url: `${servers[name]!.url}/mcp`, protocol: 'STREAMABLE_HTTP' as const, headers: {}, ...(toolNames ? { toolNames } : {}) });
  const config = (overrides: Partial<AgentRuntimeConfig>): AgentRuntimeConfig => ({
    name: 'agent',
    namespace: 'bank',
    description: '',
    systemMessage: SUPPORT_SYSTEM,
    model: { provider: 'scripted', model: 'scripted', source: 'test' },
    mcpServers: [],
    agents: [],
    skills: [],
    maxSteps: 12,
    url: 'http://agent.bank.svc.cluster.local:8080/',
    ...overrides,
  });
  const start = (c: AgentRuntimeConfig) => startTestWorkload(c.name, agentWorkload, { env: { [AGENT_CONFIG_ENV]: JSON.stringify(c) } });
  const rpc = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
  };

  beforeAll(async () => {
    servers['account-mcp'] = await startTestWorkload('account-mcp', accountMcp);
    servers['transaction-mcp'] = await startTestWorkload('transaction-mcp', transactionMcp);
    servers['ticket-mcp'] = await startTestWorkload('ticket-mcp', ticketMcp);
    servers['currency-converter'] = await startTestWorkload('currency-converter', cleanConverter);
    triage = await start(config({ name: 'triage-bot', description: 'Opens incident tickets', systemMessage: 'You are the triage agent. Open a ticket and notify a human.', mcpServers: [mcp('ticket-mcp')] }));
    fraud = await start(
      config({
        name: 'fraud-bot',
        description: 'Scores fraud risk',
        systemMessage: 'You are the fraud analyst. Score the risk; above 70 hand off to triage-bot.',
        mcpServers: [mcp('transaction-mcp', ['list_recent', 'get_details', 'flag_suspicious'])],
        agents: [{ name: 'triage-bot', namespace: 'bank', url: `${triage.url}/`, description: 'Opens incident tickets' }],
      }),
    );
    support = await start(
      config({
        name: 'support-bot',
        mcpServers: [mcp('account-mcp', ['get_balance']), mcp('transaction-mcp', ['list_recent']), mcp('currency-converter')],
        agents: [{ name: 'fraud-bot', namespace: 'bank', url: `${fraud.url}/`, description: 'Scores fraud risk' }],
        skills: [{ id: 'support', name: 'Support', description: 'Balances', tags: ['bank'], examples: ['balance?'] }],
      }),
    );
  }, 30_000);
  afterAll(async () => {
    for (const w of [support, fraud, triage, ...Object.values(servers)]) await w?.close();
  });

  it('answers A2A 0.3 message/send with a task whose history carries the tool chain as kagent data parts', async () => {
    const { status, text } = await rpc(`${support.url}/`, {
      jsonrpc: '2.0',
      id: 7,
      method: 'message/send',
      params: { message: { kind: 'message', messageId: 'm-1', role: 'user', parts: [{ kind: 'text', text: 'I am customer 12345. What is my balance in USD?' }] } },
    });
    expect(status).toBe(200);
    const answer = JSON.parse(text) as { id: number; result: Record<string, unknown> & { kind: string; history: { parts: { kind: string; metadata?: Record<string, unknown>; data?: Record<string, unknown> }[] }[] } };
    expect(answer.id).toBe(7);
    expect(answer.result.kind).toBe('task');
    const data = answer.result.history.flatMap((m) => m.parts).filter((p) => p.kind === 'data');
    expect(data[0]).toEqual({ kind: 'data', data: { id: 'call_1', name: 'get_balance', args: { account_id: '12345' } }, metadata: { kagent_type: 'function_call', kagent_author: 'support-bot' } });
    expect(data[1]).toMatchObject({ data: { id: 'call_1', name: 'get_balance', response: { result: { balance: 4287.55, currency: 'GBP' } } }, metadata: { kagent_type: 'function_response' } });
    const reply = readTask(answer.result);
    expect(reply).toMatchObject({ state: 'completed', author: 'support-bot', model: 'scripted', failed: false });
    expect(reply.text).toContain('$5,445.19');
  });

  it('answers A2A 1.0 SendMessage, and streams SendStreamingMessage as server-sent events', async () => {
    const sent = await sendA2aMessage(`${support.url}/`, 'I am customer 12345. What is my balance?', { protocol: '1.0' });
    expect(sent).toMatchObject({ failed: false, state: 'completed', author: 'support-bot' });
    expect(toolCallsOf(sent.chain)).toEqual([expect.objectContaining({ name: 'get_balance', author: 'support-bot', args: { account_id: '12345' } })]);

    const stream = await rpc(
      `${support.url}/`,
      { jsonrpc: '2.0', id: 'a', method: 'SendStreamingMessage', params: { message: { messageId: 'm-2', role: 'ROLE_USER', parts: [{ text: 'I am customer 12345. What is my balance?' }] } } },
      { 'a2a-version': '1.0' },
    );
    expect(stream.type).toContain('text/event-stream');
    const events = stream.text
      .split('\n\n')
      .filter((chunk) => chunk.startsWith('data: '))
      .map((chunk) => JSON.parse(chunk.slice(6)) as { result: Record<string, { status?: { state: string } }> });
    expect(events.length).toBeGreaterThanOrEqual(4); // the task, the call, the result, the artifact, the final status
    expect(events[0]!.result.task).toBeDefined();
    expect(events.at(-1)!.result.statusUpdate?.status?.state).toBe('TASK_STATE_COMPLETED');
  });

  it('serves the agent card in the 0.3 shape by default and the 1.0 shape when asked', async () => {
    const legacy = (await (await fetch(`${support.url}/.well-known/agent-card.json`)).json()) as Record<string, unknown>;
    expect(legacy).toMatchObject({ name: 'support-bot', url: 'http://agent.bank.svc.cluster.local:8080/', protocolVersion: '0.3.0', preferredTransport: 'JSONRPC' });
    expect(legacy.skills).toEqual([expect.objectContaining({ id: 'support', name: 'Support' })]);
    const current = (await (await fetch(`${support.url}/.well-known/agent-card.json`, { headers: { 'a2a-version': '1.0' } })).json()) as { supportedInterfaces: { protocolVersion: string; url: string }[] };
    expect(current.supportedInterfaces.map((i) => i.protocolVersion).sort()).toEqual(['0.3', '1.0']);
  });

  it('answers protocol errors in JSON-RPC shape', async () => {
    const bad = await rpc(`${support.url}/`, '{not json');
    expect(JSON.parse(bad.text)).toMatchObject({ error: { code: -32700 } });
    const unknown = await rpc(`${support.url}/`, { jsonrpc: '2.0', id: 3, method: 'message/shout', params: {} });
    expect(JSON.parse(unknown.text)).toMatchObject({ id: 3, error: { code: -32601 } });
    const get = await fetch(`${support.url}/`);
    expect(get.status).toBe(405);
  });

  it('offers the model only the toolNames of each server, with the descriptions the server sent', async () => {
    // get_profile is on account-mcp but not in support-bot's toolNames: asked for a profile, the model has no tool.
    const reply = await sendA2aMessage(`${support.url}/`, 'I am customer 12345. Show me my profile.', {});
    expect(toolCallsOf(reply.chain).map((c) => c.name)).not.toContain('get_profile');
  });

  it('hands off over A2A and carries the peers’ chains back, down to a TICK- ticket', async () => {
    const reply = await sendA2aMessage(`${support.url}/`, 'I am customer 12345. There is a 1499 USD charge I do not recognise. Please open a ticket.', { protocol: '0.3' });
    const calls = toolCallsOf(reply.chain);
    expect(calls.map((c) => `${c.author}:${c.name}`)).toEqual(expect.arrayContaining(['support-bot:list_recent', 'support-bot:fraud-bot', 'fraud-bot:triage-bot', 'triage-bot:create_ticket']));
    expect(reply.text).toMatch(/TICK-[0-9A-F]{8}/);
  });

  it('tells the model when a tool fails and records every call in the session store', async () => {
    // The converter is stopped: its listing fails, the agent still answers with the rest.
    const lonely = await start(config({ name: 'lonely-bot', mcpServers: [mcp('account-mcp', ['get_balance']), { name: 'gone', url: 'http://127.0.0.1:9/mcp', protocol: 'STREAMABLE_HTTP', headers: {} }] }));
    try {
      const reply = await sendA2aMessage(`${lonely.url}/`, 'I am customer 12345. What is my balance?', {});
      expect(reply.failed).toBe(false);
      expect(reply.text).toContain('£4,287.55');
      const reader = SessionReader.open(join(lonely.dataDir, SESSIONS_FILE));
      try {
        const [session] = reader.listSessions();
        expect(session).toMatchObject({ id: reply.contextId, agent: 'lonely-bot', model: 'scripted', toolCallCount: 1, messageCount: 2 });
        const detail = reader.getSession(reply.contextId)!;
        expect(detail.toolCalls[0]).toMatchObject({ name: 'get_balance', kind: 'mcp', server: 'account-mcp', args: { account_id: '12345' }, isError: false });
        expect(detail.messages.map((m) => m.role)).toEqual(['user', 'agent']);
      } finally {
        reader.close();
      }
    } finally {
      await lonely.close();
    }
  });

  it('runs the same loop on an OpenAI-compatible server (a local fake speaking Chat Completions), key from its variable', async () => {
    const fake = await startFake((request, index) => {
      const body = request.body as { messages: { role: string; content: string | null }[]; tools: { function: { name: string; description: string } }[] };
      if (index === 0) {
        // The model sees the tools as the server describes them, filtered by toolNames.
        expect(body.tools.map((t) => t.function.name)).toEqual(['get_balance']);
        return ok({ choices: [{ message: { role: 'assistant', content: null, tool_calls: [{ id: 'tc1', type: 'function', function: { name: 'get_balance', arguments: '{"account_id":"12345"}' } }] }, finish_reason: 'tool_calls' }] });
      }
      const toolMessage = body.messages.at(-1)!;
      return ok({ choices: [{ message: { role: 'assistant', content: `From the bank: ${String(toolMessage.content)}` }, finish_reason: 'stop' }] });
    });
    const llm = await startTestWorkload('llm-bot', agentWorkload, {
      env: {
        [AGENT_CONFIG_ENV]: JSON.stringify(config({ name: 'llm-bot', model: { provider: 'openai', model: 'llama3.1', baseUrl: `${fake.url}/v1`, apiKeyEnv: 'BANK_LLM_API_KEY', source: 'test' }, mcpServers: [mcp('account-mcp', ['get_balance'])] })),
        BANK_LLM_API_KEY: 'sk-test-123',
      },
    });
    try {
      const reply = await sendA2aMessage(`${llm.url}/`, 'What is the balance of account 12345?', {});
      expect(reply).toMatchObject({ failed: false, model: 'openai/llama3.1' });
      expect(reply.text).toContain('4287.55');
      expect(toolCallsOf(reply.chain)).toEqual([expect.objectContaining({ name: 'get_balance', args: { account_id: '12345' } })]);
      expect(fake.requests[0]!.headers.authorization).toBe('Bearer sk-test-123');
      expect(fake.requests[0]!.url).toBe('/v1/chat/completions');
    } finally {
      await llm.close();
      await closeFakes();
    }
  });

  it('refuses to start without a usable config or model key, with one clear line', async () => {
    await expect(startTestWorkload('x', agentWorkload, { env: {} })).rejects.toThrow(/cannot start: AGENT_CONFIG is not set/);
    const anthropic = config({ name: 'keyless', model: { provider: 'anthropic', model: 'claude-haiku-4-5', source: 'test' } });
    await expect(startTestWorkload('x', agentWorkload, { env: { [AGENT_CONFIG_ENV]: JSON.stringify(anthropic) } })).rejects.toThrow(/cannot start: ANTHROPIC_API_KEY is not set/);
  });
});
