// AuthorizationPolicy decision latency as the number of policies grows: 10, 1,000 and 10,000 policies spread over
// many namespaces (with selectors), a few in the destination's namespace and one mesh-wide, timed for one fixed
// destination. The 10-policy mesh is the baseline, measured in the same run; a flat ratio means a decision never
// scans unrelated policies. Each sample times a batch of calls, because one decision is far below timer resolution.
import { AuthorizationPolicyEngine, type ConnectionAttributes, type PolicyRef, type WorkloadRef } from '../src/mesh/authz/index.ts';
import { sized, summarise, type Sample } from './stats.ts';

const SIZES = [10, 1_000, 10_000] as const;
const BATCH = sized(10_000, 100);
const SAMPLES = sized(60, 3);
const WARMUP_BATCHES = sized(20, 1);

const DESTINATION_NAMESPACE = 'trustusbank-bank-mcp';
const destination: WorkloadRef = { namespace: DESTINATION_NAMESPACE, labels: { app: 'account-mcp', version: 'v1' } };
const agent = (name: string) => `cluster.local/ns/trustusbank-bank-agents/sa/${name}`;

const scenarios: { name: string; attributes: ConnectionAttributes; allowed: boolean }[] = [
  {
    name: 'allowed (support-bot)',
    attributes: { source: { principal: agent('support-bot'), ip: '10.244.1.7' }, destination: { ip: '10.244.2.9', port: 8080 } },
    allowed: true,
  },
  {
    name: 'denied (currency-converter)',
    attributes: { source: { principal: 'cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter', ip: '10.244.5.3' }, destination: { ip: '10.244.2.9', port: 8080 } },
    allowed: false,
  },
];

/** The policies that govern the destination, present at every size. */
function destinationPolicies(): PolicyRef[] {
  return [
    { namespace: 'istio-system', name: 'deny-plaintext-to-bank', spec: { action: 'DENY', rules: [{ from: [{ source: { notPrincipals: ['*'] } }], to: [{ operation: { ports: ['5432'] } }] }] } },
    { namespace: DESTINATION_NAMESPACE, name: 'default-deny', spec: {} },
    {
      namespace: DESTINATION_NAMESPACE,
      name: 'allow-agents-to-mcp',
      spec: { rules: [{ from: [{ source: { principals: [agent('support-bot'), agent('fraud-bot'), agent('triage-bot')] } }], to: [{ operation: { ports: ['8080'] } }] }] },
    },
    {
      namespace: DESTINATION_NAMESPACE,
      name: 'deny-vendors-to-account',
      spec: { action: 'DENY', selector: { matchLabels: { app: 'account-mcp' } }, rules: [{ from: [{ source: { namespaces: ['*-vendors'], notIpBlocks: ['10.250.0.0/16'] } }] }] },
    },
  ];
}

/** Unrelated policies: most in other namespaces, one in a hundred in the destination namespace for other apps. */
function fillerPolicies(count: number): PolicyRef[] {
  const policies: PolicyRef[] = [];
  for (let i = 0; i < count; i++) {
    const namespace = i % 100 === 0 ? DESTINATION_NAMESPACE : `tenant-${i % 500}`;
    const action = i % 3 === 0 ? 'DENY' : 'ALLOW';
    policies.push({
      namespace,
      name: `policy-${i}`,
      spec: {
        action,
        selector: { matchLabels: { app: `service-${i}` } },
        rules: [
          {
            from: [{ source: { principals: [`cluster.local/ns/tenant-${(i + 1) % 500}/sa/client-${i}`], ipBlocks: [`10.${i % 250}.0.0/16`] } }],
            to: [{ operation: { ports: [String(8000 + (i % 1000))] } }],
            when: [{ key: 'source.namespace', values: ['tenant-*'] }],
          },
        ],
      },
    });
  }
  return policies;
}

function meshOf(size: number): PolicyRef[] {
  const governing = destinationPolicies();
  return [...governing, ...fillerPolicies(size - governing.length)];
}

interface Case {
  label: string;
  size: number;
  scenario: (typeof scenarios)[number];
  engine: AuthorizationPolicyEngine;
  micros: number[];
}

function timeBatch(subject: Case): number {
  const { engine, scenario } = subject;
  let allowed = 0;
  const started = performance.now();
  for (let i = 0; i < BATCH; i++) if (engine.evaluate(destination, scenario.attributes).allowed) allowed++;
  const elapsed = performance.now() - started;
  if (allowed !== (scenario.allowed ? BATCH : 0)) throw new Error(`${subject.label}: unexpected decision`);
  return (elapsed * 1000) / BATCH;
}

export async function run(): Promise<void> {
  const cases: Case[] = [];
  console.log('\nAuthorizationPolicy engine: loading');
  for (const size of SIZES) {
    const engine = new AuthorizationPolicyEngine();
    const policies = meshOf(size);
    const started = performance.now();
    const warnings = engine.setPolicies(policies);
    const loadMs = performance.now() - started;
    const coldStarted = performance.now();
    engine.evaluate(destination, scenarios[0]!.attributes);
    const coldMicros = (performance.now() - coldStarted) * 1000;
    console.log(
      `  ${String(size).padStart(6)} policies: setPolicies ${loadMs.toFixed(1)} ms, ${warnings.length} warnings, ` +
        `first decision (fills the cache) ${coldMicros.toFixed(0)} µs, in force at the destination: ${engine.policiesFor(destination).length}`,
    );
    for (const scenario of scenarios) cases.push({ label: `${size} policies, ${scenario.name}`, size, scenario, engine, micros: [] });
  }

  for (let i = 0; i < WARMUP_BATCHES; i++) for (const subject of cases) timeBatch(subject);
  // Round-robin over the cases so drift in machine load spreads evenly over them.
  for (let sample = 0; sample < SAMPLES; sample++) for (const subject of cases) subject.micros.push(timeBatch(subject));

  const samples = new Map<Case, Sample>(cases.map((subject) => [subject, summarise(subject.label, subject.micros)]));
  console.log(`\nAuthorizationPolicy decision at ztunnel (µs per decision, ${SAMPLES} batches of ${BATCH})`);
  console.log(`  ${'case'.padEnd(44)} ${'p50'.padStart(9)} ${'p95'.padStart(9)}  ratio p50 vs 10 policies`);
  for (const subject of cases) {
    const sample = samples.get(subject)!;
    const baseline = samples.get(cases.find((other) => other.size === SIZES[0] && other.scenario === subject.scenario)!)!;
    const ratio = subject.size === SIZES[0] ? 'baseline' : `${(sample.p50 / baseline.p50).toFixed(2)} ×`;
    console.log(`  ${subject.label.padEnd(44)} ${`${sample.p50.toFixed(2)} µs`.padStart(9)} ${`${sample.p95.toFixed(2)} µs`.padStart(9)}  ${ratio}`);
  }
}
