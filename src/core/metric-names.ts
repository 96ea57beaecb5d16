// Prometheus' naming rules for a metric family, as `promtool check metrics` applies them (its linter is
// client_golang's promlint): help text, `_total` on counters and only on counters, the suffixes and labels
// histograms and summaries reserve, base units spelt out, no type in the name, no colons, snake_case. Pure, so
// every registry can refuse a bad name when the metric is created, and tests can check an exposition without
// promtool. Messages are promlint's own, so a failure here reads like promtool's.

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface MetricFamilyShape {
  name: string;
  type: MetricType;
  help: string;
  /** The label names the family's samples carry (without histogram `le` / summary `quantile`, unless misused). */
  labelNames: readonly string[];
}

const BASE_UNITS: Record<string, string> = {
  amperes: 'amperes',
  bytes: 'bytes',
  celsius: 'celsius',
  grams: 'grams',
  joules: 'joules',
  kelvin: 'kelvin',
  meters: 'meters',
  metres: 'metres',
  seconds: 'seconds',
  volts: 'volts',
  minutes: 'seconds',
  hours: 'seconds',
  days: 'seconds',
  weeks: 'seconds',
  kelvins: 'kelvin',
  fahrenheit: 'celsius',
  rankine: 'celsius',
  inches: 'meters',
  yards: 'meters',
  miles: 'meters',
  bits: 'bytes',
  calories: 'joules',
  pounds: 'grams',
  ounces: 'grams',
};

const UNIT_PREFIXES = ['pico', 'nano', 'micro', 'milli', 'centi', 'deci', 'deca', 'hecto', 'kilo', 'kibi', 'mega', 'mibi', 'giga', 'gibi', 'tera', 'tebi', 'peta', 'pebi'];
const UNIT_ABBREVIATIONS = ['s', 'ms', 'us', 'ns', 'sec', 'b', 'kb', 'mb', 'gb', 'tb', 'pb', 'm', 'h', 'd'];
const TYPE_NAMES = ['counter', 'gauge', 'histogram', 'summary', 'gaugehistogram'];
const CAMEL_CASE = /[a-z][A-Z]/;

/** The first unit word in the name and the base unit it should be, if the name has one. */
function unitOf(name: string): { unit: string; base: string } | undefined {
  for (const word of name.split('_')) {
    const base = BASE_UNITS[word];
    if (base !== undefined) return { unit: word, base };
    for (const prefix of UNIT_PREFIXES) {
      const rest = word.startsWith(prefix) ? BASE_UNITS[word.slice(prefix.length)] : undefined;
      if (rest !== undefined) return { unit: word, base: rest };
    }
  }
  return undefined;
}

const hasWord = (name: string, word: string): boolean => name.includes(`_${word}_`) || name.endsWith(`_${word}`);

/** What promtool would say about this family; empty when it passes. */
export function metricNameProblems(family: MetricFamilyShape): string[] {
  const { name, type, help, labelNames } = family;
  const problems: string[] = [];
  if (help.trim() === '') problems.push('no help text');

  const unit = unitOf(name);
  if (unit && unit.unit !== unit.base) problems.push(`use base unit "${unit.base}" instead of "${unit.unit}"`);

  const total = name.endsWith('_total');
  if (type === 'counter' && !total) problems.push('counter metrics should have "_total" suffix');
  if (type !== 'counter' && type !== 'untyped' && total) problems.push('non-counter metrics should not have "_total" suffix');

  if (type !== 'untyped') {
    if (type !== 'histogram' && name.endsWith('_bucket')) problems.push('non-histogram metrics should not have "_bucket" suffix');
    if (type !== 'histogram' && type !== 'summary' && name.endsWith('_count')) problems.push('non-histogram and non-summary metrics should not have "_count" suffix');
    if (type !== 'histogram' && type !== 'summary' && name.endsWith('_sum')) problems.push('non-histogram and non-summary metrics should not have "_sum" suffix');
    if (type !== 'histogram' && labelNames.includes('le')) problems.push('non-histogram metrics should not have "le" label');
    if (type !== 'summary' && labelNames.includes('quantile')) problems.push('non-summary metrics should not have "quantile" label');
  }

  const lower = name.toLowerCase();
  for (const typeName of TYPE_NAMES) if (hasWord(lower, typeName)) problems.push(`metric name should not include type '${typeName}'`);
  if (name.includes(':')) problems.push("metric names should not contain ':'");
  if (CAMEL_CASE.test(name)) problems.push("metric names should be written in 'snake_case' not 'camelCase'");
  for (const label of labelNames) if (CAMEL_CASE.test(label)) problems.push("label names should be written in 'snake_case' not 'camelCase'");
  if (UNIT_ABBREVIATIONS.some((abbreviation) => hasWord(lower, abbreviation))) problems.push('metric names should not contain abbreviated units');
  return problems;
}

const SAMPLE_SUFFIXES: Record<MetricType, string[]> = {
  counter: [''],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};
const RESERVED_BY_TYPE: Partial<Record<MetricType, string>> = { histogram: 'le', summary: 'quantile' };

/**
 * The metric families of a Prometheus text exposition (version 0.0.4): name, type and help from the `# TYPE` and
 * `# HELP` lines, label names from the samples. Enough to apply the naming rules to what an endpoint serves;
 * malformed lines are reported, not guessed at.
 */
export function expositionFamilies(text: string): { families: MetricFamilyShape[]; errors: string[] } {
  const families = new Map<string, { name: string; type: MetricType; help: string; labels: Set<string> }>();
  const errors: string[] = [];
  const family = (name: string) => {
    let entry = families.get(name);
    if (!entry) families.set(name, (entry = { name, type: 'untyped', help: '', labels: new Set() }));
    return entry;
  };
  const owner = (sample: string) => {
    for (const entry of families.values()) if (SAMPLE_SUFFIXES[entry.type].some((suffix) => `${entry.name}${suffix}` === sample)) return entry;
    return family(sample);
  };
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const meta = /^#\s+(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s+(.*))?$/.exec(line);
    if (meta) {
      const [, keyword, name, rest = ''] = meta;
      if (keyword === 'HELP') family(name!).help = rest;
      else if (['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) family(name!).type = rest as MetricType;
      else errors.push(`line ${i + 1}: unknown metric type ${JSON.stringify(rest)}`);
      return;
    }
    if (line.startsWith('#')) return;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+\S+(\s+\S+)?$/.exec(line);
    if (!sample) {
      errors.push(`line ${i + 1}: not a sample: ${JSON.stringify(line.slice(0, 80))}`);
      return;
    }
    const entry = owner(sample[1]!);
    const labels = sample[3] ?? '';
    const labelPattern = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;
    let at = 0;
    while (at < labels.length) {
      labelPattern.lastIndex = at;
      const label = labelPattern.exec(labels);
      if (!label) {
        errors.push(`line ${i + 1}: malformed labels ${JSON.stringify(labels.slice(at, at + 40))}`);
        return;
      }
      if (label[1] !== RESERVED_BY_TYPE[entry.type]) entry.labels.add(label[1]!);
      at = labelPattern.lastIndex;
    }
  });
  return { families: [...families.values()].map(({ labels, ...rest }) => ({ ...rest, labelNames: [...labels] })), errors };
}

/** Every naming problem of an exposition, one line per problem as promtool prints them (`name problem`). */
export function expositionProblems(text: string): string[] {
  const { families, errors } = expositionFamilies(text);
  return [...errors, ...families.flatMap((f) => metricNameProblems(f).map((problem) => `${f.name} ${problem}`))];
}
