// The dashboard page: reads the dashboard JSON (the file a real Grafana imports), resolves its variables, runs
// each panel's queries through the evidence API and draws stat, time series, table and text panels, and the deny
// log lines. Every value shown comes from labels and logs that a compromised workload may shape: it is only ever
// set as text (textContent, SVG attributes), never parsed as HTML; the CSP's Trusted Types forbid HTML sinks.
import { formatValue, linkOf, tableOf, thresholdColor, transform, unitOf, type InstantSample, type Table } from '../frames.ts';
import { DENY_LOG_PATH, isDenyLogPanel, parseDashboard, type Dashboard, type Panel } from '../model.ts';
import { interpolate, labelValuesQuery, legend, queryWindow, relativeRangeMs, type QueryWindow } from '../time.ts';
import type { DenyLine } from '../deny-log.ts';

const API = '/api/datasources/proxy/uid/prometheus/api/v1';
/** The trace collector's pages (18003 unless the stack moved it; the dashboard's meta says where). */
let traceBase = 'http://127.0.0.1:18003/';
const RANGES = ['now-5m', 'now-15m', 'now-30m', 'now-1h'];
const PALETTE = ['#73bf69', '#f2cc0c', '#8ab8ff', '#ff780a', '#f2495c', '#5794f2', '#b877d9', '#fade2a'];

interface PromResponse<T> {
  status: string;
  data?: T;
  error?: string;
  errorType?: string;
}

class QueryError extends Error {}

async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  const body = (await response.json()) as PromResponse<T> & T;
  if (!response.ok || body.status === 'error') throw new QueryError(`${body.errorType ?? response.status}: ${body.error ?? response.statusText}`);
  return (body.data ?? body) as T;
}

const query = (expr: string, time: number) => getJson<{ resultType: string; result: InstantSample[] }>(`${API}/query?${new URLSearchParams({ query: expr, time: String(time / 1000) })}`);
const queryRange = (expr: string, w: QueryWindow) =>
  getJson<{ result: { metric: Record<string, string>; values: [number, string][] }[] }>(`${API}/query_range?${new URLSearchParams({ query: expr, start: String(w.startMs / 1000), end: String(w.endMs / 1000), step: String(w.stepMs / 1000) })}`);

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: { className?: string; text?: string } = {}, ...children: Node[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  node.append(...children);
  return node;
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number>): SVGElementTagNameMap[K] {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

interface State {
  dashboard: Dashboard;
  from: string;
  refresh: string;
  timer?: ReturnType<typeof setInterval>;
}

async function main(): Promise<void> {
  const grid = document.getElementById('grid')!;
  let dashboard: Dashboard;
  try {
    const body = (await (await fetch(`/api/dashboards/uid/${location.pathname.split('/')[2] ?? ''}`)).json()) as { dashboard: unknown; meta?: { tracesUrl?: unknown } };
    dashboard = parseDashboard(body.dashboard);
    const traces = body.meta?.tracesUrl;
    if (typeof traces === 'string' && /^http:\/\/127\.0\.0\.1:\d+\/$/.test(traces)) traceBase = traces;
  } catch (error) {
    grid.replaceChildren(el('p', { className: 'error', text: `The dashboard could not be loaded: ${(error as Error).message}` }));
    return;
  }
  const params = new URLSearchParams(location.search);
  const state: State = {
    dashboard,
    from: relativeRangeMs(params.get('from') ?? '') !== undefined ? params.get('from')! : (dashboard.time?.from ?? 'now-15m'),
    refresh: params.get('refresh') ?? dashboard.refresh ?? '',
  };
  const range = document.getElementById('range') as HTMLSelectElement;
  const refresh = document.getElementById('refresh') as HTMLSelectElement;
  for (const from of new Set([...RANGES, state.from])) range.append(new Option(`Last ${from.slice(4)}`, from, false, from === state.from));
  for (const every of new Set(['', ...(dashboard.timepicker?.refresh_intervals ?? []), state.refresh])) refresh.append(new Option(every === '' ? 'Off' : every, every, false, every === state.refresh));
  const rerun = (): void => {
    history.replaceState(null, '', `${location.pathname}?${new URLSearchParams({ from: state.from, to: 'now', ...(state.refresh ? { refresh: state.refresh } : {}) })}`);
    schedule(state, grid);
    void render(state, grid);
  };
  range.addEventListener('change', () => {
    state.from = range.value;
    rerun();
  });
  refresh.addEventListener('change', () => {
    state.refresh = refresh.value;
    rerun();
  });
  document.getElementById('refresh-now')!.addEventListener('click', () => void render(state, grid));
  buildGrid(dashboard, grid);
  rerun();
}

function schedule(state: State, grid: HTMLElement): void {
  if (state.timer) clearInterval(state.timer);
  state.timer = undefined;
  const every = /^(\d+)([sm])$/.exec(state.refresh);
  if (every) state.timer = setInterval(() => void render(state, grid), Number(every[1]) * (every[2] === 's' ? 1000 : 60_000));
}

function buildGrid(dashboard: Dashboard, grid: HTMLElement): void {
  grid.replaceChildren(
    ...dashboard.panels.map((panel) => {
      const body = el('div', { className: 'body' });
      // A panel's body scrolls when its table or log is long: keyboard users must be able to reach and scroll it.
      body.tabIndex = 0;
      const section = el('section', { className: `panel ${panel.type}` }, el('h2', { text: panel.title }), body);
      section.id = `panel-${panel.id}`;
      section.dataset.panelType = panel.type;
      section.setAttribute('aria-label', panel.title);
      if (panel.description) section.title = panel.description;
      section.style.gridColumn = `${panel.gridPos.x + 1} / span ${panel.gridPos.w}`;
      section.style.gridRow = `${panel.gridPos.y + 1} / span ${panel.gridPos.h}`;
      return section;
    }),
  );
}

let rendering = false;

async function render(state: State, grid: HTMLElement): Promise<void> {
  if (rendering) return;
  rendering = true;
  try {
    const now = Date.now();
    const window = queryWindow(now, relativeRangeMs(state.from) ?? 15 * 60_000);
    const vars = { ...window.vars, ...(await variables(state.dashboard, window.vars, now)) };
    await Promise.all(
      state.dashboard.panels.map(async (panel) => {
        const body = grid.querySelector(`#panel-${panel.id} .body`) as HTMLElement;
        try {
          body.replaceChildren(...(await renderPanel(panel, window, vars, now, body)));
          body.parentElement!.dataset.state = 'ok';
        } catch (error) {
          body.replaceChildren(el('p', { className: 'error', text: (error as Error).message }));
          body.parentElement!.dataset.state = 'error';
        }
      }),
    );
    grid.setAttribute('aria-busy', 'false');
    document.getElementById('updated')!.textContent = `Updated ${new Date(now).toISOString().slice(11, 19)}Z`;
  } finally {
    rendering = false;
  }
}

/** Dashboard variables: the datasource is this page's, `label_values(q, label)` takes the first value (sorted). */
async function variables(dashboard: Dashboard, builtins: Record<string, string>, now: number): Promise<Record<string, string>> {
  const vars: Record<string, string> = { ...builtins };
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type === 'datasource') {
      vars[variable.name] = 'prometheus';
      continue;
    }
    const text = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
    const lv = variable.type === 'query' ? labelValuesQuery(text) : undefined;
    if (!lv) continue;
    const series = await getJson<Record<string, string>[]>(`${API}/series?${new URLSearchParams({ 'match[]': interpolate(lv.match, vars), start: String((now - 3_600_000) / 1000), end: String(now / 1000) })}`).catch(() => []);
    vars[variable.name] = [...new Set(series.map((s) => s[lv.label]).filter((v): v is string => v !== undefined))].sort()[0] ?? '';
  }
  return vars;
}

async function renderPanel(panel: Panel, window: QueryWindow, vars: Record<string, string>, now: number, body: HTMLElement): Promise<Node[]> {
  const targets = (panel.targets ?? []).map((t) => ({ ...t, expr: interpolate(t.expr, vars) }));
  switch (panel.type) {
    case 'stat': {
      const result = await query(targets[0]!.expr, now);
      const value = result.result[0] ? Number(result.result[0].value[1]) : undefined;
      const color = value === undefined || Number.isNaN(value) ? undefined : thresholdColor(panel.fieldConfig, value);
      body.style.background = color ? cssColor(color) : '';
      return [document.createTextNode(value === undefined ? 'No data' : formatValue(value, panel.fieldConfig?.defaults?.unit, panel.fieldConfig?.defaults?.decimals))];
    }
    case 'timeseries': {
      const lines = (await Promise.all(targets.map(async (t) => (await queryRange(t.expr, window)).result.map((s) => ({ name: legend(t.legendFormat, s.metric), points: s.values.map(([t2, v]) => [t2 * 1000, Number(v)] as const) }))))).flat();
      return timeSeries(lines, window);
    }
    case 'table': {
      const tables: Table[] = await Promise.all(targets.map(async (t) => tableOf((await query(t.expr, now)).result, t.refId, targets.length > 1)));
      return [renderTable(transform(tables, panel.transformations), panel)];
    }
    case 'text': {
      if (isDenyLogPanel(panel)) return denyLog(await getJson<{ lines: DenyLine[] }>(`${DENY_LOG_PATH}?${new URLSearchParams({ from: String(window.startMs), limit: '100' })}`));
      return markdown(interpolate(panel.options?.content ?? '', vars));
    }
    default:
      return [el('p', { className: 'empty', text: `Panel type "${panel.type}" is not rendered by this page; open the dashboard in Grafana.` })];
  }
}

function cssColor(name: string): string {
  const named: Record<string, string> = { green: '#1a7f37', red: '#c4162a', orange: '#b35c00', blue: '#1f60c4', yellow: '#8f7b00' };
  return named[name] ?? (/^#[0-9a-f]{3,8}$/i.test(name) ? name : '#22252b');
}

function renderTable(table: Table, panel: Panel): Node {
  if (table.rows.length === 0) return el('p', { className: 'empty', text: 'No data' });
  const traceColumn = table.columns.find((c) => /^trace_?id$/i.test(c));
  const head = el('tr', {}, ...table.columns.map((c) => {
    const th = el('th', { text: c });
    th.scope = 'col';
    return th;
  }));
  const rows = table.rows.map((row) => {
    const tr = el(
      'tr',
      {},
      ...table.columns.map((c) => {
        const text = formatValue(row[c], unitOf(panel.fieldConfig, c));
        const link = linkOf(panel.fieldConfig, c, row[c]);
        if (!link) return el('td', { text });
        const a = el('a', { text });
        // The dashboard's own pages (the incidents) are followed on this server, whatever port it was given.
        const target = new URL(link);
        a.href = target.pathname.startsWith('/incidents') ? `${target.pathname}${target.search}` : target.href;
        a.rel = 'noreferrer';
        return el('td', {}, a);
      }),
    );
    const traceId = traceColumn ? row[traceColumn] : undefined;
    // A row links to its trace when the data names one. Istio's metrics carry no trace id: a row that names a
    // workload identity links to the search for that identity's refused connections instead.
    if (typeof traceId === 'string' && /^[0-9a-f]{32}$/.test(traceId)) tr.append(el('td', {}, traceLink(traceId)));
    else {
      const identity = table.columns.map((c) => row[c]).find((v): v is string => typeof v === 'string' && /^spiffe:\/\/[^\s]+$/.test(v));
      if (identity) tr.append(el('td', {}, traceSearchLink(`trustusbank.decision=deny src.identity=${identity}`)));
    }
    return tr;
  });
  return el('table', {}, el('thead', {}, head), el('tbody', {}, ...rows));
}

function traceLink(traceId: string): HTMLAnchorElement {
  const a = el('a', { text: 'trace' });
  a.href = new URL(`trace/${traceId}`, traceBase).href;
  a.rel = 'noreferrer';
  return a;
}

function traceSearchLink(tags: string): HTMLAnchorElement {
  const a = el('a', { text: 'traces' });
  a.href = `${traceBase}?${new URLSearchParams({ tags })}`;
  a.rel = 'noreferrer';
  return a;
}

function denyLog(body: { lines: DenyLine[] }): Node[] {
  if (body.lines.length === 0) return [el('p', { className: 'empty', text: 'No deny in this time range.' })];
  return body.lines.map((line) => {
    const parts = [
      el('span', { className: 'layer', text: line.layer }),
      document.createTextNode(`${line.ts} ${line.subject}${line.destination ? ` → ${line.destination}` : ''}${line.policy ? ` policy ${line.policy}` : ''}${line.reason ? ` — ${line.reason}` : ''} `),
    ];
    if (line.traceId && /^[0-9a-f]{32}$/.test(line.traceId)) parts.push(traceLink(line.traceId));
    const div = el('div', { className: 'log' }, ...parts);
    div.title = line.line;
    return div;
  });
}

/** The markdown a text panel uses here: paragraphs, fenced code blocks and `inline code`; nothing else is interpreted. */
function markdown(text: string): Node[] {
  const nodes: Node[] = [];
  const blocks = text.split(/```[^\n]*\n([\s\S]*?)```/);
  blocks.forEach((block, i) => {
    if (i % 2 === 1) {
      nodes.push(el('pre', {}, el('code', { text: block.replace(/\n$/, '') })));
      return;
    }
    for (const paragraph of block.split(/\n{2,}/).map((p) => p.trim()).filter(Boolean)) {
      const p = el('p');
      paragraph.split(/`([^`]+)`/).forEach((part, j) => p.append(j % 2 === 1 ? el('code', { text: part }) : document.createTextNode(part)));
      nodes.push(p);
    }
  });
  return nodes;
}

function timeSeries(lines: { name: string; points: (readonly [number, number])[] }[], window: QueryWindow): Node[] {
  const finite = lines.flatMap((l) => l.points.map(([, v]) => v)).filter(Number.isFinite);
  if (finite.length === 0) return [el('p', { className: 'empty', text: 'No data' })];
  const max = Math.max(...finite, 0) || 1;
  const width = 600;
  const height = 160;
  const x = (t: number) => ((t - window.startMs) / (window.endMs - window.startMs)) * width;
  const y = (v: number) => height - (v / max) * (height - 10);
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': `chart, peak ${formatValue(max)}` });
  chart.classList.add('chart');
  chart.append(svg('line', { x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5, stroke: '#464c54' }));
  const legendBox = el('div', { className: 'legend' });
  lines.forEach((line, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const d = line.points.filter(([, v]) => Number.isFinite(v)).map(([t, v], j) => `${j === 0 ? 'M' : 'L'}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join('');
    if (d) chart.append(svg('path', { d, fill: 'none', stroke: color, 'stroke-width': 2, 'vector-effect': 'non-scaling-stroke' }));
    // A series only seconds old has a point or two: draw them, or a fresh deny would not show at all.
    const points = line.points.filter(([, v]) => Number.isFinite(v));
    if (points.length <= 3) for (const [t, v] of points) chart.append(svg('circle', { cx: x(t).toFixed(1), cy: y(v).toFixed(1), r: 4, fill: color }));
    const item = el('span', { text: `${line.name} (max ${formatValue(Math.max(...line.points.map(([, v]) => v).filter(Number.isFinite)))})` });
    item.style.setProperty('--c', color);
    legendBox.append(item);
  });
  return [chart, legendBox];
}

void main();
