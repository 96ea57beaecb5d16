// Grafana's time range and its built-in variables, as far as the page needs them: relative ranges (`now-15m`),
// `$__range`, `$__interval` (range over the points a panel draws, never below the scrape interval Grafana assumes
// for a Prometheus datasource, 15 s) and `$__rate_interval` (max(interval + scrape interval, 4 × scrape interval)),
// and `$name` / `${name}` dashboard variables. Pure.

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** What Grafana assumes of a Prometheus datasource with no scrape interval configured. */
export const SCRAPE_INTERVAL_MS = 15_000;
const MAX_POINTS = 240;

/** `5s`, `15m`, `1h`, … in milliseconds; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)([smhd])$/.exec(text);
  return match ? Number(match[1]) * UNITS[match[2]!]! : undefined;
}

/** `now-15m` → 15 minutes; `now` → 0; anything else undefined. */
export function relativeRangeMs(from: string): number | undefined {
  if (from === 'now') return 0;
  const match = /^now-(\d+[smhd])$/.exec(from);
  return match ? parseDuration(match[1]!) : undefined;
}

export interface QueryWindow {
  startMs: number;
  endMs: number;
  stepMs: number;
  vars: Record<string, string>;
}

export function queryWindow(nowMs: number, rangeMs: number): QueryWindow {
  const stepMs = Math.max(SCRAPE_INTERVAL_MS, Math.ceil(rangeMs / MAX_POINTS / 1000) * 1000);
  const rateMs = Math.max(stepMs + SCRAPE_INTERVAL_MS, 4 * SCRAPE_INTERVAL_MS);
  return {
    startMs: nowMs - rangeMs,
    endMs: nowMs,
    stepMs,
    vars: { __range: `${Math.round(rangeMs / 1000)}s`, __interval: `${stepMs / 1000}s`, __rate_interval: `${rateMs / 1000}s` },
  };
}

/** Replaces `$name` and `${name}` by the variable's value; an unknown variable is left as written, as Grafana does. */
export function interpolate(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    return Object.hasOwn(vars, name) ? vars[name]! : whole;
  });
}

/** Grafana's legend format: `{{label}}` by the series' label, missing labels empty. */
export function legend(format: string | undefined, labels: Record<string, string>): string {
  if (!format || format === '__auto') {
    const entries = Object.entries(labels).filter(([name]) => name !== '__name__');
    return `${labels.__name__ ?? ''}{${entries.map(([k, v]) => `${k}="${v}"`).join(', ')}}`;
  }
  return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => labels[name] ?? '');
}

/** `label_values(query, label)` of a query variable, or undefined for another kind of variable query. */
export function labelValuesQuery(query: string): { match: string; label: string } | undefined {
  const match = /^\s*label_values\(\s*(.+),\s*(\w+)\s*\)\s*$/s.exec(query);
  return match ? { match: match[1]!, label: match[2]! } : undefined;
}
