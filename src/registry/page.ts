// The registry's HTML: data in, string out. Catalogue text is written by people and vendors (a description, a
// provider's name), so every value goes through `escapeHtml`, and the pages carry no script at all; the
// server adds a Content-Security-Policy that forbids scripts as a second line. No external resources: the
// pages work offline.
import { escapeHtml, htmlDocument } from '../core/html.ts';
import type { FinancialEntity, RegisterRow } from './catalogue.ts';
import type { CurrentTool, EntryStatus, RegistryEntryView } from './drift.ts';

export interface RegistryListView {
  financialEntity: FinancialEntity;
  entries: RegistryEntryView[];
  register: RegisterRow[];
}

export { escapeHtml };

/** The path of an entry's page: each segment percent-encoded, the vendor prefix's `/` kept as a separator. */
export function entryPagePath(name: string): string {
  return `/entries/${name.split('/').map(encodeURIComponent).join('/')}`;
}

const STATUS_LABEL: Record<EntryStatus, string> = { ok: '✓ OK', drift: '⚠ DRIFT', 'not running': 'NOT RUNNING', 'not onboarded': 'NOT ONBOARDED' };

function statusClass(status: EntryStatus): string {
  return status.replace(/ /g, '-');
}

function statusBadge(status: EntryStatus): string {
  return `<span class="badge ${statusClass(status)}">${escapeHtml(STATUS_LABEL[status])}</span>`;
}

function reasonsList(view: RegistryEntryView): string {
  if (view.drift.reasons.length === 0) return '';
  return `<ul class="reasons">${view.drift.reasons.map((reason) => `<li>${escapeHtml(reason)}</li>`).join('')}</ul>`;
}

export function renderRegistryList(view: RegistryListView): string {
  const drifted = view.entries.filter((entry) => entry.status === 'drift').length;
  const rows = view.entries.map((item) => {
    const { entry } = item;
    return `<tr class="${statusClass(item.status)}">
  <td class="name"><a href="${escapeHtml(entryPagePath(entry.name))}">${escapeHtml(entry.name)}</a></td>
  <td>${escapeHtml(entry.kind)}</td>
  <td>${escapeHtml(entry.publisher)}${item.inHouse ? ' <span class="muted">(in-house)</span>' : ''}</td>
  <td>${escapeHtml(entry.version)}</td>
  <td><code>${escapeHtml(entry.image)}</code></td>
  <td>${escapeHtml(entry.transport)}</td>
  <td><span class="criticality ${escapeHtml(entry.dora.criticality)}">${escapeHtml(entry.dora.criticality)}</span></td>
  <td class="status">${statusBadge(item.status)}${reasonsList(item)}</td>
</tr>`;
  });
  const catalogue =
    rows.length === 0
      ? '<p class="muted">The catalogue is empty.</p>'
      : `<table class="catalogue">
<thead><tr><th>Name</th><th>Kind</th><th>Publisher</th><th>Version</th><th>Image</th><th>Transport</th><th>Criticality</th><th>Status</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
  const summary = `${plural(view.entries.length, 'entry', 'entries')}${drifted > 0 ? ` · <span class="drift-count">⚠ ${plural(drifted, 'entry', 'entries')} drifted</span>` : ' · no drift'}`;
  const body = `<h1>Registry: MCP servers and agents</h1>
<p class="summary">${summary}</p>
${catalogue}
<h2>DORA register of information (Art. 28(3))</h2>
<p class="muted">ICT third-party service providers of ${escapeHtml(view.financialEntity.legalName)} (LEI <code>${escapeHtml(view.financialEntity.lei)}</code>, ${escapeHtml(view.financialEntity.country)}). In-house services are not listed.</p>
${renderRegister(view.register)}`;
  return layout('Registry', body);
}

function renderRegister(rows: RegisterRow[]): string {
  if (rows.length === 0) return '<p class="muted">No third-party providers.</p>';
  const body = rows.map(
    (row) => `<tr>
  <td>${escapeHtml(row.providerLegalName)}</td>
  <td><code>${escapeHtml(row.lei)}</code></td>
  <td>${escapeHtml(row.country)}</td>
  <td>${lines(row.functionsSupported)}</td>
  <td><span class="criticality ${escapeHtml(row.criticality)}">${escapeHtml(row.criticality)}</span></td>
  <td>${escapeHtml(row.dataLocations.join(', '))}</td>
  <td>${lines(row.contractReferences)}</td>
  <td class="long">${lines(row.exitPlans)}</td>
  <td>${row.entries.map((name) => `<a href="${escapeHtml(entryPagePath(name))}">${escapeHtml(name)}</a>`).join('<br>')}</td>
</tr>`,
  );
  return `<table class="register">
<thead><tr><th>Provider</th><th>LEI</th><th>Country</th><th>Functions supported</th><th>Criticality</th><th>Data locations</th><th>Contract reference</th><th>Exit plan</th><th>Provides</th></tr></thead>
<tbody>
${body.join('\n')}
</tbody>
</table>`;
}

export function renderEntryPage(view: RegistryEntryView): string {
  const { entry, drift } = view;
  const reasons =
    drift.reasons.length === 0
      ? ''
      : `<section class="drift-reasons"><h2>⚠ Drift</h2>${reasonsList(view)}</section>`;
  const body = `<p><a href="/">← all entries</a></p>
<h1>${escapeHtml(entry.name)} ${statusBadge(view.status)}</h1>
<p class="description">${escapeHtml(entry.description)}</p>
${reasons}
<dl class="meta">
  <dt>Kind</dt><dd>${escapeHtml(entry.kind)}</dd>
  <dt>Publisher</dt><dd>${escapeHtml(entry.publisher)}${view.inHouse ? ' <span class="muted">(in-house)</span>' : ' <span class="muted">(third party)</span>'}</dd>
  <dt>Version</dt><dd>${escapeHtml(entry.version)}</dd>
  <dt>Image</dt><dd><code>${escapeHtml(entry.image)}</code></dd>
  <dt>Transport</dt><dd>${escapeHtml(entry.transport)}</dd>
  <dt>Runs as</dt><dd>Deployment <code>${escapeHtml(entry.workload)}</code> in <code>${escapeHtml(entry.namespace)}</code></dd>
  <dt>Endpoint</dt><dd><code>${escapeHtml(entry.endpoint)}</code></dd>
</dl>
<h2>Onboarded vs current</h2>
${renderComparison(view)}
<h2>DORA Art. 28 register fields</h2>
<dl class="meta dora">
  <dt>Provider</dt><dd>${escapeHtml(entry.dora.providerLegalName)}</dd>
  <dt>LEI</dt><dd><code>${escapeHtml(entry.dora.lei)}</code></dd>
  <dt>Country</dt><dd>${escapeHtml(entry.dora.country)}</dd>
  <dt>Function supported</dt><dd>${escapeHtml(entry.dora.functionSupported)}</dd>
  <dt>Criticality</dt><dd><span class="criticality ${escapeHtml(entry.dora.criticality)}">${escapeHtml(entry.dora.criticality)}</span></dd>
  <dt>Data locations</dt><dd>${escapeHtml(entry.dora.dataLocations.join(', '))}</dd>
  <dt>Contract reference</dt><dd>${escapeHtml(entry.dora.contractReference)}</dd>
  <dt>Exit plan</dt><dd>${escapeHtml(entry.dora.exitPlan)}</dd>
</dl>`;
  return layout(entry.name, body);
}

function renderComparison(view: RegistryEntryView): string {
  const { onboarded, current } = view;
  const onboardedDigest = onboarded.digest === null ? '<span class="muted">no onboarding record</span>' : `<code class="digest">${escapeHtml(onboarded.digest)}</code>`;
  const currentDigests =
    current.digests.length === 0
      ? '<span class="muted">no pod running</span>'
      : current.digests
          .map((digest) => {
            const differs = onboarded.digest !== null && digest !== onboarded.digest;
            return `<div${differs ? ' class="differs"' : ''}><code class="digest">${escapeHtml(digest)}</code>${differs ? ' <span class="marker">⚠ differs</span>' : ''}</div>`;
          })
          .join('');
  const rows = [
    `<tr class="image${view.drift.image ? ' drift' : ''}"><th scope="row">Image digest</th><td class="onboarded">${onboardedDigest}</td><td class="current">${currentDigests}</td></tr>`,
    `<tr><th scope="row">Onboarded at</th><td class="onboarded">${onboarded.at === null ? '<span class="muted">—</span>' : timeHtml(onboarded.at)}</td><td class="current"><span class="muted">${plural(current.digests.length, 'running pod image', 'running pod images')}</span></td></tr>`,
  ];
  const names = [...new Set([...onboarded.tools.map((tool) => tool.tool), ...current.tools.map((tool) => tool.tool)])];
  for (const name of names) {
    const pin = onboarded.tools.find((tool) => tool.tool === name);
    const now = current.tools.find((tool) => tool.tool === name);
    const drifted = now !== undefined && now.state !== 'pinned';
    const pinned = pin ? `<code class="fingerprint">${escapeHtml(pin.fingerprint)}</code><div class="muted small">pinned ${timeHtml(new Date(pin.pinnedAt).toISOString())}</div>` : '<span class="muted">not pinned</span>';
    rows.push(`<tr class="tool${drifted ? ' drift' : ''}"><th scope="row">Tool <code>${escapeHtml(name)}</code></th><td class="onboarded">${pinned}</td><td class="current">${currentToolHtml(now)}</td></tr>`);
  }
  if (names.length === 0) {
    const why = view.entry.kind === 'Agent' ? 'An agent lists no MCP tools of its own.' : current.toolsSeen ? 'The server lists no tools.' : 'The agent gateway has not seen this server’s tools yet.';
    rows.push(`<tr><th scope="row">Tools</th><td colspan="2" class="muted">${escapeHtml(why)}</td></tr>`);
  }
  return `<table class="compare">
<thead><tr><th></th><th>Onboarded</th><th>Current</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}

function currentToolHtml(tool: CurrentTool | undefined): string {
  if (tool === undefined) return '<span class="muted">not reported</span>';
  const fingerprint = tool.fingerprint === null ? '' : `<code class="fingerprint">${escapeHtml(tool.fingerprint)}</code>`;
  switch (tool.state) {
    case 'pinned':
      return `${fingerprint}<div class="muted small">matches the pin</div>`;
    case 'changed':
      return `${fingerprint || '<span class="muted">fingerprint not reported</span>'}<div class="marker">⚠ changed${tool.fields && tool.fields.length > 0 ? `: ${escapeHtml(tool.fields.join(', '))}` : ''}</div>`;
    case 'added':
      return `${fingerprint}<div class="marker">⚠ added since onboarding</div>`;
    case 'removed':
      return '<div class="marker">⚠ no longer listed</div>';
  }
}

/** A page for an unknown entry or path. */
export function renderNotFound(message: string): string {
  return layout('Not found', `<p><a href="/">← all entries</a></p>\n<h1>Not found</h1>\n<p class="error">${escapeHtml(message)}</p>`);
}

/** A page for a catalogue or observation that could not be read. */
export function renderError(message: string): string {
  return layout('Error', `<p><a href="/">← all entries</a></p>\n<h1>Error</h1>\n<p class="error">${escapeHtml(message)}</p>`);
}

function timeHtml(iso: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  return `<time datetime="${escapeHtml(iso)}">${escapeHtml(match ? `${match[1]} ${match[2]} UTC` : iso)}</time>`;
}

function lines(items: string[]): string {
  return items.map(escapeHtml).join('<br>');
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

function layout(title: string, body: string): string {
  return htmlDocument(title, 'registry', STYLE, body);
}

const STYLE = `
  body { margin: 0; background: #f6f7f9; color: #1d2330; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
  main { max-width: 80rem; margin: 0 auto; padding: 1.5rem 2rem 3rem; }
  h1 { font-size: 1.4rem; margin: .5rem 0 1rem; }
  h2 { font-size: 1.1rem; margin: 2rem 0 .75rem; border-bottom: 1px solid #d9dde4; padding-bottom: .25rem; }
  a { color: #1f5fbf; }
  code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; overflow-wrap: anywhere; }
  .muted { color: #6b7485; }
  .small { font-size: .8rem; }
  .error { color: #b3261e; }
  .summary { margin: 0 0 1rem; }
  .drift-count { color: #b3261e; font-weight: 700; }
  table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid #d9dde4; }
  th, td { text-align: left; vertical-align: top; padding: .5rem .75rem; border-bottom: 1px solid #eceef2; }
  thead th { background: #eef1f5; font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; color: #5b6578; }
  tr.drift td, tr.drift th { background: #fdecea; }
  table.catalogue tr.drift td:first-child { box-shadow: inset 4px 0 0 #b3261e; }
  tr.not-onboarded td { background: #fff8ec; }
  td.long { max-width: 24rem; }
  table.catalogue code, table.register code { white-space: nowrap; overflow-wrap: normal; }
  .badge { display: inline-block; font-size: .75rem; font-weight: 700; border-radius: 3px; padding: 0 .4rem; white-space: nowrap; }
  .badge.ok { background: #e3f3e8; color: #1e6b3a; }
  .badge.drift { background: #b3261e; color: #fff; }
  .badge.not-running { background: #e7e9ee; color: #4a5263; }
  .badge.not-onboarded { background: #c77700; color: #fff; }
  ul.reasons { margin: .35rem 0 0; padding-left: 1.1rem; color: #8c1d18; font-size: .85rem; }
  .drift-reasons { background: #fdecea; border: 1px solid #f1b0aa; border-radius: 6px; padding: .25rem 1rem .75rem; margin: 0 0 1rem; }
  .drift-reasons h2 { border: 0; margin: .5rem 0 0; color: #8c1d18; }
  .criticality.critical { color: #b3261e; font-weight: 700; }
  .criticality.important { color: #8a5200; font-weight: 600; }
  dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
  dl.meta dt { color: #5b6578; }
  dl.meta dd { margin: 0; overflow-wrap: anywhere; }
  table.compare th[scope=row] { width: 14rem; font-weight: 600; }
  table.compare td { width: 40%; }
  .marker { color: #b3261e; font-weight: 700; }
  .description { margin-top: -.5rem; }
`;
