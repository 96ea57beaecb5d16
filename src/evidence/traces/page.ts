// The trace collector's own pages (host port 18003): a search form and one trace as a waterfall. Server-
// rendered, no script (the page headers forbid it), every value escaped: span names and attributes come from
// pods, a compromised one included. Pure: data in, HTML out.
import { escapeHtml, htmlDocument } from '../../core/html.ts';
import { attribute, valueText, type StoredSpan } from './otlp.ts';
import type { TraceSummary } from './store.ts';

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1b1f24;background:#fff}main{padding:1rem 1.5rem;max-width:1200px}
h1{font-size:1.3rem}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #d0d7de;vertical-align:top}
.bar{position:relative;height:.9rem;background:#eef1f4;min-width:200px}.bar span{position:absolute;top:0;bottom:0;background:#0a58ca}.bar span.error{background:#b42318}
.deny{color:#b42318;font-weight:600}code{font-size:.85rem;word-break:break-all}details{margin:.1rem 0}a{color:#0a58ca}
label{display:block;margin:.5rem 0}input{font:inherit;padding:.2rem;width:min(40rem,100%)}`;

const KIND = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];

export function searchPage(query: string, results: readonly TraceSummary[] | string, apiNote: string): string {
  const rows =
    typeof results === 'string'
      ? `<p class="deny" role="alert">${escapeHtml(results)}</p>`
      : results.length === 0
        ? '<p>No trace matches.</p>'
        : `<table><caption>Newest first</caption><thead><tr><th scope="col">Trace</th><th scope="col">Root service</th><th scope="col">Root span</th><th scope="col">Start</th><th scope="col">Duration</th></tr></thead><tbody>${results
            .map(
              (t) =>
                `<tr><td><a href="/trace/${escapeHtml(t.traceID)}"><code>${escapeHtml(t.traceID)}</code></a></td><td>${escapeHtml(t.rootServiceName)}</td><td>${escapeHtml(t.rootTraceName)}</td><td>${escapeHtml(isoOf(t.startTimeUnixNano))}</td><td>${t.durationMs} ms</td></tr>`,
            )
            .join('')}</tbody></table>`;
  return htmlDocument(
    'Traces',
    'traces',
    STYLE,
    `<h1>Traces</h1>
<form method="get" action="/"><label for="tags">Tags (logfmt), e.g. <code>trustusbank.decision=deny</code> or <code>gen_ai.tool.name=convert_currency</code></label>
<input id="tags" name="tags" value="${escapeHtml(query)}"> <button type="submit">Search</button></form>
${rows}
<p>${escapeHtml(apiNote)}</p>`,
  );
}

/** One trace: spans in tree order, each with its bar on the trace's time line and its attributes. */
export function tracePage(traceId: string, spans: readonly StoredSpan[]): string {
  const start = spans.reduce((min, s) => (BigInt(s.startTimeUnixNano) < min ? BigInt(s.startTimeUnixNano) : min), BigInt(spans[0]!.startTimeUnixNano));
  const end = spans.reduce((max, s) => (BigInt(s.endTimeUnixNano) > max ? BigInt(s.endTimeUnixNano) : max), start);
  const total = Number(end - start) || 1;
  const rows = treeOrder(spans)
    .map(({ span, depth }) => {
      const offset = (Number(BigInt(span.startTimeUnixNano) - start) / total) * 100;
      const width = Math.max((Number(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / total) * 100, 0.5);
      const service = attribute(span.resource, 'service.name') ?? '?';
      const exporter = attribute(span.resource, 'trustusbank.exporter') ?? '?';
      const decision = attribute(span.attributes, 'trustusbank.decision');
      const error = span.status.code === 2;
      const attrs = [...span.attributes, ...span.resource.map((kv) => ({ key: `resource.${kv.key}`, value: kv.value }))]
        .map((kv) => `<tr><th scope="row"><code>${escapeHtml(kv.key)}</code></th><td><code>${escapeHtml(valueText(kv.value))}</code></td></tr>`)
        .join('');
      return `<tr><td style="padding-left:${0.5 + depth}rem">${escapeHtml(service)}: ${escapeHtml(span.name)}${decision ? ` <span class="${decision === 'deny' ? 'deny' : ''}">${escapeHtml(decision)}</span>` : ''}
<details><summary>${escapeHtml(KIND[span.kind] ?? 'span')} · exported by ${escapeHtml(exporter)}${span.status.message ? ` · ${escapeHtml(span.status.message)}` : ''}</summary><table>${attrs}</table></details></td>
<td>${((Number(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1e6).toFixed(1))} ms</td>
<td><div class="bar" aria-hidden="true"><span class="${error ? 'error' : ''}" style="left:${offset.toFixed(2)}%;width:${width.toFixed(2)}%"></span></div></td></tr>`;
    })
    .join('\n');
  return htmlDocument(
    `Trace ${traceId}`,
    'traces',
    STYLE,
    `<h1>Trace <code>${escapeHtml(traceId)}</code></h1>
<p><a href="/">Search</a> · <a href="/api/traces/${escapeHtml(traceId)}">OTLP JSON</a> · ${spans.length} span${spans.length === 1 ? '' : 's'}, ${(total / 1e6).toFixed(1)} ms, started ${escapeHtml(isoOf(start.toString()))}.
Spans exported by a pod are that pod's claims; spans exported by the node (ztunnel, the gateways) are the mesh's own record.</p>
<table><thead><tr><th scope="col">Span</th><th scope="col">Duration</th><th scope="col">Time line</th></tr></thead><tbody>
${rows}
</tbody></table>`,
  );
}

/** Depth-first from the roots (spans whose parent is not in the trace), children by start time. */
export function treeOrder(spans: readonly StoredSpan[]): { span: StoredSpan; depth: number }[] {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, StoredSpan[]>();
  const roots: StoredSpan[] = [];
  for (const span of spans) {
    if (span.parentSpanId !== undefined && ids.has(span.parentSpanId) && span.parentSpanId !== span.spanId) {
      const list = children.get(span.parentSpanId) ?? [];
      list.push(span);
      children.set(span.parentSpanId, list);
    } else roots.push(span);
  }
  const byStart = (a: StoredSpan, b: StoredSpan): number => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1);
  const out: { span: StoredSpan; depth: number }[] = [];
  const seen = new Set<string>();
  const walk = (span: StoredSpan, depth: number): void => {
    // A parent cycle (hostile input) cannot loop.
    if (seen.has(span.spanId)) return;
    seen.add(span.spanId);
    out.push({ span, depth });
    for (const child of (children.get(span.spanId) ?? []).sort(byStart)) walk(child, depth + 1);
  };
  for (const root of roots.sort(byStart)) walk(root, 0);
  // Spans only reachable through a cycle are still shown.
  for (const span of spans) if (!seen.has(span.spanId)) walk(span, 0);
  return out;
}

function isoOf(nanos: string): string {
  return new Date(Number(BigInt(nanos) / 1_000_000n)).toISOString();
}
