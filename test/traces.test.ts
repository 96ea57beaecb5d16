// One trace per customer request, in a running cluster: `chat` starts it, the agents continue it through A2A
// and their tool loops, the agent gateway and the MCP servers through HTTP, and ztunnel through the capture
// preamble and the HBONE CONNECT, so that in Act 3 the converter's refused connection to the attacker sits in
// the trace of the customer's question, with both SPIFFE identities and the policy that refused it. The clean
// run's trace has no deny. The collector answers Tempo's API on its host port; spans a pod exports carry the
// pod's identity as the node knows it, whatever they claim.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICIES_DIR, rugpull } from '../src/control-plane/image-ops.ts';
import { attribute, type StoredSpan } from '../src/evidence/traces/otlp.ts';
import { startTestCluster, type TestCluster } from '../testing/cluster.ts';

const SEED_PROMPT = 'I am customer 12345. Please check my balance, list my recent transactions, and convert my balance to USD.';
const HANDOFF_PROMPT = 'There is a 1499 USD charge I do not recognise on account 12345, open a ticket';
const CONVERTER = 'spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter';
/** OTLP's span kinds (the API's plus one). */
const OTLP_SERVER = 2;
const OTLP_CLIENT = 3;
const ATTACKER = 'spiffe://cluster.local/ns/external-attacker/sa/mock-attacker';
const CHATBOT = 'spiffe://cluster.local/ns/trustusbank-bank-frontend/sa/chatbot';

interface OtlpBatch {
  resource: { attributes: { key: string; value: { stringValue?: string } }[] };
  scopeSpans: { scope: { name: string }; spans: Omit<StoredSpan, 'resource' | 'scope'>[] }[];
}

describe('traces in the cluster', () => {
  let t: TestCluster;
  let api: string;
  beforeAll(async () => {
    t = await startTestCluster();
    api = t.cluster.forwards.find((f) => f.service === 'traces')!.url;
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  /** The trace's spans as the Tempo API serves them, each with its resource, once `done` holds (bounded wait). */
  const traceOf = async (traceId: string, done: (spans: StoredSpan[]) => boolean): Promise<StoredSpan[]> => {
    const deadline = Date.now() + 20_000;
    let spans: StoredSpan[] = [];
    for (;;) {
      t.cluster.traces.flush();
      const response = await fetch(new URL(`/api/traces/${traceId}`, api));
      if (response.status === 200) {
        const body = (await response.json()) as { batches: OtlpBatch[] };
        spans = body.batches.flatMap((b) => b.scopeSpans.flatMap((s) => s.spans.map((span) => ({ ...span, resource: b.resource.attributes, scope: s.scope.name }) as StoredSpan)));
        if (done(spans)) return spans;
      }
      if (Date.now() > deadline) return spans;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const service = (span: StoredSpan): string | undefined => attribute(span.resource, 'service.name');
  const attr = (span: StoredSpan, key: string): string | undefined => attribute(span.attributes, key);
  const isConverterExfil = (s: StoredSpan): boolean => service(s) === 'ztunnel' && attr(s, 'src.identity') === CONVERTER && attr(s, 'dst.identity') === ATTACKER;
  /** Every span's parent has arrived (pods flush their batches on their own schedule). */
  const complete = (spans: StoredSpan[]): boolean => {
    const ids = new Set(spans.map((s) => s.spanId));
    return spans.every((s) => s.parentSpanId === undefined || ids.has(s.parentSpanId));
  };

  it('follows a clean chat from `chat` through the agent, the gateway and the MCP servers to ztunnel, with no deny', async () => {
    const answer = await t.chat(SEED_PROMPT);
    expect(answer.failed).toBe(false);
    expect(answer.traceId).toMatch(/^[0-9a-f]{32}$/);
    const spans = await traceOf(answer.traceId, (s) => complete(s) && s.some((span) => service(span) === 'currency-converter' && span.name === 'execute_tool convert_currency'));
    const root = spans.find((s) => service(s) === 'trustusbank-chat')!;
    expect(root).toMatchObject({ name: 'chat support-bot' });
    expect(root.parentSpanId).toBeUndefined();
    expect(attr(root, 'src.identity')).toBe(CHATBOT);
    // Every span is in one tree under the chat's root.
    const ids = new Set(spans.map((s) => s.spanId));
    for (const span of spans) if (span !== root) expect(ids.has(span.parentSpanId!), `${service(span)} ${span.name} has its parent in the trace`).toBe(true);
    expect(spans.find((s) => service(s) === 'support-bot' && s.name === 'invoke_agent support-bot')).toBeDefined();
    const gatewayCall = spans.find((s) => service(s) === 'agentgateway' && s.name === 'mcp tools/call convert_currency');
    expect(gatewayCall && attr(gatewayCall, 'trustusbank.decision')).toBe('allow');
    // ztunnel carried the chat's own connection in the trace, with both identities (support-bot's traffic goes
    // through its waypoint).
    const chatConnection = spans.find((s) => service(s) === 'ztunnel' && attr(s, 'src.identity') === CHATBOT)!;
    expect(attr(chatConnection, 'dst.service')).toBe('support-bot.trustusbank-bank-agents.svc.cluster.local');
    expect(attr(chatConnection, 'dst.identity')).toBe('spiffe://cluster.local/ns/trustusbank-bank-agents/sa/support-bot-waypoint');
    expect(attr(chatConnection, 'trustusbank.decision')).toBe('allow');
    expect(spans.filter((s) => attr(s, 'trustusbank.decision') === 'deny')).toEqual([]);
    // A span a pod exported is stamped with the pod the node knows, not what the pod said.
    const converterSpan = spans.find((s) => service(s) === 'currency-converter')!;
    expect(attribute(converterSpan.resource, 'trustusbank.exporter')).toBe('pod');
    expect(attribute(converterSpan.resource, 'trustusbank.exporter.spiffe_id')).toBe(CONVERTER);
    // The tool's name, never the customer's arguments: in no span's name, attributes, events or status (ids and
    // nanosecond times are digits too, and one ended in …12345 once).
    expect(JSON.stringify(spans.map((s) => [s.name, s.attributes, s.events ?? [], s.status]))).not.toContain('12345');
  }, 120_000);

  it('shows hand-offs as child spans of the agent that handed off', async () => {
    const answer = await t.chat(HANDOFF_PROMPT);
    expect(answer.failed).toBe(false);
    const spans = await traceOf(answer.traceId, (s) => complete(s) && s.some((span) => span.name.startsWith('invoke_agent ') && service(span) !== 'support-bot' && service(span) !== 'trustusbank-chat'));
    const handOff = spans.find((s) => service(s) === 'support-bot' && s.name.startsWith('invoke_agent ') && s.name !== 'invoke_agent support-bot')!;
    expect(handOff).toBeDefined();
    const peer = handOff.name.slice('invoke_agent '.length);
    const peerTask = spans.find((s) => service(s) === peer && s.name === `invoke_agent ${peer}`)!;
    expect(peerTask).toBeDefined();
    // The peer's task descends from the hand-off span (through its A2A server span).
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    let cursor: StoredSpan | undefined = peerTask;
    while (cursor && cursor !== handOff) cursor = cursor.parentSpanId ? byId.get(cursor.parentSpanId) : undefined;
    expect(cursor).toBe(handOff);
  }, 120_000);

  it("in Act 3 puts ztunnel's refusal of the converter's connection to the attacker in the customer's trace", async () => {
    await t.cluster.engine.apply(t.cluster.readDocuments(`${POLICIES_DIR}/mesh`));
    await rugpull(t.cluster);
    const answer = await t.chat(SEED_PROMPT);
    expect(answer.failed).toBe(false);
    const spans = await traceOf(answer.traceId, (s) => complete(s) && s.some((span) => isConverterExfil(span) && attr(span, 'trustusbank.decision') === 'deny' && span.kind === OTLP_SERVER));
    const denied = spans.filter((s) => isConverterExfil(s) && attr(s, 'trustusbank.decision') === 'deny');
    expect(denied.length).toBeGreaterThan(0);
    // The source side (CLIENT) and the destination's inbound refusal (SERVER), both identities, the policy.
    const inbound = denied.find((s) => s.kind === OTLP_SERVER)!;
    expect(inbound).toBeDefined();
    expect(attr(inbound, 'dst.workload')).toMatch(/^mock-attacker-/);
    expect(attr(inbound, 'trustusbank.policy')).toBe('external-attacker/deny-bank-to-attacker');
    expect(inbound.status.code).toBe(2);
    const outbound = denied.find((s) => s.kind === OTLP_CLIENT)!;
    expect(outbound.spanId).toBe(inbound.parentSpanId);
    // ztunnel's spans are the node's own record, not a pod's claim.
    expect(attribute(inbound.resource, 'trustusbank.exporter')).toBe('node');
    // The refused connection descends from the converter's tool call, which descends from the customer's question.
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const chain: string[] = [];
    for (let cursor: StoredSpan | undefined = outbound; cursor; cursor = cursor.parentSpanId ? byId.get(cursor.parentSpanId) : undefined) chain.push(`${service(cursor)}: ${cursor.name}`);
    expect(chain).toContain('currency-converter: execute_tool convert_currency');
    expect(chain.at(-1)).toBe('trustusbank-chat: chat support-bot');
    expect((await t.attackerLoot()).count).toBe(0);
  }, 180_000);

  it('finds the deny by tag search, as Grafana asks Tempo', async () => {
    const search = (await (await fetch(new URL(`/api/search?${new URLSearchParams({ tags: `trustusbank.decision=deny src.identity=${CONVERTER}`, limit: '5' })}`, api))).json()) as { traces: { traceID: string; rootServiceName: string }[] };
    expect(search.traces.length).toBeGreaterThan(0);
    expect(search.traces[0]!.rootServiceName).toBe('trustusbank-chat');
    expect((await fetch(new URL('/api/echo', api))).status).toBe(200);
    const bad = await fetch(new URL('/api/search?q={}', api));
    expect(bad.status).toBe(400);
    // The page: the trace as a waterfall, no script allowed.
    const page = await fetch(new URL(`/trace/${search.traces[0]!.traceID}`, api));
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await page.text()).toContain('deny');
  });
});
