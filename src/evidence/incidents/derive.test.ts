// Incidents from a ledger: the rug-pull's story (retag, attempt, alert, mail, deny, alert) becomes one incident
// about the converter with its third party, root cause, timeline and deadlines; a second cause is a second
// incident; a warning opens none; the clean ledger has none.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { seal, type LedgerRecord } from '../ledger/chain.ts';
import { deriveIncidents, type RegisterFacts } from './derive.ts';
import { incidentMarkdown } from './format.ts';

const { privateKey } = generateKeyPairSync('ed25519');
const CONVERTER = 'spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter';
const CONVERTER_LABELS = { source_workload: 'currency-converter', source_workload_namespace: 'trustusbank-bank-vendors', source_principal: CONVERTER, severity: 'critical' };
const REGISTER: RegisterFacts[] = [
  {
    name: 'acme-fx/currency-converter',
    namespace: 'trustusbank-bank-vendors',
    workload: 'currency-converter',
    image: 'acme-fx/currency-converter:1.0.0',
    endpoint: 'currency-converter.trustusbank-bank-vendors.svc.cluster.local:8080/mcp',
    publisher: 'Acme FX Ltd',
    thirdParty: true,
    dora: { providerLegalName: 'Acme FX Ltd', lei: 'ACMEFX00ACMEFXLTD070', country: 'GB', functionSupported: 'Currency conversion', criticality: 'important', dataLocations: ['GB', 'IE'], contractReference: 'TUB-ICT-2024-0117' },
  },
];

function ledger(events: [number, string, string, Record<string, unknown>][]): LedgerRecord[] {
  const out: LedgerRecord[] = [];
  for (const [second, kind, subject, data] of events) out.push(seal(out.at(-1), { time: new Date(Date.UTC(2026, 11, 2, 12, 0, second)).toISOString(), kind, subject, data }, privateKey));
  return out;
}

const STORY = ledger([
  [0, 'policy.applied', 'PrometheusRule/trustusbank-observability/trustusbank-alerts', { action: 'created' }],
  [10, 'image.retag', 'acme-fx/currency-converter:1.0.0', { ref: 'acme-fx/currency-converter:1.0.0', from: 'sha256:aaaaaaaaaaaaaaaaaaaaaaaa', to: 'sha256:bbbbbbbbbbbbbbbbbbbbbbbb' }],
  [12, 'tool.drift', 'currency-converter', { server: 'currency-converter', changes: [{ tool: 'convert_currency', kind: 'changed' }] }],
  [15, 'alert.firing', 'BankToAttackerAttempt', { labels: CONVERTER_LABELS, summary: 'currency-converter is connecting to the external attacker' }],
  [16, 'alert.firing', 'SomethingMinor', { labels: { ...CONVERTER_LABELS, severity: 'warning' } }],
  [26, 'mail.received', 'soc@trustusbank.example', { subject: '[FIRING:1] BankToAttackerAttempt — TrustUsBank SOC alert' }],
  [30, 'policy.applied', 'AuthorizationPolicy/external-attacker/deny-bank-to-attacker', { action: 'created' }],
  [31, 'mesh.deny', CONVERTER, { source: CONVERTER, destination: 'mock-attacker.external-attacker.svc.cluster.local', reason: 'explicitly denied by: external-attacker/deny-bank-to-attacker' }],
  [33, 'alert.firing', 'IstioAuthZDeny', { labels: CONVERTER_LABELS }],
  // The gateway names a drifted server by its endpoint: the register knows whose it is.
  [35, 'alert.firing', 'ToolDefinitionDrift', { labels: { gateway: 'trustusbank-platform/trustusbank-agentgw', server: 'currency-converter.trustusbank-bank-vendors.svc.cluster.local:8080/mcp', change: 'changed', severity: 'critical' } }],
  [40, 'alert.firing', 'KagentAccessPolicyDeny', { labels: { gateway: 'trustusbank-bank-agents/support-bot-waypoint', route: 'a2a', severity: 'critical' } }],
  [41, 'incident.opened', 'INC-x', {}],
]);

describe('deriveIncidents', () => {
  const now = Date.UTC(2026, 11, 2, 12, 5, 0);
  const incidents = deriveIncidents({ records: STORY, register: REGISTER, entityCountry: 'GB', now, exfiltration: (cause) => (cause.workload === 'currency-converter' ? { attempts: 2, refused: 1 } : undefined) });
  const [converter, waypoint] = incidents;

  it('opens one incident per cause on a critical alert; the same cause joins it; a warning opens none', () => {
    expect(incidents.map((i) => [i.cause.key, i.alerts])).toEqual([
      ['trustusbank-bank-vendors/currency-converter', ['BankToAttackerAttempt', 'IstioAuthZDeny', 'ToolDefinitionDrift']],
      ['gateway:trustusbank-bank-agents/support-bot-waypoint', ['KagentAccessPolicyDeny']],
    ]);
    expect(converter!.id).toBe('INC-20261202-0004');
    expect(converter!.detectedAt).toBe('2026-12-02T12:00:15.000Z');
  });

  it('names the third party from the register, the root cause, and the containment', () => {
    expect(converter!.thirdParty?.dora.providerLegalName).toBe('Acme FX Ltd');
    expect(converter!.rootCause[0]).toMatch(/^same-tag image change: acme-fx\/currency-converter:1\.0\.0 sha256:aaaaaaaaaaaa… → sha256:bbbbbbbbbbbb…/);
    expect(converter!.rootCause[1]).toMatch(/tool-definition drift at currency-converter/);
    expect(converter!).toMatchObject({ status: 'contained', containedAt: '2026-12-02T12:00:31.000Z' });
    expect(waypoint!.thirdParty).toBeUndefined();
  });

  it('keeps a timeline from the retag, each entry citing its ledger record, and no incident record of its own', () => {
    expect(converter!.timeline.map((t) => [t.seq, t.kind])).toEqual([
      [2, 'image.retag'],
      [3, 'tool.drift'],
      [4, 'alert.firing'],
      [5, 'alert.firing'],
      [6, 'mail.received'],
      [7, 'policy.applied'],
      [8, 'mesh.deny'],
      [9, 'alert.firing'],
      [10, 'alert.firing'],
    ]);
    expect(converter!.links).toMatchObject({ ledgerSeqs: [2, 3, 4, 5, 6, 7, 8, 9, 10], mails: ['[FIRING:1] BankToAttackerAttempt — TrustUsBank SOC alert'] });
  });

  it('classifies against Delegated Regulation 2024/1772 from the evidence, and says what it cannot assess', () => {
    const byArticle = Object.fromEntries(converter!.classification.criteria.map((c) => [c.article, c]));
    expect(byArticle['Art. 5']).toMatchObject({ met: true, evidence: expect.stringMatching(/^1 connection to the attacker completed/) });
    expect(byArticle['Art. 6']).toMatchObject({ met: true, evidence: expect.stringContaining('important function') });
    expect(byArticle['Art. 4']).toMatchObject({ met: true, evidence: 'third party in GB, data in GB, IE; the bank in GB' });
    expect(byArticle['Art. 7']!.met).toBe('not assessed');
    expect(converter!.classification.major).toBe(true);
  });

  it('sets the reporting deadlines from detection', () => {
    expect(converter!.deadlines).toEqual({ initialNotification: '2026-12-02T16:00:15.000Z', intermediateReport: '2026-12-05T16:00:15.000Z', finalReport: '2027-01-05T16:00:15.000Z' });
  });

  it('every attempt refused: no data left, and the malicious access still counts', () => {
    const [blocked] = deriveIncidents({ records: STORY, register: REGISTER, entityCountry: 'GB', now, exfiltration: () => ({ attempts: 3, refused: 3 }) });
    const art5 = blocked!.classification.criteria.find((c) => c.article === 'Art. 5')!;
    expect(art5.evidence).toMatch(/^every attempt \(3\) was refused: no record left the bank; malicious code ran inside the bank/);
    expect(art5.met).toBe(true);
  });

  it('a clean ledger has no incident', () => {
    expect(deriveIncidents({ records: STORY.slice(0, 1), register: REGISTER, entityCountry: 'GB', now })).toEqual([]);
  });

  it('writes the report as Markdown, escaping what the evidence says', () => {
    const md = incidentMarkdown({ ...converter!, title: 'a | b' });
    expect(md).toMatch(/^# INC-20261202-0004: a \| b$/m);
    expect(md).toContain('| Data losses (availability, authenticity, integrity, confidentiality) | Art. 5 | yes |');
    expect(md).toContain('- Initial notification: by 2026-12-02T16:00:15.000Z');
    expect(md).toMatch(/\| 2026-12-02T12:00:31\.000Z \| #8 mesh\.deny \| the mesh refused spiffe:/);
  });
});
