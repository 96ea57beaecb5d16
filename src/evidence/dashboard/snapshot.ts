// The dashboard's data at one moment, for an evidence bundle: every panel's query run as the page (and Grafana)
// runs it, over the dashboard's default range, with its variables resolved, each answer kept as the query API
// gave it. The bundle then shows what the SOC saw, even once the stack and its metric store are gone.
import { parseDashboard } from './model.ts';
import { interpolate, labelValuesQuery, queryWindow, relativeRangeMs } from './time.ts';

export interface DashboardSnapshot {
  dashboard: string;
  takenAt: string;
  range: { from: string; to: string; stepSeconds: number };
  variables: Record<string, string>;
  panels: { title: string; refId: string; query: string; answer: unknown }[];
}

/** `get(path, params)` asks the evidence API (18002) and returns its JSON answer. */
export async function dashboardSnapshot(raw: unknown, get: (path: string, params: Record<string, string>) => Promise<unknown>, nowMs = Date.now()): Promise<DashboardSnapshot> {
  const dashboard = parseDashboard(raw);
  const rangeMs = relativeRangeMs(dashboard.time?.from ?? 'now-1h') ?? 3_600_000;
  const window = queryWindow(nowMs, rangeMs);
  const vars: Record<string, string> = { ...window.vars, datasource: 'prometheus' };
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const lv = labelValuesQuery(typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? ''));
    if (!lv) continue;
    const answer = (await get('/api/v1/series', { 'match[]': interpolate(lv.match, vars), start: String(window.startMs / 1000), end: String(nowMs / 1000) })) as { data?: Record<string, string>[] };
    vars[variable.name] = [...new Set((answer.data ?? []).map((s) => s[lv.label]!).filter(Boolean))].sort()[0] ?? '';
  }
  const panels: DashboardSnapshot['panels'] = [];
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) {
      const query = interpolate(target.expr, vars);
      const answer = target.range
        ? await get('/api/v1/query_range', { query, start: String(window.startMs / 1000), end: String(window.endMs / 1000), step: String(window.stepMs / 1000) })
        : await get('/api/v1/query', { query, time: String(nowMs / 1000) });
      panels.push({ title: panel.title, refId: target.refId, query, answer });
    }
  }
  return { dashboard: dashboard.uid, takenAt: new Date(nowMs).toISOString(), range: { from: new Date(window.startMs).toISOString(), to: new Date(window.endMs).toISOString(), stepSeconds: window.stepMs / 1000 }, variables: vars, panels };
}
