// Prometheus text exposition format 0.0.4 (what every `/metrics` here serves) into samples. A malformed line is an
// error naming its line: a scrape that half-parses would store a wrong picture of the target.
import { ExpositionParseError } from './errors.ts';
import { METRIC_NAME, type Labels } from './labels.ts';

export interface ExposedSample {
  labels: Labels;
  value: number;
  /** Milliseconds since the epoch, when the exposition carries one (rare; the scrape time is used otherwise). */
  timestampMs?: number;
  /**
   * The series only ever counts up from zero (a counter, or a histogram's or summary's `_bucket`, `_count`,
   * `_sum`), as the family's `# TYPE` line says. Such a series starts at zero when it is created, which is what
   * lets the store give it a zero start when it appears between two scrapes.
   */
  cumulative?: boolean;
}

const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*/;

export function parseExposition(text: string): ExposedSample[] {
  const samples: ExposedSample[] = [];
  const types = new Map<string, string>();
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const type = /^#\s+TYPE\s+(\S+)\s+(\S+)/.exec(line);
      if (type) types.set(type[1]!, type[2]!);
      continue;
    }
    const sample = parseSampleLine(line, index + 1);
    if (isCumulative(sample.labels[METRIC_NAME]!, types)) sample.cumulative = true;
    samples.push(sample);
  }
  return samples;
}

/** Whether a sample of this name belongs to a counter-like family among the `# TYPE` lines seen so far. */
function isCumulative(name: string, types: ReadonlyMap<string, string>): boolean {
  // prom-client names a counter's family with its `_total`; the exposition format allows it without.
  if (types.get(name) === 'counter') return true;
  const suffix = /_(total|bucket|count|sum)$/.exec(name)?.[1];
  if (!suffix) return false;
  const family = types.get(name.slice(0, -suffix.length - 1));
  if (family === 'counter') return suffix === 'total';
  if (family === 'histogram') return suffix !== 'total';
  if (family === 'summary') return suffix === 'count' || suffix === 'sum';
  return false;
}

function parseSampleLine(line: string, lineNumber: number): ExposedSample {
  const fail = (problem: string): never => {
    throw new ExpositionParseError(lineNumber, problem);
  };
  const name = METRIC_NAME_RE.exec(line)?.[0] ?? fail(`expected a metric name at the start of ${JSON.stringify(line.slice(0, 40))}`);
  const labels: Record<string, string> = { [METRIC_NAME]: name };
  let at = name.length;
  if (line[at] === '{') {
    at++;
    for (;;) {
      at = skipSpaces(line, at);
      if (line[at] === '}') break;
      const labelName = LABEL_NAME_RE.exec(line.slice(at))?.[0] ?? fail(`expected a label name at column ${at + 1}`);
      at = skipSpaces(line, at + labelName.length);
      if (line[at] !== '=') fail(`expected '=' after label ${labelName} at column ${at + 1}`);
      at = skipSpaces(line, at + 1);
      if (line[at] !== '"') fail(`expected '"' to open the value of label ${labelName} at column ${at + 1}`);
      let value = '';
      at++;
      for (;;) {
        const char = line[at];
        if (char === undefined) fail(`unterminated value of label ${labelName}`);
        if (char === '"') break;
        if (char === '\\') {
          const escaped = line[at + 1];
          if (escaped === 'n') value += '\n';
          else if (escaped === '\\' || escaped === '"') value += escaped;
          else fail(`invalid escape \\${escaped ?? ''} in the value of label ${labelName}`);
          at += 2;
          continue;
        }
        value += char;
        at++;
      }
      if (labelName in labels) fail(`label ${labelName} appears twice`);
      labels[labelName] = value;
      at = skipSpaces(line, at + 1);
      if (line[at] === ',') {
        at++;
        continue;
      }
      if (line[at] !== '}') fail(`expected ',' or '}' at column ${at + 1}`);
      break;
    }
    at++;
  }
  const rest = line.slice(at).trim().split(/\s+/);
  if (rest.length < 1 || rest[0] === '' || rest.length > 2) fail('expected a value and an optional timestamp after the labels');
  const value = parseValue(rest[0]!) ?? fail(`invalid value ${JSON.stringify(rest[0])}`);
  const sample: ExposedSample = { labels, value };
  if (rest.length === 2) {
    if (!/^-?\d+$/.test(rest[1]!)) fail(`invalid timestamp ${JSON.stringify(rest[1])}`);
    sample.timestampMs = Number(rest[1]);
  }
  return sample;
}

function skipSpaces(line: string, at: number): number {
  while (line[at] === ' ' || line[at] === '\t') at++;
  return at;
}

/** Go's strconv.ParseFloat as the exposition uses it: decimal, exponent, NaN, ±Inf. */
export function parseValue(text: string): number | undefined {
  const lower = text.toLowerCase();
  if (lower === 'nan') return NaN;
  if (lower === '+inf' || lower === 'inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return undefined;
  return Number(text);
}
