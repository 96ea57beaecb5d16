// The embedded Prometheus' own page, in the spirit of Prometheus' /alerts and /targets: a query box (a plain GET
// form: the result is rendered on the server, so the page runs no script at all), the alerting rules with their
// state and active alerts, and the scrape targets with their health. Everything shown is escaped: labels and
// annotations come from workloads and manifests.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { escapeHtml, htmlDocument, PAGE_HEADERS } from '../../core/html.ts';
import { sendText } from '../../core/http.ts';
import { Engine, PromQLError, type Value } from '../promql/index.ts';
import type { RuleGroupRunner } from '../rules/index.ts';
import type { Scraper } from '../scrape/scrape.ts';
import { formatLabels, type MemoryStore } from '../tsdb/index.ts';
import { formatNumber } from './query-api.ts';

export interface PageModel {
  store: MemoryStore;
  scraper: Scraper;
  rules: () => readonly { runner: RuleGroupRunner }[];
  now?: () => number;
}

const STYLE = `body{font:14px system-ui,sans-serif;margin:1.5rem;color:#1b1f24;background:#fff}h1{font-size:1.3rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #c8ccd0;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#eef1f4}
.firing{color:#a40e26;font-weight:600}.pending{color:#8a4b00;font-weight:600}.inactive,.up{color:#116329}.down{color:#a40e26;font-weight:600}
input[type=text]{width:70%;font:inherit;padding:.3rem}code{font:12px ui-monospace,monospace}.error{color:#a40e26}`;

export function prometheusPage(model: PageModel): (req: IncomingMessage, res: ServerResponse, url: URL) => void {
  const engine = new Engine(model.store);
  return (_req, res, url) => {
    const query = url.searchParams.get('query') ?? '';
    let result = '';
    if (query !== '') {
      try {
        result = renderValue(engine.instantQuery(query, (model.now ?? Date.now)()));
      } catch (error) {
        const message = error instanceof PromQLError ? `${error.errorType}: ${error.message}` : (error as Error).message;
        result = `<p class="error" role="alert">${escapeHtml(message)}</p>`;
      }
    }
    const body = `<h1>TrustUsBank Prometheus (embedded)</h1>
<form method="get" action="/"><label for="query">PromQL</label> <input type="text" id="query" name="query" value="${escapeHtml(query)}" placeholder="ALERTS{alertstate=&quot;firing&quot;}"> <button type="submit">Execute</button></form>
${result}
<h2>Alerts</h2>
${renderRules(model.rules())}
<h2>Targets</h2>
${renderTargets(model.scraper)}
<p>API: <code>/api/v1/query</code>, <code>/api/v1/query_range</code>, <code>/api/v1/series</code>, <code>/api/v1/labels</code>, <code>/api/v1/targets</code>, <code>/api/v1/rules</code>, <code>/api/v1/alerts</code>, <code>/federate</code>, <code>/metrics</code>.</p>`;
    for (const [name, value] of Object.entries(PAGE_HEADERS)) res.setHeader(name, value);
    // The query box submits to this page itself.
    res.setHeader('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    sendText(res, 200, htmlDocument('Prometheus', 'evidence', STYLE, body), 'text/html; charset=utf-8');
  };
}

function renderValue(value: Value): string {
  switch (value.type) {
    case 'scalar':
    case 'string':
      return `<table><tr><th>${value.type}</th></tr><tr><td>${escapeHtml(value.type === 'scalar' ? formatNumber(value.value) : value.value)}</td></tr></table>`;
    case 'vector':
      if (value.samples.length === 0) return '<p>Empty result.</p>';
      return `<table><tr><th>Series</th><th>Value</th></tr>${value.samples.map((s) => `<tr><td><code>${escapeHtml(formatLabels(s.labels))}</code></td><td>${escapeHtml(formatNumber(s.value))}</td></tr>`).join('')}</table>`;
    case 'matrix':
      return `<table><tr><th>Series</th><th>Values</th></tr>${value.series.map((s) => `<tr><td><code>${escapeHtml(formatLabels(s.labels))}</code></td><td>${Array.from({ length: s.t.length }, (_, i) => `${escapeHtml(formatNumber(s.v[i]!))} @${s.t[i]! / 1000}`).join('<br>')}</td></tr>`).join('')}</table>`;
  }
}

function renderRules(groups: readonly { runner: RuleGroupRunner }[]): string {
  const rows = groups.flatMap(({ runner }) =>
    runner.group.rules
      .filter((rule) => rule.kind === 'alert')
      .map((rule) => {
        const alerts = runner.alertsOf(rule.name).filter((a) => a.state !== 'inactive');
        const state = alerts.some((a) => a.state === 'firing') ? 'firing' : alerts.length > 0 ? 'pending' : 'inactive';
        const active = alerts.map((a) => `<div class="${a.state}">${escapeHtml(a.state)}: <code>${escapeHtml(formatLabels(a.labels))}</code>${a.annotations.summary ? ` — ${escapeHtml(a.annotations.summary)}` : ''}</div>`).join('');
        return `<tr><td>${escapeHtml(runner.group.name)}</td><td>${escapeHtml(rule.name)}</td><td class="${state}">${state}</td><td><code>${escapeHtml(rule.exprText)}</code>${active}</td></tr>`;
      }),
  );
  return rows.length === 0 ? '<p>No alerting rule is loaded.</p>' : `<table><tr><th>Group</th><th>Alert</th><th>State</th><th>Expression and active alerts</th></tr>${rows.join('')}</table>`;
}

function renderTargets(scraper: Scraper): string {
  const rows = scraper.targets().map((t) => `<tr><td>${escapeHtml(t.target.labels.job ?? '')}</td><td>${escapeHtml(t.target.url)}</td><td class="${t.health}">${t.health}</td><td>${escapeHtml(t.lastError)}</td></tr>`);
  return rows.length === 0 ? '<p>No target is discovered.</p>' : `<table><tr><th>Job</th><th>Endpoint</th><th>State</th><th>Error</th></tr>${rows.join('')}</table>`;
}
