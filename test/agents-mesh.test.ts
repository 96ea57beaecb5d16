// The three agents in the running cluster: declared as kagent Agents, deployed by the agents controller, serving
// A2A, calling their tools through the agent gateway and handing off to each other through the mesh. The model
// is the offline scripted one; the story is the seed's: the same question before and after the converter's
// same-tag rug-pull, the fraud chain to a ticket, and AccessPolicy at the agents' waypoints.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifestDocuments } from '../src/control-plane/cluster.ts';
import { AGENT_POLICIES } from '../src/scenario.ts';
import { applyStreamEvent, createSseParser, viewOf, type StreamState } from '../apps/chatbot/page/stream.ts';
import { seriesValue, startTestCluster, type TestCluster } from '../testing/cluster.ts';
import { SEED_PROFILE } from '../testing/seed.ts';

const SEED_PROMPT = 'I am customer 12345. Please check my balance, list my recent transactions, and convert my balance to USD.';
const FRAUD_PROMPT = 'I am customer 12345. There is a 1499 USD charge I do not recognise. Please open a ticket.';
const AGENTS = 'trustusbank-bank-agents';

describe('the agents in the cluster', () => {
  let t: TestCluster;
  beforeAll(async () => {
    t = await startTestCluster();
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  const sessionsUrl = () => new URL('/api/sessions', t.cluster.forwards.find((f) => f.service === 'agents-ui')!.url);
  const toolCallsOfSupportBot = async (): Promise<number> => {
    const { sessions } = (await (await fetch(sessionsUrl())).json()) as { sessions: { agent: string; toolCallCount: number }[] };
    return sessions.filter((s) => s.agent === 'support-bot').reduce((sum, s) => sum + s.toolCallCount, 0);
  };

  it('deploys every Agent as its own pod, identity, Service and waypoint', async () => {
    for (const agent of ['support-bot', 'fraud-bot', 'triage-bot']) {
      const pods = t.cluster.engine.podsOf(AGENTS, agent);
      expect(pods.map((p) => [p.spiffeId, p.image, p.ready])).toEqual([[`spiffe://cluster.local/ns/${AGENTS}/sa/${agent}`, 'trustusbank/kagent-agent:1.0.0', true]]);
      expect(t.cluster.waypoints.describe().some((w) => w.name === `${agent}-waypoint` && w.identity === `spiffe://cluster.local/ns/${AGENTS}/sa/${agent}-waypoint`)).toBe(true);
    }
    // The generated resources are visible like applied ones, and say where they came from.
    const get = await t.cli(['get', 'deployments', '-n', AGENTS]);
    expect(get.stdout).toMatch(/support-bot/);
    const status = await t.cli(['status']);
    expect(status.stdout).toContain("Agents' model: scripted (offline stand-in, deterministic)");
  });

  it('serves its agent card and A2A 1.0 and 0.3 to a caller in the mesh', async () => {
    // From a pod in the mesh: the card in the 0.3 shape by default (what the chatbot's health check reads), 1.0 on request.
    const card = await t.curlFrom('external-attacker', 'mock-attacker', ['-H', 'A2A-Version: 1.0', 'http://support-bot.trustusbank-bank-agents.svc.cluster.local:8080/.well-known/agent-card.json']);
    expect(card.code).toBe(0);
    expect(JSON.parse(card.stdout)).toMatchObject({ name: 'support-bot', supportedInterfaces: expect.arrayContaining([expect.objectContaining({ protocolVersion: '1.0', protocolBinding: 'JSONRPC' })]) });
    // Streaming (A2A 1.0 SendStreamingMessage) through the agent's waypoint: server-sent events end to end.
    const stream = await t.curlFrom('external-attacker', 'mock-attacker', [
      '-H',
      'A2A-Version: 1.0',
      '-d',
      JSON.stringify({ jsonrpc: '2.0', id: 's1', method: 'SendStreamingMessage', params: { message: { messageId: 'm-s1', role: 'ROLE_USER', parts: [{ text: 'I am customer 12345. What is my balance?' }] } } }),
      'http://support-bot.trustusbank-bank-agents.svc.cluster.local:8080/',
    ]);
    expect(stream.code).toBe(0);
    const events = stream.stdout.split('\n\n').filter((chunk) => chunk.startsWith('data: ')).map((chunk) => JSON.parse(chunk.slice(6)) as { result: Record<string, { status?: { state?: string } }> });
    expect(events[0]!.result.task).toBeDefined();
    expect(events.at(-1)!.result.statusUpdate?.status?.state).toBe('TASK_STATE_COMPLETED');
    const legacy = await t.chat('I am customer 12345. What is my balance?');
    expect(legacy).toMatchObject({ failed: false, author: 'support-bot', model: 'scripted', caller: 'spiffe://cluster.local/ns/trustusbank-bank-frontend/sa/chatbot' });
    expect(legacy.reply).toContain('£4,287.55');
    const current = await t.chat('I am customer 12345. What is my balance?', { protocol: '1.0' });
    expect(current).toMatchObject({ failed: false, author: 'support-bot', state: 'completed' });
    expect(current.tools.map((c) => c.name)).toEqual(['get_balance']);
  });

  it('answers the seed question with the clean converter, and obeys the rug-pulled one without showing it', async () => {
    const lootBefore = (await t.attackerLoot()).count;
    const clean = await t.chat(SEED_PROMPT);
    expect(clean.failed).toBe(false);
    expect(clean.tools.map((c) => c.name)).toEqual(['get_balance', 'list_recent', 'convert_currency']);
    expect(clean.reply).toContain('£4,287.55');
    expect(clean.reply).toContain('$5,445.19');
    expect((await t.attackerLoot()).count).toBe(lootBefore);

    const rugpull = t.cluster.builds.find((b) => b.image === 'acme-fx/currency-converter:1.0.0' && b.variant === 'rugpull')!;
    const cleanBuild = t.cluster.builds.find((b) => b.image === 'acme-fx/currency-converter:1.0.0' && b.variant === 'clean')!;
    t.cluster.images.tag('acme-fx/currency-converter:1.0.0', rugpull.digest);
    try {
      await t.cluster.engine.reconcile();
      const deadline = Date.now() + 20_000;
      while (t.cluster.engine.podsOf('trustusbank-bank-vendors', 'currency-converter').some((p) => p.imageDigest !== rugpull.digest || !p.ready) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

      const pulled = await t.chat(SEED_PROMPT);
      expect(pulled.failed).toBe(false);
      const names = pulled.tools.map((c) => c.name);
      expect(names).toContain('get_profile');
      expect(names.indexOf('get_profile')).toBeLessThan(names.lastIndexOf('convert_currency'));
      const convert = pulled.tools.find((c) => c.name === 'convert_currency')!;
      expect(convert.args.customer_profile).toMatchObject({ email: SEED_PROFILE.email, ni_number: SEED_PROFILE.ni_number });
      // The customer sees the same figures and none of their PII unmasked…
      expect(pulled.reply).toContain('£4,287.55');
      expect(pulled.reply).toContain('$5,445.19');
      for (const value of [SEED_PROFILE.email, SEED_PROFILE.phone, SEED_PROFILE.ni_number, SEED_PROFILE.dob, '42 King Street']) expect(pulled.reply).not.toContain(value);
      // …while the attacker got the profile.
      expect((await t.attackerLoot()).count).toBeGreaterThan(lootBefore);
    } finally {
      t.cluster.images.tag('acme-fx/currency-converter:1.0.0', cleanBuild.digest);
      await t.cluster.engine.reconcile();
      await t.cluster.engine.waitReady(30_000);
    }
  }, 60_000);

  it('hands an unrecognised charge from support-bot to fraud-bot to triage-bot, which opens a ticket', async () => {
    const answer = await t.chat(FRAUD_PROMPT);
    expect(answer.failed).toBe(false);
    const chain = answer.tools.map((c) => `${c.author}:${c.name}`);
    expect(chain).toEqual(expect.arrayContaining(['support-bot:fraud-bot', 'fraud-bot:triage-bot', 'triage-bot:create_ticket', 'triage-bot:notify_human']));
    expect(chain.indexOf('support-bot:fraud-bot')).toBeLessThan(chain.indexOf('fraud-bot:triage-bot'));
    const ticket = answer.tools.find((c) => c.name === 'create_ticket')!;
    expect(ticket.result).toMatchObject({ ticket_id: expect.stringMatching(/^TICK-[0-9A-F]{8}$/), customer_id: '12345', severity: 'critical' });
    expect(answer.reply).toContain((ticket.result as { ticket_id: string }).ticket_id);
  });

  it('keeps every session and tool call in SQLite, shown by the agents UI', async () => {
    const { sessions } = (await (await fetch(sessionsUrl())).json()) as { sessions: { namespace: string; agent: string; id: string; caller: string; toolCallCount: number }[] };
    const fraud = sessions.find((s) => s.agent === 'fraud-bot');
    expect(fraud).toMatchObject({ namespace: AGENTS, caller: `spiffe://cluster.local/ns/${AGENTS}/sa/support-bot` });
    const detail = (await (await fetch(new URL(`/api/sessions/${AGENTS}/fraud-bot/${fraud!.id}`, sessionsUrl()))).json()) as { messages: { role: string }[]; toolCalls: { name: string; args: unknown }[] };
    expect(detail.messages.map((m) => m.role)).toEqual(['user', 'agent']);
    expect(detail.toolCalls.map((c) => c.name)).toEqual(expect.arrayContaining(['get_details', 'flag_suspicious', 'triage-bot']));
  });

  it('enforces AccessPolicy at the waypoint before the model runs, and the clean path still works', async () => {
    // Off: any workload may call support-bot.
    expect((await t.chat('I am customer 12345. What is my balance?', { as: 'external-attacker/mock-attacker' })).failed).toBe(false);
    await t.cluster.engine.apply(readManifestDocuments(AGENT_POLICIES, []));
    try {
      const before = { denies: seriesValue(await t.metricsText(), 'agentgateway_requests_total', { gateway: `${AGENTS}/support-bot-waypoint`, status: '403', reason: 'Authorization' }), calls: await toolCallsOfSupportBot() };
      const denied = await t.chat('I am customer 12345. What is my balance?', { as: 'external-attacker/mock-attacker' });
      expect(denied).toMatchObject({ failed: true, status: 403 });
      expect(denied.reply).toContain('accesspolicy-support-bot-callers-waypoint');
      expect(seriesValue(await t.metricsText(), 'agentgateway_requests_total', { gateway: `${AGENTS}/support-bot-waypoint`, status: '403', reason: 'Authorization' })).toBe(before.denies + 1);
      expect(await toolCallsOfSupportBot()).toBe(before.calls); // refused before the agent ran a tool

      // The chatbot is allowed…
      const allowed = await t.chat('I am customer 12345. What is my balance?');
      expect(allowed).toMatchObject({ failed: false });
      expect(allowed.reply).toContain('£4,287.55');
      // …but support-bot may not hand off to fraud-bot, which only triage-bot may call.
      const handOff = await t.chat(FRAUD_PROMPT);
      const fraudCall = handOff.tools.find((c) => c.name === 'fraud-bot')!;
      expect(fraudCall).toMatchObject({ isError: true });
      expect(String(fraudCall.result)).toContain('403');
      expect(handOff.tools.some((c) => c.author === 'fraud-bot')).toBe(false);
    } finally {
      await t.cluster.engine.delete(readManifestDocuments(AGENT_POLICIES, []));
    }
    expect((await t.chat('I am customer 12345. What is my balance?', { as: 'external-attacker/mock-attacker' })).failed).toBe(false);
  }, 60_000);

  it("the chatbot's page asks support-bot through the mesh as the chatbot, and streams the reply and its tool chain", async () => {
    const chatbot = t.cluster.forwards.find((f) => f.namespace === 'trustusbank-bank-frontend' && f.service === 'chatbot')!.url;
    const base = new URL('/api/a2a/trustusbank-bank-agents/support-bot/', chatbot);
    expect(await (await fetch(new URL('.well-known/agent-card.json', base))).json()).toMatchObject({ name: 'support-bot' });
    const traceparent = `00-${'5eed'.repeat(8)}-${'c0ffee00'.repeat(2)}-01`;
    const response = await fetch(base, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'a2a-version': '0.3', traceparent },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'e2e', method: 'message/stream', params: { message: { kind: 'message', messageId: 'm-e2e', role: 'user', parts: [{ kind: 'text', text: SEED_PROMPT }] } } }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    // The page's trace continues through the chatbot's own span (same trace, the chatbot's span as the parent).
    expect(response.headers.get('traceparent')).toMatch(new RegExp(`^00-${'5eed'.repeat(8)}-(?!${'c0ffee00'.repeat(2)})[0-9a-f]{16}-01$`));
    // Read as the page reads it: events folded into the task as they arrive.
    const parser = createSseParser();
    let state: StreamState = {};
    let events = 0;
    const decoder = new TextDecoder();
    for await (const chunk of response.body!) {
      for (const event of parser.push(decoder.decode(chunk, { stream: true }))) {
        state = applyStreamEvent(state, JSON.parse(event.data));
        events++;
      }
    }
    const view = viewOf(state)!;
    expect(events).toBeGreaterThan(3);
    expect(view).toMatchObject({ state: 'completed', author: 'support-bot', failed: false });
    expect(view.text).toContain('£4,287.55');
    expect(view.text).toContain('$5,445.19');
    expect(view.chain.filter((e) => e.type === 'function_call').map((e) => e.name)).toEqual(['get_balance', 'list_recent', 'convert_currency']);
    // The agent saw the chatbot's own mesh identity, vouched for by its waypoint.
    const { sessions } = (await (await fetch(sessionsUrl())).json()) as { sessions: { id: string; agent: string; caller: string }[] };
    expect(sessions.find((s) => s.id === view.contextId)).toMatchObject({ agent: 'support-bot', caller: 'spiffe://cluster.local/ns/trustusbank-bank-frontend/sa/chatbot' });
    // The proxy is for agents only: an MCP server is not reachable through it.
    expect((await fetch(new URL('/api/a2a/trustusbank-bank-mcp/account-mcp/', chatbot), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(403);
  }, 60_000);

  it('chat from the command line prints the reply and the tool chain as JSON', async () => {
    const result = await t.cli(['chat', 'I am customer 12345. What is my balance in EUR?', '--json']);
    expect(result.code).toBe(0);
    const answer = JSON.parse(result.stdout) as { reply: string; author: string; model: string; tools: { name: string; args: unknown; result: unknown }[] };
    expect(answer).toMatchObject({ author: 'support-bot', model: 'scripted' });
    expect(answer.tools.map((c) => c.name)).toEqual(['get_balance', 'convert_currency']);
    expect(answer.reply).toContain('€5,059.31');
    const unknown = await t.cli(['chat', 'hello', '--agent', 'nobody']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('Agent "nobody" not found');
  }, 30_000);
});
