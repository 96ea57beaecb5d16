// Incident records (DORA Art. 17–19), derived from the ledger: a critical alert opens an incident for its cause
// (the workload the alert is about), or joins the open one for the same cause; everything the ledger holds
// about that workload becomes its timeline. Derived, not kept: the same ledger always gives the same incidents,
// so an incident is as tamper-evident as the records it cites (each timeline entry carries its ledger seq).
// Classification follows the criteria of Commission Delegated Regulation (EU) 2024/1772 (Art. 1–8), computed from
// the evidence where the evidence says it, and marked "not assessed" where it cannot.
import type { LedgerRecord } from '../ledger/chain.ts';

const HOUR = 3_600_000;

/** What the bank's register says about the workload an incident is about (the catalogue entry's DORA fields). */
export interface RegisterFacts {
  name: string;
  namespace: string;
  workload: string;
  image: string;
  /** Where the gateway reaches it (`host:port/path`): the name its tool pins and drift carry. */
  endpoint?: string;
  publisher: string;
  thirdParty: boolean;
  dora: { providerLegalName: string; lei: string; country: string; functionSupported: string; criticality: string; dataLocations: string[]; contractReference: string };
}

/** Counts the metric store gives for the incident's workload: connections to the attacker, and those refused. */
export interface ExfiltrationCounts {
  attempts: number;
  refused: number;
}

export interface IncidentInput {
  records: readonly LedgerRecord[];
  register: readonly RegisterFacts[];
  /** The financial entity's country (ISO 3166-1), for geographical spread. */
  entityCountry: string;
  exfiltration?: (cause: Cause) => ExfiltrationCounts | undefined;
  now: number;
}

export interface Cause {
  /** `namespace/workload`, or `gateway:<name>` for a refusal at a gateway with no workload named. */
  key: string;
  namespace?: string;
  workload?: string;
}

export interface Criterion {
  criterion: string;
  /** Art. of Delegated Regulation (EU) 2024/1772. */
  article: string;
  met: boolean | 'not assessed';
  evidence: string;
}

export interface TimelineEntry {
  time: string;
  seq: number;
  kind: string;
  what: string;
}

export interface Incident {
  id: string;
  status: 'open' | 'contained';
  cause: Cause;
  title: string;
  detectedAt: string;
  classifiedAt: string;
  containedAt?: string;
  classification: { major: boolean; basis: string; criteria: Criterion[] };
  thirdParty?: RegisterFacts;
  rootCause: string[];
  alerts: string[];
  timeline: TimelineEntry[];
  deadlines: { initialNotification: string; intermediateReport: string; finalReport: string };
  links: { ledgerSeqs: number[]; mails: string[]; traceIds: string[] };
}

/** The cause a record is about: the workload it names, by the labels or fields each kind carries. */
export function causeOf(record: LedgerRecord): Cause | undefined {
  const data = record.data as Record<string, unknown>;
  const labels = (data.labels ?? {}) as Record<string, string>;
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const workloadCause = (namespace: string | undefined, workload: string | undefined): Cause | undefined => (namespace && workload ? { key: `${namespace}/${workload}`, namespace, workload } : undefined);
  switch (record.kind) {
    case 'alert.firing':
    case 'alert.resolved':
      return (
        workloadCause(labels.source_workload_namespace, labels.source_workload) ??
        workloadCause(labels.resource_namespace, labels.workload) ??
        (labels.server ? { key: `server:${labels.server}` } : undefined) ??
        (labels.gateway ? { key: `gateway:${labels.gateway}` } : undefined)
      );
    case 'mesh.deny':
    case 'mesh.egress_refused': {
      const principal = /^spiffe:\/\/[^/]+\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(str(data.source) ?? '');
      return principal ? workloadCause(principal[1], principal[2]) : undefined;
    }
    case 'image.retag': {
      return undefined; // joined through the register (the image), below
    }
    case 'admission.refused': {
      const object = /^[^/]+\/([^/]+)\/(.+)$/.exec(str(data.object) ?? '');
      return object ? workloadCause(object[1], object[2]) : undefined;
    }
    case 'tool.drift':
      return str(data.server) ? { key: `server:${str(data.server)}` } : undefined;
    default:
      return undefined;
  }
}

/** A server's or a gateway's cause onto the workload the register names for it, when it names one. */
function canonicalCause(cause: Cause, register: readonly RegisterFacts[]): Cause {
  if (!cause.key.startsWith('server:')) return cause;
  const name = cause.key.slice('server:'.length);
  const entry = register.find((r) => r.endpoint === name || r.name === name || r.name.endsWith(`/${name}`) || r.workload === name);
  return entry ? { key: `${entry.namespace}/${entry.workload}`, namespace: entry.namespace, workload: entry.workload } : cause;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function deriveIncidents(input: IncidentInput): Incident[] {
  const records = input.records.filter((r) => !r.kind.startsWith('incident.'));
  const causeFor = (r: LedgerRecord): Cause | undefined => {
    const cause = causeOf(r);
    return cause ? canonicalCause(cause, input.register) : undefined;
  };
  const incidents = new Map<string, { cause: Cause; opening: LedgerRecord; alerts: Set<string> }>();
  for (const record of records) {
    if (record.kind !== 'alert.firing') continue;
    const labels = ((record.data as { labels?: Record<string, string> }).labels ?? {}) as Record<string, string>;
    if (labels.severity !== 'critical') continue;
    const cause = causeFor(record);
    if (!cause) continue;
    const open = incidents.get(cause.key);
    if (open) open.alerts.add(record.subject);
    else incidents.set(cause.key, { cause, opening: record, alerts: new Set([record.subject]) });
  }
  return [...incidents.values()].map(({ cause, opening, alerts }) => build(input, records, causeFor, cause, opening, [...alerts]));
}

function build(input: IncidentInput, records: readonly LedgerRecord[], causeFor: (r: LedgerRecord) => Cause | undefined, cause: Cause, opening: LedgerRecord, alerts: string[]): Incident {
  const facts = cause.workload ? input.register.find((r) => r.namespace === cause.namespace && r.workload === cause.workload) : undefined;
  const about = (r: LedgerRecord): boolean => {
    if (r.kind === 'image.retag') return facts !== undefined && r.data.ref === facts.image;
    if (r.kind === 'policy.applied' || r.kind === 'policy.removed' || r.kind.startsWith('mail.')) return true;
    return causeFor(r)?.key === cause.key;
  };
  // The timeline starts at the root cause (a retag of its image) when the ledger holds one before detection.
  const detected = Date.parse(opening.time);
  const related = records.filter(about);
  const retag = [...related].reverse().find((r) => r.kind === 'image.retag' && Date.parse(r.time) <= detected);
  const start = retag ? Date.parse(retag.time) : detected;
  const mailsAbout = (r: LedgerRecord): boolean => !r.kind.startsWith('mail.') || ((r.data.alerts as string[] | undefined) ?? []).some((a) => alerts.includes(a)) || alerts.some((a) => String(r.data.subject ?? '').includes(` ${a} `));
  const timeline = related.filter((r) => Date.parse(r.time) >= start && mailsAbout(r) && (!r.kind.startsWith('policy.') || Date.parse(r.time) >= detected));
  const denies = timeline.filter((r) => r.kind === 'mesh.deny' || r.kind === 'mesh.egress_refused' || r.kind === 'admission.refused');
  const containment = denies.find((r) => Date.parse(r.time) >= detected) ?? (timeline.find((r) => r.kind === 'policy.applied' && Date.parse(r.time) >= detected) as LedgerRecord | undefined);
  const counts = input.exfiltration?.(cause);
  const left = counts ? Math.max(0, counts.attempts - counts.refused) : undefined;
  const thirdParty = facts?.thirdParty ? facts : undefined;
  const durationMs = (containment ? Date.parse(containment.time) : input.now) - start;

  const criteria: Criterion[] = [
    {
      criterion: 'Clients, financial counterparts and transactions affected',
      article: 'Art. 1',
      met: 'not assessed',
      evidence: counts ? `${counts.attempts} connection${counts.attempts === 1 ? '' : 's'} to the attacker attempted, ${counts.refused} refused; the customers whose data was carried are not in the mesh's evidence` : 'no connection counts for this workload',
    },
    {
      criterion: 'Data losses (availability, authenticity, integrity, confidentiality)',
      article: 'Art. 5',
      // Art. 5(2): a successful, malicious and unauthorised access that can result in data losses counts even
      // when nothing left: vendor code swapped in behind the tag ran inside the bank and tried to send data out.
      met: left === undefined ? (retag ? true : 'not assessed') : left > 0 || (retag !== undefined && (counts?.attempts ?? 0) > 0),
      evidence: [
        left === undefined ? 'no connection counts' : left > 0 ? `${left} connection${left === 1 ? '' : 's'} to the attacker completed: data may have left the bank` : `every attempt (${counts!.refused}) was refused: no record left the bank`,
        ...(retag ? ['malicious code ran inside the bank after a same-tag image change (a successful unauthorised access that can result in data losses)'] : []),
      ].join('; '),
    },
    {
      criterion: 'Critical services affected',
      article: 'Art. 6',
      met: facts ? facts.dora.criticality === 'critical' || facts.dora.criticality === 'important' : 'not assessed',
      evidence: facts ? `${facts.name} supports "${facts.dora.functionSupported}", a${facts.dora.criticality === 'important' ? 'n' : ''} ${facts.dora.criticality} function in the register` : 'the workload is not in the register',
    },
    {
      criterion: 'Duration and service downtime',
      article: 'Art. 3',
      met: durationMs > 24 * HOUR,
      evidence: `${Math.round(durationMs / 1000)} s from ${retag ? 'the image change' : 'detection'} to ${containment ? 'containment' : 'now (not contained)'}; no service downtime recorded (the replies were unchanged)`,
    },
    {
      criterion: 'Geographical spread',
      article: 'Art. 4',
      met: thirdParty ? thirdParty.dora.country !== input.entityCountry || thirdParty.dora.dataLocations.some((c) => c !== input.entityCountry) : 'not assessed',
      evidence: thirdParty ? `third party in ${thirdParty.dora.country}, data in ${thirdParty.dora.dataLocations.join(', ')}; the bank in ${input.entityCountry}` : 'no third party named',
    },
    { criterion: 'Reputational impact', article: 'Art. 2', met: 'not assessed', evidence: 'no media, complaint or regulator signal in the lab' },
    { criterion: 'Economic impact', article: 'Art. 7', met: 'not assessed', evidence: 'no cost data in the lab' },
  ];
  // Art. 8: major when critical services are affected and either data losses (Art. 5, malicious access included)
  // or two more criteria are met.
  const metCount = criteria.filter((c) => c.met === true).length;
  const criticalMet = criteria.find((c) => c.article === 'Art. 6')!.met === true;
  const dataLost = criteria.find((c) => c.article === 'Art. 5')!.met === true;
  const major = criticalMet && (dataLost || metCount - 1 >= 2);
  const classified = detected;
  const initial = Math.min(classified + 4 * HOUR, detected + 24 * HOUR);
  const intermediate = initial + 72 * HOUR;
  const finalReport = new Date(intermediate);
  finalReport.setUTCMonth(finalReport.getUTCMonth() + 1);

  const rootCause: string[] = [];
  if (retag) rootCause.push(`same-tag image change: ${String(retag.data.ref)} ${short(retag.data.from)} → ${short(retag.data.to)} at ${retag.time}`);
  for (const drift of timeline.filter((r) => r.kind === 'tool.drift')) rootCause.push(`tool-definition drift at ${String(drift.data.server)}: ${JSON.stringify(drift.data.changes ?? [])}`);
  if (rootCause.length === 0) rootCause.push('not established from the ledger');

  const workloadName = cause.workload ? `${cause.namespace}/${cause.workload}` : cause.key;
  return {
    id: `INC-${opening.time.slice(0, 10).replace(/-/g, '')}-${String(opening.seq).padStart(4, '0')}`,
    status: containment ? 'contained' : 'open',
    cause,
    title: `${alerts.join(', ')} on ${workloadName}${thirdParty ? ` (ICT third party ${thirdParty.dora.providerLegalName})` : ''}`,
    detectedAt: opening.time,
    classifiedAt: iso(classified),
    ...(containment ? { containedAt: containment.time } : {}),
    classification: { major, basis: `Delegated Regulation (EU) 2024/1772 Art. 8: ${major ? `critical or important services affected, with ${dataLost ? 'data losses (Art. 5)' : 'two more criteria met'}` : `not major (${metCount} criteria met${criticalMet ? ', critical or important services affected' : ''}${dataLost ? '' : ', no data losses'})`}`, criteria },
    ...(thirdParty ? { thirdParty } : {}),
    rootCause,
    alerts,
    timeline: timeline.map((r) => ({ time: r.time, seq: r.seq, kind: r.kind, what: describe(r) })),
    deadlines: { initialNotification: iso(initial), intermediateReport: iso(intermediate), finalReport: finalReport.toISOString() },
    links: {
      ledgerSeqs: timeline.map((r) => r.seq),
      mails: timeline.filter((r) => r.kind === 'mail.received').map((r) => String(r.data.subject)),
      traceIds: [...new Set(timeline.map((r) => r.data.trace_id).filter((v): v is string => typeof v === 'string' && v !== ''))],
    },
  };
}

const short = (digest: unknown): string => (typeof digest === 'string' ? `${digest.slice(0, 19)}…` : '?');

function describe(r: LedgerRecord): string {
  const d = r.data as Record<string, unknown>;
  switch (r.kind) {
    case 'image.retag':
      return `${String(d.ref)} now points at ${short(d.to)} (was ${short(d.from)})`;
    case 'alert.firing':
      return `${r.subject} firing: ${String(d.summary ?? '')}`;
    case 'alert.resolved':
      return `${r.subject} resolved`;
    case 'mesh.deny':
      return `the mesh refused ${r.subject} → ${String(d.destination ?? '?')}: ${String(d.reason ?? '')}`;
    case 'mesh.egress_refused':
      return `ztunnel refused ${r.subject}: ${String(d.reason ?? '')}`;
    case 'mail.sent':
      return `mail to ${r.subject} about ${((d.alerts as string[]) ?? []).join(', ')}`;
    case 'mail.received':
      return `the SOC inbox received "${String(d.subject ?? '')}"`;
    case 'policy.applied':
    case 'policy.removed':
      return `${r.subject} ${String(d.action ?? r.kind)}`;
    case 'admission.refused':
      return `admission refused ${String(d.object)}: ${String(d.reason ?? '')}`;
    case 'tool.drift':
      return `the gateway saw ${String(d.server)}'s tools drift from their pins`;
    default:
      return r.subject;
  }
}
