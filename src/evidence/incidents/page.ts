// The incident records as pages (served with the dashboard on 18001): the list, and one incident with its
// classification criteria and their evidence, the ICT third party, the root cause, the reporting deadlines with
// the time left, the timeline (each line naming its ledger record) and links to the ledger records, the traces,
// the alerts and the SOC mail. Server-rendered, no script (the page headers forbid it); every value is escaped:
// alert summaries, mail subjects and tool names can come from a compromised workload. Pure: data in, HTML out.
import { escapeHtml, htmlDocument } from '../../core/html.ts';
import type { Incident } from './derive.ts';

export interface IncidentLinks {
  /** The trace collector's base URL (its `/trace/<id>` pages), when the stack has one. */
  traces?: string;
  /** The SOC inbox's page. */
  inbox?: string;
  /** The evidence API (18002): its `/api/v1/alerts`. */
  prometheus?: string;
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#fff}main{padding:1rem 1.5rem;max-width:1100px}
h1{font-size:1.35rem}h2{font-size:1.1rem;margin-top:1.5rem}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #d0d7de;vertical-align:top}
.major{color:#b42318;font-weight:600}.overdue{color:#b42318;font-weight:600}.muted{color:#57606a}a{color:#0a58ca}code{font-size:.85rem;word-break:break-all}`;

const e = escapeHtml;

/** How long until (or since) a deadline, in words a reader takes in at a glance. */
export function timeLeft(deadline: string, now: number): { text: string; overdue: boolean } {
  const ms = Date.parse(deadline) - now;
  const abs = Math.abs(ms);
  const hours = Math.floor(abs / 3_600_000);
  const minutes = Math.floor((abs % 3_600_000) / 60_000);
  const span = hours >= 48 ? `${Math.floor(hours / 24)} d ${hours % 24} h` : `${hours} h ${minutes} min`;
  return ms >= 0 ? { text: `${span} left`, overdue: false } : { text: `overdue by ${span}`, overdue: true };
}

export function incidentListPage(incidents: readonly Incident[], now: number): string {
  const body =
    incidents.length === 0
      ? '<p>No incident: no critical alert has fired. A critical alert opens one (DORA Art. 17); it is derived from the signed ledger.</p>'
      : `<table><caption class="muted">Newest first. Each is derived from the signed ledger; <code>trustusbank incidents show ID</code> gives the same as Markdown.</caption>
<thead><tr><th scope="col">Incident</th><th scope="col">Status</th><th scope="col">Classification</th><th scope="col">Cause</th><th scope="col">ICT third party</th><th scope="col">Detected</th><th scope="col">Initial notification due</th></tr></thead><tbody>
${incidents
  .map((i) => {
    const due = timeLeft(i.deadlines.initialNotification, now);
    return `<tr><td><a href="/incidents/${encodeURIComponent(i.id)}">${e(i.id)}</a><br><span class="muted">${e(i.title)}</span></td><td>${e(i.status)}</td><td${i.classification.major ? ' class="major"' : ''}>${i.classification.major ? 'major' : 'not major'}</td><td>${e(i.cause.key)}</td><td>${i.thirdParty ? e(i.thirdParty.dora.providerLegalName) : '<span class="muted">none named</span>'}</td><td>${e(i.detectedAt)}</td><td>${e(i.deadlines.initialNotification)} <span${due.overdue ? ' class="overdue"' : ''}>(${e(due.text)})</span></td></tr>`;
  })
  .join('\n')}
</tbody></table>`;
  return htmlDocument('Incidents', 'incidents', STYLE, `<p><a href="/">DORA evidence dashboard</a></p>\n<h1>Incidents (DORA Art. 17–19)</h1>\n${body}`);
}

export function incidentPage(incident: Incident, links: IncidentLinks, now: number): string {
  const i = incident;
  const deadline = (label: string, at: string, rule: string): string => {
    const left = timeLeft(at, now);
    return `<tr><th scope="row">${e(label)}</th><td>${e(at)}</td><td${left.overdue ? ' class="overdue"' : ''}>${e(left.text)}</td><td class="muted">${e(rule)}</td></tr>`;
  };
  const third = i.thirdParty
    ? `<dl><dt>Provider</dt><dd>${e(i.thirdParty.dora.providerLegalName)} (LEI <code>${e(i.thirdParty.dora.lei)}</code>, ${e(i.thirdParty.dora.country)})</dd>
<dt>Service</dt><dd>${e(i.thirdParty.name)} (<code>${e(i.thirdParty.image)}</code>): ${e(i.thirdParty.dora.functionSupported)}; ${e(i.thirdParty.dora.criticality)}</dd>
<dt>Data locations</dt><dd>${e(i.thirdParty.dora.dataLocations.join(', '))}</dd><dt>Contract</dt><dd>${e(i.thirdParty.dora.contractReference)}</dd></dl>`
    : '<p class="muted">None named: the workload is the bank\'s own, or not in the register.</p>';
  const traceLinks = i.links.traceIds.map((id) => (links.traces ? `<li><a href="${e(new URL(`trace/${id}`, links.traces).href)}"><code>${e(id)}</code></a></li>` : `<li><code>${e(id)}</code></li>`)).join('');
  return htmlDocument(
    `${i.id}`,
    'incidents',
    STYLE,
    `<p><a href="/incidents">All incidents</a> · <a href="/">DORA evidence dashboard</a> · <a href="/api/incidents/${encodeURIComponent(i.id)}">JSON</a></p>
<h1>${e(i.id)}: ${e(i.title)}</h1>
<p>Status <strong>${e(i.status)}</strong>${i.containedAt ? ` (contained ${e(i.containedAt)})` : ''} · detected ${e(i.detectedAt)} · classified ${e(i.classifiedAt)} · <span${i.classification.major ? ' class="major"' : ''}>${i.classification.major ? 'major' : 'not major'}</span></p>
<p class="muted">${e(i.classification.basis)}</p>
<p>Alerts: ${i.alerts.map((a) => `<code>${e(a)}</code>`).join(', ')}${links.prometheus ? ` (<a href="${e(new URL('/api/v1/alerts', links.prometheus).href)}">firing now</a>)` : ''}</p>
<h2>Classification criteria (Delegated Regulation (EU) 2024/1772)</h2>
<table><thead><tr><th scope="col">Criterion</th><th scope="col">Article</th><th scope="col">Met</th><th scope="col">Evidence</th></tr></thead><tbody>
${i.classification.criteria.map((c) => `<tr><td>${e(c.criterion)}</td><td>${e(c.article)}</td><td>${c.met === true ? 'yes' : c.met === false ? 'no' : 'not assessed'}</td><td>${e(c.evidence)}</td></tr>`).join('\n')}
</tbody></table>
<h2>ICT third party (DORA Art. 28 register)</h2>
${third}
<h2>Root cause</h2>
<ul>${i.rootCause.map((r) => `<li>${e(r)}</li>`).join('') || '<li class="muted">not established from the ledger</li>'}</ul>
<h2>Reporting deadlines (DORA Art. 19)</h2>
<table><tbody>
${deadline('Initial notification', i.deadlines.initialNotification, '4 h after classification, at most 24 h after detection')}
${deadline('Intermediate report', i.deadlines.intermediateReport, '72 h after the initial notification')}
${deadline('Final report', i.deadlines.finalReport, 'one month after the intermediate report')}
</tbody></table>
<h2>Timeline</h2>
<table><thead><tr><th scope="col">Time</th><th scope="col">Ledger record</th><th scope="col">Event</th></tr></thead><tbody>
${i.timeline.map((t) => `<tr><td>${e(t.time)}</td><td><a href="/api/ledger/${t.seq}">#${t.seq}</a> <code>${e(t.kind)}</code></td><td>${e(t.what)}</td></tr>`).join('\n')}
</tbody></table>
<h2>Evidence</h2>
<p>Ledger records ${i.links.ledgerSeqs.map((s) => `<a href="/api/ledger/${s}">#${s}</a>`).join(', ') || 'none'}: each signed and chained; check them with <code>trustusbank evidence verify</code>, or export a bundle an auditor verifies with Node alone (<code>trustusbank evidence export DIR</code>).</p>
${i.links.mails.length ? `<p>SOC mail: ${i.links.mails.map((m) => `“${e(m)}”`).join(', ')}${links.inbox ? ` (<a href="${e(links.inbox)}">inbox</a>)` : ''}</p>` : ''}
${i.links.traceIds.length ? `<p>Traces of the refusals:</p><ul>${traceLinks}</ul>` : '<p class="muted">No trace cited.</p>'}`,
  );
}
