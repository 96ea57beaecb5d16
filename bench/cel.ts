// CEL authorization decision latency: RuleSet.evaluate over 10 realistic rules (3 Deny, 3 Require, 4 Allow) on a
// tools/call with a nested arguments object, against the same decision hand-written in plain JS, measured in the
// same run. Two requests: one that runs all 10 rules (the last allow matches, and two rules error because the
// request has no JWT and its namespace has no classification label), and one the first deny rule refuses.
// Both read the same JSON attributes (RuleSet.evaluate converts them for the CEL library only when a rule needs it).
// Each sample times a batch of calls, because one decision is far below timer resolution.
import { RuleSet, type AuthorizationDecision, type RuleEvaluationError, type RuleSource } from '../src/cel/cel.ts';
import { sized, summarise, type Sample } from './stats.ts';

const BATCH = sized(5_000, 100);
const SAMPLES = sized(60, 3);
const WARMUP_BATCHES = sized(20, 1);
const TARGET_MICROS = 5;

const PII_FIELDS = ['customer_profile', 'ni_number', 'email', 'dob', 'address'];

const SOURCES: RuleSource[] = [
  {
    action: 'Deny',
    policy: 'trustusbank-bank-mcp/no-pii-to-tools',
    expressions: [
      `mcp.tool.arguments.exists(k, k in [${PII_FIELDS.map((field) => JSON.stringify(field)).join(', ')}])`,
      'mcp.tool.arguments.amount > 10000 && source.identity.serviceAccount != "fraud-bot"',
      'source.namespace.labels["data.solo.io/classification"] == "restricted"',
    ],
  },
  {
    action: 'Require',
    policy: 'trustusbank-bank-mcp/mesh-callers',
    expressions: [
      'source.identity.trustDomain == "cluster.local"',
      'request.path.startsWith("/mcp")',
      'request.headers["user-agent"].matches("^[a-z-]+/[0-9.]+$")',
    ],
  },
  {
    action: 'Allow',
    policy: 'trustusbank-bank-mcp/tool-allowlist',
    expressions: [
      'jwt.sub == "alice" || mcp.tool.target == "catalog"',
      'source.identity.serviceAccount == "triage-bot" && mcp.method == "tools/list"',
      'mcp.method == "tools/call" && mcp.tool.name in ["get_balance","get_profile"]',
      'source.identity.serviceAccount in ["support-bot", "fraud-bot"] && mcp.tool.name == "transfer_funds" && mcp.tool.arguments.currency == "GBP"',
    ],
  },
];

function attributes(extraArguments: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    request: {
      method: 'POST',
      path: '/mcp',
      host: 'gateway.trustusbank.local',
      headers: { 'user-agent': 'support-bot/1.4.2', 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': 'c0ffee' },
    },
    source: {
      address: '10.244.1.7',
      identity: { trustDomain: 'cluster.local', namespace: 'trustusbank-bank-agents', serviceAccount: 'support-bot' },
      namespace: { labels: { 'kubernetes.io/metadata.name': 'trustusbank-bank-agents', 'istio.io/dataplane-mode': 'ambient' } },
    },
    mcp: {
      method: 'tools/call',
      tool: {
        name: 'transfer_funds',
        target: 'account',
        arguments: {
          from_account: { id: '12345', sort_code: '40-11-62' },
          to_account: { id: '67890', sort_code: '20-00-00' },
          amount: 4287.55,
          currency: 'GBP',
          reference: 'Invoice 2291',
          metadata: { channel: 'agent', ticket: 'TICK-1A2B3C4D', requested_at: '2026-03-14T09:26:53Z' },
          ...extraArguments,
        },
      },
    },
  };
}

const USER_AGENT = /^[a-z-]+\/[0-9.]+$/;
const [DENY, REQUIRE, ALLOW] = SOURCES as [RuleSource, RuleSource, RuleSource];
type Json = Record<string, unknown> | undefined;

function denied(source: RuleSource, index: number, errors: RuleEvaluationError[]): AuthorizationDecision {
  const expression = source.expressions[index]!;
  const reason = source.action === 'Deny' ? `denied by ${source.policy}: ${expression}` : `required by ${source.policy} not met: ${expression}`;
  return { allowed: false, action: source.action, policy: source.policy, expression, reason, errors };
}

/** The same 10 rules, hand-written against the JSON attributes, with the same answers and errors. */
function handWritten(request: Record<string, unknown>): AuthorizationDecision {
  const source = request.source as Json;
  const identity = source?.identity as Json;
  const labels = (source?.namespace as Json)?.labels as Json;
  const mcp = request.mcp as Json;
  const tool = mcp?.tool as Json;
  const args = tool?.arguments as Json;
  const http = request.request as Json;
  const jwt = request.jwt as Json;
  const errors: RuleEvaluationError[] = [];
  if (args !== undefined) for (const field of PII_FIELDS) if (Object.hasOwn(args, field)) return denied(DENY, 0, errors);
  if (typeof args?.amount === 'number' && args.amount > 10000 && identity?.serviceAccount !== 'fraud-bot') return denied(DENY, 1, errors);
  const classification = labels?.['data.solo.io/classification'];
  if (classification === 'restricted') return denied(DENY, 2, errors);
  if (classification === undefined) errors.push({ policy: DENY.policy, expression: DENY.expressions[2]!, error: 'No such key: data.solo.io/classification', action: 'Deny' });
  if (identity?.trustDomain !== 'cluster.local') return denied(REQUIRE, 0, errors);
  if (typeof http?.path !== 'string' || !http.path.startsWith('/mcp')) return denied(REQUIRE, 1, errors);
  const userAgent = (http.headers as Json)?.['user-agent'];
  if (typeof userAgent !== 'string' || !USER_AGENT.test(userAgent)) return denied(REQUIRE, 2, errors);
  if (tool?.target === 'catalog' || jwt?.sub === 'alice') return { allowed: true, errors };
  if (jwt === undefined) errors.push({ policy: ALLOW.policy, expression: ALLOW.expressions[0]!, error: 'Unknown variable: jwt', action: 'Allow' });
  if (identity?.serviceAccount === 'triage-bot' && mcp?.method === 'tools/list') return { allowed: true, errors };
  if (mcp?.method === 'tools/call' && (tool?.name === 'get_balance' || tool?.name === 'get_profile')) return { allowed: true, errors };
  if ((identity?.serviceAccount === 'support-bot' || identity?.serviceAccount === 'fraud-bot') && tool?.name === 'transfer_funds' && args?.currency === 'GBP') {
    return { allowed: true, errors };
  }
  return { allowed: false, action: 'Allow', reason: `no allow rule matched (allow policies: ${ALLOW.policy})`, errors };
}

interface Case {
  label: string;
  run: () => AuthorizationDecision;
  baseline?: Case;
  micros: number[];
}

function timeBatch(subject: Case): number {
  let sink = 0;
  const started = performance.now();
  for (let i = 0; i < BATCH; i++) if (subject.run() !== undefined) sink++;
  const elapsed = performance.now() - started;
  if (sink !== BATCH) throw new Error(`${subject.label}: no result`);
  return (elapsed * 1000) / BATCH;
}

function sameDecision(a: AuthorizationDecision, b: AuthorizationDecision): boolean {
  const shape = (decision: AuthorizationDecision) => JSON.stringify({ ...decision, errors: decision.errors.map((error) => error.expression) });
  return shape(a) === shape(b);
}

export async function run(): Promise<void> {
  const rules = RuleSet.compile(SOURCES);
  const scenarios = [
    { name: 'allowed, all 10 rules run', json: attributes() },
    { name: 'denied by the first rule (PII)', json: attributes({ ni_number: 'QQ 12 34 56 C' }) },
  ];
  const cases: Case[] = [];
  for (const scenario of scenarios) {
    const cel = rules.evaluate(scenario.json);
    const plain = handWritten(scenario.json);
    if (!sameDecision(cel, plain)) throw new Error(`${scenario.name}: CEL decided ${JSON.stringify(cel)}, the hand-written rules ${JSON.stringify(plain)}`);
    const baseline: Case = { label: `plain JS, ${scenario.name}`, run: () => handWritten(scenario.json), micros: [] };
    cases.push(baseline, { label: `CEL RuleSet, ${scenario.name}`, run: () => rules.evaluate(scenario.json), baseline, micros: [] });
  }

  for (let i = 0; i < WARMUP_BATCHES; i++) for (const subject of cases) timeBatch(subject);
  // Round-robin over the cases so drift in machine load spreads evenly over them.
  for (let sample = 0; sample < SAMPLES; sample++) for (const subject of cases) subject.micros.push(timeBatch(subject));

  const samples = new Map<Case, Sample>(cases.map((subject) => [subject, summarise(subject.label, subject.micros)]));
  console.log(`\nCEL authorization decision, ${rules.size} rules (µs per decision, ${SAMPLES} batches of ${BATCH})`);
  console.log(`  ${'case'.padEnd(44)} ${'p50'.padStart(9)} ${'p95'.padStart(9)}  ratio p50 vs plain JS`);
  for (const subject of cases) {
    const sample = samples.get(subject)!;
    const ratio = subject.baseline === undefined ? 'baseline' : `${(sample.p50 / samples.get(subject.baseline)!.p50).toFixed(1)} ×`;
    console.log(`  ${subject.label.padEnd(44)} ${`${sample.p50.toFixed(2)} µs`.padStart(9)} ${`${sample.p95.toFixed(2)} µs`.padStart(9)}  ${ratio}`);
  }
  const worst = Math.max(...cases.filter((subject) => subject.baseline !== undefined).map((subject) => samples.get(subject)!.p50));
  console.log(`  target ≤ ${TARGET_MICROS} µs per decision over ${rules.size} rules: ${worst <= TARGET_MICROS ? 'met' : 'NOT met'} (worst CEL p50 ${worst.toFixed(2)} µs)`);
}
