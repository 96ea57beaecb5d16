// The subset of Go's text/template that Prometheus alert labels and annotations use: `{{ $labels.pod }}`,
// `{{ .Labels.pod }}`, `{{ $value }}`, `{{ $externalLabels.x }}`, pipelines into humanize, printf, toUpper, …,
// and `{{-`/`-}}` trimming. Control actions (if, range, with, define) and unknown functions are refused when the
// rule loads, naming them, rather than rendered wrongly at 3 a.m.

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

export interface TemplateData {
  labels: Readonly<Record<string, string>>;
  externalLabels: Readonly<Record<string, string>>;
  externalURL: string;
  value: number;
}

type Operand = { kind: 'var'; name: string; path: string[] } | { kind: 'dot'; path: string[] } | { kind: 'string'; value: string } | { kind: 'number'; value: number };
interface Command {
  func?: string;
  args: Operand[];
}
type Part = { kind: 'text'; text: string } | { kind: 'action'; pipeline: Command[] };

type Fn = (...args: unknown[]) => string;

const FUNCS: Record<string, Fn> = {
  humanize: (v) => humanize(toFloat(v, 'humanize')),
  humanize1024: (v) => humanize1024(toFloat(v, 'humanize1024')),
  humanizePercentage: (v) => `${formatG(toFloat(v, 'humanizePercentage') * 100, 4)}%`,
  toUpper: (v) => String(v).toUpperCase(),
  toLower: (v) => String(v).toLowerCase(),
  title: (v) => String(v).replace(/\b\w/g, (c) => c.toUpperCase()),
  printf: (format, ...args) => printf(String(format), args),
};

export const SUPPORTED_TEMPLATE_FUNCTIONS = Object.keys(FUNCS);

const VARIABLES = new Set(['$labels', '$value', '$externalLabels', '$externalURL']);

/** Parse a template, refusing what this subset lacks. */
export function parseTemplate(text: string): Part[] {
  const parts: Part[] = [];
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf('{{', at);
    if (open < 0) {
      parts.push({ kind: 'text', text: text.slice(at) });
      break;
    }
    let literal = text.slice(at, open);
    const trimLeft = text.startsWith('{{- ', open);
    if (trimLeft) literal = literal.replace(/\s+$/, '');
    if (literal) parts.push({ kind: 'text', text: literal });
    const close = text.indexOf('}}', open + 2);
    if (close < 0) throw new TemplateError(`unclosed action at offset ${open}`);
    let inner = text.slice(open + 2, close);
    const trimRight = inner.endsWith(' -');
    if (trimLeft) inner = inner.slice(2);
    if (trimRight) inner = inner.slice(0, -2);
    at = close + 2;
    if (trimRight) while (at < text.length && /\s/.test(text[at]!)) at++;
    inner = inner.trim();
    if (inner.startsWith('/*')) continue;
    parts.push({ kind: 'action', pipeline: parsePipeline(inner) });
  }
  return parts;
}

function parsePipeline(source: string): Command[] {
  const keyword = /^(if|else|end|range|with|define|template|block|break|continue)\b/.exec(source);
  if (keyword) throw new TemplateError(`the action {{${keyword[1]}}} is not supported (supported: variables, fields, and the functions ${SUPPORTED_TEMPLATE_FUNCTIONS.join(', ')})`);
  if (/^\$\w+\s*:?=/.test(source)) throw new TemplateError('declaring template variables is not supported');
  const tokens = tokenize(source);
  const commands: Command[] = [];
  let current: string[] = [];
  for (const token of [...tokens, '|']) {
    if (token !== '|') {
      current.push(token);
      continue;
    }
    if (current.length === 0) throw new TemplateError(`missing command in pipeline ${JSON.stringify(source)}`);
    const [head, ...rest] = current;
    if (/^[a-zA-Z_]\w*$/.test(head!)) {
      if (!(head! in FUNCS)) throw new TemplateError(`function ${JSON.stringify(head)} not defined (supported: ${SUPPORTED_TEMPLATE_FUNCTIONS.join(', ')})`);
      commands.push({ func: head!, args: rest.map(operand) });
    } else {
      if (rest.length > 0) throw new TemplateError(`can't give arguments to a non-function ${head}`);
      commands.push({ args: [operand(head!)] });
    }
    current = [];
  }
  return commands;
}

function tokenize(source: string): string[] {
  const tokens: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|\||\(|\)|[^\s|()]+)/gy;
  let match: RegExpExecArray | null;
  while ((match = re.exec(source)) !== null) {
    if (match[1] === '(' || match[1] === ')') throw new TemplateError('parenthesised pipelines are not supported');
    tokens.push(match[1]!);
    if (re.lastIndex >= source.length) break;
  }
  return tokens;
}

function operand(token: string): Operand {
  if (token.startsWith('"')) return { kind: 'string', value: JSON.parse(token) as string };
  if (token.startsWith('`')) return { kind: 'string', value: token.slice(1, -1) };
  if (/^[-+]?\d/.test(token)) return { kind: 'number', value: Number(token) };
  if (token.startsWith('$')) {
    const [name, ...path] = token.split('.');
    if (!VARIABLES.has(name!)) throw new TemplateError(`undefined variable ${JSON.stringify(name)} (have ${[...VARIABLES].join(', ')})`);
    return { kind: 'var', name: name!, path };
  }
  if (token.startsWith('.')) {
    const path = token === '.' ? [] : token.slice(1).split('.');
    if (path.length > 0 && !['Labels', 'Value', 'ExternalLabels', 'ExternalURL'].includes(path[0]!)) throw new TemplateError(`can't evaluate field ${path[0]} (have .Labels, .Value, .ExternalLabels, .ExternalURL)`);
    return { kind: 'dot', path };
  }
  throw new TemplateError(`unexpected ${JSON.stringify(token)} in an action`);
}

export function expandTemplate(text: string, data: TemplateData): string {
  return renderTemplate(parseTemplate(text), data);
}

export function renderTemplate(parts: Part[], data: TemplateData): string {
  let out = '';
  for (const part of parts) {
    if (part.kind === 'text') {
      out += part.text;
      continue;
    }
    let value: unknown;
    part.pipeline.forEach((command, index) => {
      const args = command.args.map((arg) => resolve(arg, data));
      if (index > 0) args.push(value);
      value = command.func ? FUNCS[command.func]!(...args) : args[0];
    });
    out += display(value);
  }
  return out;
}

function resolve(arg: Operand, data: TemplateData): unknown {
  if (arg.kind === 'string' || arg.kind === 'number') return arg.value;
  const root: Record<string, unknown> = { Labels: data.labels, Value: data.value, ExternalLabels: data.externalLabels, ExternalURL: data.externalURL };
  let value: unknown;
  let path: string[];
  if (arg.kind === 'var') {
    value = { $labels: data.labels, $value: data.value, $externalLabels: data.externalLabels, $externalURL: data.externalURL }[arg.name];
    path = arg.path;
  } else {
    value = root;
    path = arg.path;
  }
  for (const key of path) {
    // Prometheus renders with missingkey=zero: an absent label is the empty string.
    value = typeof value === 'object' && value !== null ? ((value as Record<string, unknown>)[key] ?? '') : '';
  }
  return value;
}

function display(value: unknown): string {
  if (typeof value === 'number') return formatFloat(value);
  if (typeof value === 'object' && value !== null) return `map[${Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}:${String(v)}`).join(' ')}]`;
  return String(value ?? '');
}

function toFloat(value: unknown, fn: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const parsed = Number(value.trim());
    if (value.trim() !== '' && !Number.isNaN(parsed)) return parsed;
  }
  throw new TemplateError(`error calling ${fn}: can't convert ${JSON.stringify(value)} to float`);
}

/** Go's %v for a float64 (strconv 'g', shortest): exponent form below 1e-4 or from 1e6 on, as `1e+06`. */
export function formatFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const [mantissa, exponentText] = v.toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  return String(v);
}

/** Go's %.Ng: N significant digits, exponent form when the exponent is < -4 or ≥ N, trailing zeros dropped. */
export function formatG(v: number, precision: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (v === 0) return '0';
  const [mantissa, exponentText] = v.toExponential(precision - 1).split('e');
  const exponent = Number(exponentText);
  const strip = (digits: string) => (digits.includes('.') ? digits.replace(/0+$/, '').replace(/\.$/, '') : digits);
  if (exponent < -4 || exponent >= precision) return `${strip(mantissa!)}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  return strip(v.toFixed(Math.max(0, precision - 1 - exponent)));
}

function humanize(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return formatG(v, 4);
  if (Math.abs(v) >= 1) {
    let prefix = '';
    for (const p of ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y']) {
      if (Math.abs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return `${formatG(v, 4)}${prefix}`;
  }
  let prefix = '';
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${formatG(v, 4)}${prefix}`;
}

function humanize1024(v: number): string {
  if (Math.abs(v) <= 1 || !Number.isFinite(v)) return formatG(v, 4);
  let prefix = '';
  for (const p of ['ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi']) {
    if (Math.abs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return `${formatG(v, 4)}${prefix}`;
}

/** Go's printf for the verbs alert templates use: %s %v %d %f %.Nf %g %q %%. */
function printf(format: string, args: unknown[]): string {
  let index = 0;
  return format.replace(/%(\.(\d+))?([svdfgq%])/g, (whole, _precisionGroup, precision: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (index >= args.length) return `%!${verb}(MISSING)`;
    const arg = args[index++];
    switch (verb) {
      case 's':
      case 'v':
        return display(arg);
      case 'q':
        return JSON.stringify(display(arg));
      case 'd':
        return typeof arg === 'number' && Number.isInteger(arg) ? String(arg) : `%!d(${typeof arg === 'number' ? 'float64' : 'string'}=${display(arg)})`;
      case 'f':
        return typeof arg === 'number' ? arg.toFixed(precision === undefined ? 6 : Number(precision)) : `%!f(string=${display(arg)})`;
      case 'g':
        return typeof arg === 'number' ? (precision === undefined ? formatFloat(arg) : formatG(arg, Number(precision))) : `%!g(string=${display(arg)})`;
      default:
        return whole;
    }
  });
}
