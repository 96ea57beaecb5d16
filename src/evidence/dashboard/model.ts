// The part of Grafana's dashboard model (schemaVersion 42) that the embedded page reads and renders: panels of
// type stat, timeseries, table and text, Prometheus targets, the `merge` and `organize` transformations, field
// units and overrides by name, datasource and `label_values` query variables. The dashboard file is the one a
// real Grafana imports; a panel of another type is shown as "not rendered here", never guessed at.
// Pure: shared by the server and the browser bundle.

export interface Threshold {
  color: string;
  value: number | null;
}

export interface FieldConfig {
  defaults?: { unit?: string; decimals?: number; thresholds?: { mode?: string; steps?: Threshold[] } };
  overrides?: { matcher: { id: string; options?: unknown }; properties: { id: string; value?: unknown }[] }[];
}

export interface Target {
  refId: string;
  expr: string;
  legendFormat?: string;
  instant?: boolean;
  range?: boolean;
  format?: string;
}

export interface Transformation {
  id: string;
  options?: { excludeByName?: Record<string, boolean>; indexByName?: Record<string, number>; renameByName?: Record<string, string> };
}

export interface PanelLink {
  title: string;
  url: string;
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: Target[];
  transformations?: Transformation[];
  fieldConfig?: FieldConfig;
  options?: { content?: string; mode?: string };
  links?: PanelLink[];
}

export interface Variable {
  name: string;
  type: string;
  label?: string;
  query?: string | { query?: string };
}

export interface Dashboard {
  uid: string;
  title: string;
  description?: string;
  schemaVersion: number;
  panels: Panel[];
  refresh?: string;
  time?: { from: string; to: string };
  timepicker?: { refresh_intervals?: string[] };
  templating?: { list: Variable[] };
}

/** The page recognises the deny-log panel by its link to the endpoint that serves the lines. */
export const DENY_LOG_PATH = '/api/deny-logs';

export function isDenyLogPanel(panel: Panel): boolean {
  return panel.type === 'text' && (panel.links ?? []).some((link) => link.url.endsWith(DENY_LOG_PATH));
}

/** Reads the file's JSON as far as the page needs it, or says which field is missing. */
export function parseDashboard(json: unknown): Dashboard {
  const d = json as Partial<Dashboard> | null;
  if (typeof d !== 'object' || d === null) throw new Error('dashboard: not a JSON object');
  if (typeof d.uid !== 'string' || d.uid === '') throw new Error('dashboard: uid is missing');
  if (typeof d.title !== 'string') throw new Error('dashboard: title is missing');
  if (typeof d.schemaVersion !== 'number') throw new Error('dashboard: schemaVersion is missing');
  if (!Array.isArray(d.panels)) throw new Error('dashboard: panels is missing');
  d.panels.forEach((panel, i) => {
    if (typeof panel.type !== 'string' || typeof panel.id !== 'number' || typeof panel.gridPos !== 'object') throw new Error(`dashboard: panels[${i}] needs id, type and gridPos`);
    for (const [j, target] of (panel.targets ?? []).entries()) {
      if (typeof target.expr !== 'string' || typeof target.refId !== 'string') throw new Error(`dashboard: panels[${i}].targets[${j}] needs refId and expr`);
    }
  });
  return d as Dashboard;
}
