// The dashboard file against Grafana's own dashboard model. @grafana/schema ships that model as TypeScript
// types (generated from Grafana's CUE schema), not as a JSON schema, so the check is the TypeScript compiler's:
// the file's JSON becomes an object literal typed as the model (the dashboard, each panel, each panel type's
// options and field config), and tsc must find no error. What it proves: every field we write exists in
// Grafana's model with a compatible type, enums hold allowed values, required fields are present (excess
// properties are errors in an object literal). What it does not prove: that Grafana's frontend migrations and
// plugins render it as we intend (targets are `Record<string, unknown>` in the model; our queries are checked by
// running them, in test/dashboard.test.ts). `__inputs`/`__requires` are the export wrapper Grafana's exporter
// adds around the model; they are checked here by hand.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../runtime/images.ts';
import { DASHBOARD_FILE } from './server.ts';

const PANEL_TYPES: Record<string, { module: string; fieldConfig: boolean }> = {
  stat: { module: 'stat/panelcfg/x/StatPanelCfg_types.gen', fieldConfig: false },
  table: { module: 'table/panelcfg/x/TablePanelCfg_types.gen', fieldConfig: true },
  text: { module: 'text/panelcfg/x/TextPanelCfg_types.gen', fieldConfig: false },
  timeseries: { module: 'timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen', fieldConfig: true },
};

/** A TypeScript module that assigns the dashboard's parts to Grafana's types. */
function checkSource(dashboard: Record<string, unknown>): string {
  const { __inputs: _inputs, __requires: _requires, ...model } = dashboard;
  const panels = (model.panels as { type: string; options?: unknown; fieldConfig?: { defaults?: { custom?: unknown } } }[]) ?? [];
  const lines = [
    "import type * as D from '@grafana/schema/dist/esm/raw/dashboard/x/Dashboard_types.gen';",
    ...Object.entries(PANEL_TYPES).map(([type, { module }]) => `import type * as P_${type} from '@grafana/schema/dist/esm/raw/composable/${module}';`),
    // JSON has no enums: a string enum's field takes the enum's values as strings.
    'type Json<T> = T extends string ? `${T}` : T extends readonly (infer U)[] ? Json<U>[] : T extends object ? { [K in keyof T]: Json<T[K]> } : T;',
    `export const dashboard: Json<D.Dashboard> = ${JSON.stringify(model)};`,
  ];
  panels.forEach((panel, i) => {
    lines.push(`export const panel${i}: Json<D.Panel> = ${JSON.stringify(panel)};`);
    const types = PANEL_TYPES[panel.type];
    if (!types) {
      lines.push(`const unknownPanelType${i}: never = ${JSON.stringify(panel.type)};`);
      return;
    }
    lines.push(`export const options${i}: Json<P_${panel.type}.Options> = ${JSON.stringify(panel.options ?? {})};`);
    if (types.fieldConfig && panel.fieldConfig?.defaults?.custom !== undefined) lines.push(`export const custom${i}: Json<P_${panel.type}.FieldConfig> = ${JSON.stringify(panel.fieldConfig.defaults.custom)};`);
  });
  return lines.join('\n');
}

/** tsc's diagnostics for the source, as a file of this project (so that @grafana/schema resolves as in the repo). */
function typeErrors(source: string): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(join(PROJECT_ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
  const file = join(PROJECT_ROOT, 'src', 'evidence', 'dashboard', '__grafana_schema_check__.ts');
  const host = ts.createCompilerHost(config.options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, ...rest) => (name === file ? ts.createSourceFile(name, source, version) : getSourceFile(name, version, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram({ rootNames: [file], options: { ...config.options, noEmit: true, noUnusedLocals: false }, host });
  return [...program.getSyntacticDiagnostics(), ...program.getSemanticDiagnostics()].map((d) => {
    const where = d.file && d.start !== undefined ? `${d.file.fileName.endsWith('__grafana_schema_check__.ts') ? 'check' : d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ` : '';
    return `${where}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

describe("the dashboard file in Grafana's dashboard model (@grafana/schema)", () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Record<string, unknown>;

  it('type-checks as Grafana\'s Dashboard, Panel and each panel type\'s options and field config', () => {
    expect(typeErrors(checkSource(dashboard))).toEqual([]);
  }, 120_000);

  it('would fail on a field Grafana does not know, a wrong type or an enum value it does not have (the check can fail)', () => {
    const broken = structuredClone(dashboard) as { panels: Record<string, unknown>[]; schemaVersion: unknown };
    broken.schemaVersion = '42';
    broken.panels[0]!.gridPos = { h: 4, w: 3, x: 0, y: 'top' };
    (broken.panels[0]!.fieldConfig as { defaults: { thresholds: { mode: string } } }).defaults.thresholds.mode = 'relative-ish';
    broken.panels[1]!.colour = 'red';
    const errors = typeErrors(checkSource(broken)).join('\n');
    // schemaVersion and gridPos.y: strings where Grafana has numbers.
    expect(errors.match(/Type 'string' is not assignable to type 'number'/g)?.length).toBeGreaterThanOrEqual(2);
    expect(errors).toMatch(/relative-ish/);
    expect(errors).toMatch(/colour/);
  }, 120_000);

  it('carries the import wrapper and the datasource variable, so it imports as is', () => {
    expect(dashboard.uid).toBe('dora-evidence');
    expect(dashboard.__inputs).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' })]);
    const variables = (dashboard.templating as { list: { name: string; type: string; query: unknown }[] }).list;
    expect(variables[0]).toMatchObject({ name: 'datasource', type: 'datasource', query: 'prometheus' });
    // Every panel that queries does so through the variable, never through a datasource uid of one installation.
    for (const panel of dashboard.panels as { datasource?: unknown; targets?: { datasource: unknown }[] }[]) {
      for (const target of panel.targets ?? []) expect(target.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
  });
});
