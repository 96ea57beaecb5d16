// Tables as Grafana builds them from Prometheus instant queries with `format: "table"`: one row per series, a
// column per label (sorted), `Time`, and `Value` (or `Value #<refId>` when the panel has several queries); then
// the panel's transformations in order (`merge`: rows whose shared label columns agree become one row;
// `organize`: exclude, order, rename). Value formatting by Grafana unit ids. Pure: the browser bundle uses it.
import type { FieldConfig, Transformation } from './model.ts';

export type Cell = string | number | undefined;

export interface Table {
  columns: string[];
  rows: Record<string, Cell>[];
}

export interface InstantSample {
  metric: Record<string, string>;
  value: [number, string];
}

const isValueColumn = (name: string): boolean => name === 'Value' || name.startsWith('Value #');

export function tableOf(result: InstantSample[], refId: string, severalQueries: boolean): Table {
  const valueColumn = severalQueries ? `Value #${refId}` : 'Value';
  const labels = [...new Set(result.flatMap((s) => Object.keys(s.metric)))].sort();
  return {
    columns: ['Time', ...labels, valueColumn],
    rows: result.map((s) => ({ Time: s.value[0] * 1000, ...s.metric, [valueColumn]: Number(s.value[1]) })),
  };
}

export function merge(tables: Table[]): Table {
  const columns: string[] = [];
  const rows: Record<string, Cell>[] = [];
  for (const table of tables) {
    for (const column of table.columns) if (!columns.includes(column)) columns.push(column);
    for (const row of table.rows) {
      const keys = Object.keys(row).filter((k) => k !== 'Time' && !isValueColumn(k));
      const same = rows.find((existing) => keys.every((k) => !(k in existing) || existing[k] === row[k]) && Object.keys(existing).filter((k) => k !== 'Time' && !isValueColumn(k)).every((k) => !(k in row) || existing[k] === row[k]));
      if (same) Object.assign(same, row);
      else rows.push({ ...row });
    }
  }
  return { columns, rows };
}

export function organize(table: Table, options: Transformation['options'] = {}): Table {
  const exclude = options.excludeByName ?? {};
  const index = options.indexByName ?? {};
  const rename = options.renameByName ?? {};
  const kept = table.columns.filter((c) => !exclude[c]);
  const order = (c: string): number => index[c] ?? Number.MAX_SAFE_INTEGER;
  const sorted = kept.map((c, i) => ({ c, i })).sort((a, b) => order(a.c) - order(b.c) || a.i - b.i).map(({ c }) => c);
  const name = (c: string): string => rename[c] || c;
  return { columns: sorted.map(name), rows: table.rows.map((row) => Object.fromEntries(sorted.map((c) => [name(c), row[c]]))) };
}

/** The panel's transformations over its queries' tables; without any, the tables are shown one after the other. */
export function transform(tables: Table[], transformations: Transformation[] = []): Table {
  let current = tables;
  for (const t of transformations) {
    if (t.id === 'merge') current = [merge(current)];
    else if (t.id === 'organize') current = current.map((table) => organize(table, t.options));
    else throw new Error(`transformation "${t.id}" is not rendered by this page`);
  }
  return current.length === 1 ? current[0]! : merge(current);
}

/** The unit of a column: an override by name, else the panel's default. */
export function unitOf(fieldConfig: FieldConfig | undefined, column: string): string | undefined {
  for (const override of fieldConfig?.overrides ?? []) {
    if (override.matcher.id === 'byName' && override.matcher.options === column) {
      const unit = override.properties.find((p) => p.id === 'unit');
      if (unit && typeof unit.value === 'string') return unit.value;
    }
  }
  return fieldConfig?.defaults?.unit;
}

/**
 * A column's data link (Grafana's `links` override by name), with `${__value.raw}` / `${__value.text}` filled
 * from the cell, percent-encoded; undefined when the column has none or the URL is not http(s).
 */
export function linkOf(fieldConfig: FieldConfig | undefined, column: string, value: Cell): string | undefined {
  if (value === undefined) return undefined;
  for (const override of fieldConfig?.overrides ?? []) {
    if (override.matcher.id !== 'byName' || override.matcher.options !== column) continue;
    const links = override.properties.find((p) => p.id === 'links')?.value;
    const first = Array.isArray(links) ? (links[0] as { url?: unknown } | undefined) : undefined;
    if (typeof first?.url !== 'string') continue;
    const url = first.url.replace(/\$\{__value\.(?:raw|text)\}/g, encodeURIComponent(String(value)));
    return /^https?:\/\//.test(url) ? url : undefined;
  }
  return undefined;
}

export function formatValue(value: Cell, unit?: string, decimals?: number): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (Number.isNaN(value)) return 'NaN';
  switch (unit) {
    case 'dateTimeAsIso':
      return new Date(value).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
    case 's':
      return duration(value);
    case 'percent':
      return `${value.toFixed(decimals ?? 1)}%`;
    default:
      return short(value, decimals);
  }
}

function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

function short(value: number, decimals?: number): string {
  const abs = Math.abs(value);
  for (const [size, suffix] of [[1e9, ' B'], [1e6, ' M'], [1e3, ' K']] as const) {
    if (abs >= size) return `${(value / size).toFixed(decimals ?? 1)}${suffix}`;
  }
  return decimals !== undefined ? value.toFixed(decimals) : String(Math.round(value * 1000) / 1000);
}

/** The colour of the last threshold step the value reaches (Grafana's absolute thresholds). */
export function thresholdColor(fieldConfig: FieldConfig | undefined, value: number): string | undefined {
  let color: string | undefined;
  for (const step of fieldConfig?.defaults?.thresholds?.steps ?? []) {
    if (step.value === null || value >= step.value) color = step.color;
  }
  return color;
}
