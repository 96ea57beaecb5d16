// The subset of Go's text/template (and html/template's escaping) that notification templates need, with
// Alertmanager's template functions. Everything outside the subset is refused when the template is parsed,
// naming the construct, so a config either renders as a real Alertmanager renders it or does not load.
//
// Supported: text, {{/* comments */}}, trim markers {{- -}}, output of pipelines, if / else if / else, range
// (with else), with (with else), fields and methods (`.Labels.pod`, `.Alerts.Firing`, `.StartsAt.Format
// "…"`), `$` for the root, string / number / bool literals, parentheses, `|` pipes, and the functions listed
// in FUNCTIONS. Not supported: variables ($x := …), define / template / block, break / continue.
import { escapeHtml } from '../../core/html.ts';
import { TemplateError } from './errors.ts';

// ---- values the templates see -------------------------------------------------------------------------

/** Printed as "<no value>" and false in conditions, as Go prints a missing map key. */
export const NO_VALUE = Symbol('no value');

/** A string marked safe for HTML output (Alertmanager's `safeHtml`). */
export class SafeHtml {
  constructor(readonly html: string) {}
}

/** Alertmanager's template.KV: a label or annotation map with its sorting helpers. */
export class KV {
  constructor(readonly entries: Readonly<Record<string, string>>) {}
  /** template.Pairs: a list with its own Names and Values methods. */
  SortedPairs(): Array<{ Name: string; Value: string }> & { Names(): string[]; Values(): string[] } {
    const pairs = Object.keys(this.entries)
      .sort()
      .map((name) => ({ Name: name, Value: this.entries[name] as string }));
    return Object.assign(pairs, { Names: () => pairs.map((p) => p.Name), Values: () => pairs.map((p) => p.Value) });
  }
  Names(): string[] {
    return Object.keys(this.entries).sort();
  }
  Values(): string[] {
    return this.Names().map((name) => this.entries[name] as string);
  }
  Remove(keys: unknown): KV {
    const drop = new Set(Array.isArray(keys) ? keys.map(String) : [String(keys)]);
    return new KV(Object.fromEntries(Object.entries(this.entries).filter(([name]) => !drop.has(name))));
  }
}

/** Go's time.Time as far as templates use it: String() and Format(layout), always in UTC. */
export class GoTime {
  constructor(readonly ms: number) {}
  Format(layout: unknown): string {
    return formatGoTime(this.ms, String(layout));
  }
  String(): string {
    const base = formatGoTime(this.ms, '2006-01-02 15:04:05');
    const millis = this.ms % 1000;
    const fraction = millis === 0 ? '' : `.${String(millis).padStart(3, '0').replace(/0+$/, '')}`;
    return `${base}${fraction} +0000 UTC`;
  }
  IsZero(): boolean {
    return this.ms <= Date.parse('0001-01-01T00:00:00Z');
  }
  Unix(): number {
    return Math.floor(this.ms / 1000);
  }
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

// Longest first, as Go's layout scanner prefers the longest standard chunk.
const LAYOUT_TOKENS = [
  '2006', 'January', 'Monday', 'Z07:00', 'Z0700', '-07:00', '-0700', '.000000000', '.999999999', '.000000', '.999999',
  '.000', '.999', 'Jan', 'Mon', 'MST', '15', '01', '02', '03', '04', '05', '06', '_2', 'PM', 'pm', '1', '2', '3', '4', '5',
] as const;

export function formatGoTime(ms: number, layout: string): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const hour12 = d.getUTCHours() % 12 === 0 ? 12 : d.getUTCHours() % 12;
  const fraction = (digits: number, trim: boolean): string => {
    const text = String(d.getUTCMilliseconds()).padStart(3, '0').padEnd(digits, '0').slice(0, digits);
    if (!trim) return `.${text}`;
    const trimmed = text.replace(/0+$/, '');
    return trimmed === '' ? '' : `.${trimmed}`;
  };
  const values: Record<(typeof LAYOUT_TOKENS)[number], () => string> = {
    '2006': () => String(d.getUTCFullYear()),
    January: () => MONTHS[d.getUTCMonth()] as string,
    Monday: () => DAYS[d.getUTCDay()] as string,
    'Z07:00': () => 'Z',
    Z0700: () => 'Z',
    '-07:00': () => '+00:00',
    '-0700': () => '+0000',
    '.000000000': () => fraction(9, false),
    '.999999999': () => fraction(9, true),
    '.000000': () => fraction(6, false),
    '.999999': () => fraction(6, true),
    '.000': () => fraction(3, false),
    '.999': () => fraction(3, true),
    Jan: () => (MONTHS[d.getUTCMonth()] as string).slice(0, 3),
    Mon: () => (DAYS[d.getUTCDay()] as string).slice(0, 3),
    MST: () => 'UTC',
    '15': () => pad(d.getUTCHours()),
    '01': () => pad(d.getUTCMonth() + 1),
    '02': () => pad(d.getUTCDate()),
    '03': () => pad(hour12),
    '04': () => pad(d.getUTCMinutes()),
    '05': () => pad(d.getUTCSeconds()),
    '06': () => pad(d.getUTCFullYear() % 100),
    _2: () => String(d.getUTCDate()).padStart(2, ' '),
    PM: () => (d.getUTCHours() >= 12 ? 'PM' : 'AM'),
    pm: () => (d.getUTCHours() >= 12 ? 'pm' : 'am'),
    '1': () => String(d.getUTCMonth() + 1),
    '2': () => String(d.getUTCDate()),
    '3': () => String(hour12),
    '4': () => String(d.getUTCMinutes()),
    '5': () => String(d.getUTCSeconds()),
  };
  let out = '';
  let i = 0;
  outer: while (i < layout.length) {
    for (const token of LAYOUT_TOKENS) {
      if (layout.startsWith(token, i)) {
        out += values[token]();
        i += token.length;
        continue outer;
      }
    }
    out += layout[i];
    i++;
  }
  return out;
}

// ---- functions --------------------------------------------------------------------------------------------

type Fn = (...args: unknown[]) => unknown;

function lengthOf(value: unknown): number {
  if (typeof value === 'string' || Array.isArray(value)) return value.length;
  if (value instanceof KV) return Object.keys(value.entries).length;
  if (value && typeof value === 'object') return Object.keys(value).length;
  throw new Error(`len of ${printValue(value)}`);
}

function compare(a: unknown, b: unknown): number {
  const x = a instanceof GoTime ? a.ms : a;
  const y = b instanceof GoTime ? b.ms : b;
  if (typeof x !== typeof y || (typeof x !== 'number' && typeof x !== 'string')) {
    throw new Error(`incompatible types for comparison: ${printValue(a)} and ${printValue(b)}`);
  }
  return (x as number | string) < (y as number | string) ? -1 : (x as number | string) > (y as number | string) ? 1 : 0;
}

function goRegex(pattern: unknown): RegExp {
  return new RegExp(String(pattern), 'u');
}

const FUNCTIONS: Readonly<Record<string, Fn>> = {
  // text/template builtins
  and: (...args) => args.find((a) => !truthy(a)) ?? args[args.length - 1],
  or: (...args) => args.find((a) => truthy(a)) ?? args[args.length - 1],
  not: (a) => !truthy(a),
  len: (a) => lengthOf(a),
  index: (collection, ...keys) => {
    let value = collection;
    for (const key of keys) {
      if (Array.isArray(value)) value = value[Number(key)] ?? NO_VALUE;
      else if (value instanceof KV) value = value.entries[String(key)] ?? NO_VALUE;
      else if (value && typeof value === 'object') value = (value as Record<string, unknown>)[String(key)] ?? NO_VALUE;
      else value = NO_VALUE;
    }
    return value;
  },
  eq: (a, ...rest) => rest.some((b) => compare(a, b) === 0),
  ne: (a, b) => compare(a, b) !== 0,
  lt: (a, b) => compare(a, b) < 0,
  le: (a, b) => compare(a, b) <= 0,
  gt: (a, b) => compare(a, b) > 0,
  ge: (a, b) => compare(a, b) >= 0,
  print: (...args) => args.map(printValue).join(''),
  printf: (format, ...args) => sprintf(String(format), args),
  html: (a) => escapeHtml(printValue(a)),
  urlquery: (...args) => encodeURIComponent(args.map(printValue).join('')).replace(/%20/g, '+'),
  // Alertmanager's template.DefaultFuncs
  toUpper: (a) => printValue(a).toUpperCase(),
  toLower: (a) => printValue(a).toLowerCase(),
  title: (a) => printValue(a).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, pre: string, c: string) => pre + c.toUpperCase()),
  trimSpace: (a) => printValue(a).trim(),
  join: (sep, list) => (Array.isArray(list) ? list.map(printValue).join(String(sep)) : printValue(list)),
  match: (pattern, text) => goRegex(pattern).test(String(text)),
  reReplaceAll: (pattern, repl, text) => String(text).replace(new RegExp(String(pattern), 'gu'), String(repl).replace(/\$\{?(\w+)\}?/g, '$<$1>').replace(/\$<(\d+)>/g, '$$$1')),
  safeHtml: (a) => new SafeHtml(printValue(a)),
  stringSlice: (...args) => args.map(printValue),
};

function sprintf(format: string, args: unknown[]): string {
  let next = 0;
  return format.replace(/%([-+ 0#]*\d*)?([svdq%])/g, (_m, _flags: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    const arg = args[next++];
    if (verb === 'q') return JSON.stringify(printValue(arg));
    if (verb === 'd') return String(Math.trunc(Number(arg)));
    return printValue(arg);
  });
}

// ---- printing and truth ----------------------------------------------------------------------------------

export function printValue(value: unknown): string {
  if (value === NO_VALUE) return '<no value>';
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof SafeHtml) return value.html;
  if (value instanceof GoTime) return value.String();
  if (value instanceof KV) return `map[${value.SortedPairs().map((p) => `${p.Name}:${p.Value}`).join(' ')}]`;
  if (Array.isArray(value)) return `[${value.map(printValue).join(' ')}]`;
  return String(value);
}

export function truthy(value: unknown): boolean {
  if (value === NO_VALUE || value === null || value === undefined || value === false) return false;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string' || Array.isArray(value)) return value.length > 0;
  if (value instanceof KV) return Object.keys(value.entries).length > 0;
  return true;
}

// ---- lexing -------------------------------------------------------------------------------------------------

type Token =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'ident'; value: string }
  | { kind: 'field'; root: 'dot' | '$'; path: string[] }
  | { kind: 'pipe' }
  | { kind: 'lparen' }
  | { kind: 'rparen' };

function lexAction(text: string, fail: (problem: string) => never): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fieldPath = (): string[] => {
    const path: string[] = [];
    while (text[i] === '.') {
      const match = /^\.([A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(i));
      if (!match) break;
      path.push(match[1] as string);
      i += match[0].length;
    }
    return path;
  };
  while (i < text.length) {
    const char = text[i] as string;
    if (/\s/.test(char)) {
      i++;
    } else if (char === '|') {
      tokens.push({ kind: 'pipe' });
      i++;
    } else if (char === '(') {
      tokens.push({ kind: 'lparen' });
      i++;
    } else if (char === ')') {
      tokens.push({ kind: 'rparen' });
      i++;
    } else if (char === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) fail('unterminated quoted string');
      try {
        tokens.push({ kind: 'string', value: JSON.parse(text.slice(i, j + 1)) as string });
      } catch {
        fail(`unsupported escape in ${text.slice(i, j + 1)}`);
      }
      i = j + 1;
    } else if (char === '`') {
      const end = text.indexOf('`', i + 1);
      if (end < 0) fail('unterminated raw string');
      tokens.push({ kind: 'string', value: text.slice(i + 1, end) });
      i = end + 1;
    } else if (char === '.') {
      if (/^\.[A-Za-z_]/.test(text.slice(i))) tokens.push({ kind: 'field', root: 'dot', path: fieldPath() });
      else {
        tokens.push({ kind: 'field', root: 'dot', path: [] });
        i++;
      }
    } else if (char === '$') {
      if (/^\$[A-Za-z_]/.test(text.slice(i))) fail('variables ($name) are not supported; use . or $ with fields');
      i++;
      tokens.push({ kind: 'field', root: '$', path: fieldPath() });
    } else if (/[-0-9]/.test(char)) {
      const match = /^-?\d+(\.\d+)?/.exec(text.slice(i));
      if (!match) fail(`unexpected ${JSON.stringify(char)}`);
      tokens.push({ kind: 'number', value: Number(match[0]) });
      i += match[0].length;
    } else if (/[A-Za-z_]/.test(char)) {
      const word = (/^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i)) as RegExpExecArray)[0];
      i += word.length;
      if (word === 'true' || word === 'false') tokens.push({ kind: 'bool', value: word === 'true' });
      else tokens.push({ kind: 'ident', value: word });
    } else if (char === ':' || char === '=') {
      fail('variable declarations (:= and =) are not supported');
    } else {
      fail(`unexpected ${JSON.stringify(char)}`);
    }
  }
  return tokens;
}

// ---- parsing ------------------------------------------------------------------------------------------------

type Operand =
  | { kind: 'literal'; value: unknown }
  | { kind: 'field'; root: 'dot' | '$'; path: string[] }
  | { kind: 'function'; name: string }
  | { kind: 'pipeline'; pipeline: Pipeline };
type Command = Operand[];
type Pipeline = Command[];

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'output'; pipeline: Pipeline }
  | { kind: 'if' | 'with' | 'range'; pipeline: Pipeline; body: Node[]; otherwise: Node[] };

function parsePipeline(tokens: Token[], fail: (problem: string) => never): Pipeline {
  let pos = 0;
  const pipeline = (closing: boolean): Pipeline => {
    const commands: Pipeline = [[]];
    while (pos < tokens.length) {
      const token = tokens[pos] as Token;
      if (token.kind === 'rparen') {
        if (!closing) fail('unexpected )');
        break;
      }
      pos++;
      const current = commands[commands.length - 1] as Command;
      switch (token.kind) {
        case 'pipe':
          if (current.length === 0) fail('missing command before |');
          commands.push([]);
          break;
        case 'lparen': {
          const inner = pipeline(true);
          if (tokens[pos]?.kind !== 'rparen') fail('missing )');
          pos++;
          current.push({ kind: 'pipeline', pipeline: inner });
          break;
        }
        case 'ident':
          if (!(token.value in FUNCTIONS)) {
            fail(`function ${JSON.stringify(token.value)} is not supported (supported: ${Object.keys(FUNCTIONS).join(', ')})`);
          }
          if (current.length > 0) fail(`function ${token.value} may only start a command; wrap it in parentheses`);
          current.push({ kind: 'function', name: token.value });
          break;
        case 'field':
          current.push({ kind: 'field', root: token.root, path: token.path });
          break;
        default:
          current.push({ kind: 'literal', value: token.value });
      }
    }
    if ((commands[commands.length - 1] as Command).length === 0) fail('missing command');
    return commands;
  };
  const result = pipeline(false);
  if (pos !== tokens.length) fail('unexpected )');
  return result;
}

interface Action {
  text: string;
  trimLeft: boolean;
  trimRight: boolean;
}

function splitSource(source: string, fail: (problem: string) => never): Array<string | Action> {
  const parts: Array<string | Action> = [];
  let i = 0;
  while (i < source.length) {
    const open = source.indexOf('{{', i);
    if (open < 0) {
      parts.push(source.slice(i));
      break;
    }
    parts.push(source.slice(i, open));
    let start = open + 2;
    const trimLeft = /^- /.test(source.slice(start)) || source.slice(start, start + 3) === '-\t' || source.slice(start, start + 3) === '-\n';
    if (trimLeft) start += 2;
    let close: number;
    if (source.slice(start).trimStart().startsWith('/*')) {
      const endComment = source.indexOf('*/', start);
      if (endComment < 0) fail('unclosed comment');
      close = source.indexOf('}}', endComment);
    } else {
      // Skip quoted strings so that "}}" inside a literal does not end the action.
      let j = start;
      close = -1;
      while (j < source.length) {
        const char = source[j];
        if (char === '"') {
          j++;
          while (j < source.length && source[j] !== '"') j += source[j] === '\\' ? 2 : 1;
        } else if (char === '`') {
          j = source.indexOf('`', j + 1);
          if (j < 0) break;
        } else if (source.startsWith('}}', j)) {
          close = j;
          break;
        }
        j++;
      }
    }
    if (close < 0) fail('unclosed action');
    let end = close;
    const trimRight = / -$/.test(source.slice(start, close)) || /[\t\n]-$/.test(source.slice(start, close));
    if (trimRight) end -= 2;
    parts.push({ text: source.slice(start, Math.max(start, end)), trimLeft, trimRight });
    i = close + 2;
  }
  // Apply trim markers to the neighbouring text.
  for (let k = 0; k < parts.length; k++) {
    const part = parts[k];
    if (part === undefined || typeof part === 'string') continue;
    const before = parts[k - 1];
    if (part.trimLeft && typeof before === 'string') parts[k - 1] = before.replace(/\s+$/, '');
    const after = parts[k + 1];
    if (part.trimRight && typeof after === 'string') parts[k + 1] = after.replace(/^\s+/, '');
  }
  return parts;
}

function parseNodes(parts: Array<string | Action>, fail: (problem: string) => never): Node[] {
  let pos = 0;
  // Returns the nodes up to a terminating keyword, and that keyword's action.
  const block = (): { nodes: Node[]; stop?: { keyword: string; rest: Token[] } } => {
    const nodes: Node[] = [];
    while (pos < parts.length) {
      const part = parts[pos++] as string | Action;
      if (typeof part === 'string') {
        if (part !== '') nodes.push({ kind: 'text', text: part });
        continue;
      }
      const text = part.text.trim();
      if (text.startsWith('/*')) {
        if (!text.endsWith('*/')) fail('unclosed comment');
        continue;
      }
      const tokens = lexAction(text, fail);
      const first = tokens[0];
      if (!first) fail('empty action {{ }}');
      if (first.kind === 'ident' && ['end', 'else'].includes(first.value)) return { nodes, stop: { keyword: first.value, rest: tokens.slice(1) } };
      if (first.kind === 'ident' && ['define', 'template', 'block'].includes(first.value)) {
        fail(`{{ ${first.value} }} is not supported: write the template inline`);
      }
      if (first.kind === 'ident' && ['break', 'continue'].includes(first.value)) fail(`{{ ${first.value} }} is not supported`);
      if (first.kind === 'ident' && ['if', 'with', 'range'].includes(first.value)) {
        nodes.push(control(first.value as 'if' | 'with' | 'range', tokens.slice(1)));
        continue;
      }
      nodes.push({ kind: 'output', pipeline: parsePipeline(tokens, fail) });
    }
    return { nodes };
  };
  const control = (kind: 'if' | 'with' | 'range', rest: Token[]): Node => {
    if (rest.length === 0) fail(`missing value for ${kind}`);
    const pipeline = parsePipeline(rest, fail);
    const body = block();
    if (!body.stop) fail(`unexpected end of template: {{ ${kind} }} has no {{ end }}`);
    let otherwise: Node[] = [];
    if (body.stop.keyword === 'else') {
      const next = body.stop.rest[0];
      if (next && next.kind === 'ident' && (next.value === 'if' || next.value === 'with')) {
        // "else if" / "else with" closes with the outer {{ end }}: parse it as a nested control.
        otherwise = [control(next.value, body.stop.rest.slice(1))];
      } else {
        if (body.stop.rest.length > 0) fail('unexpected tokens after else');
        const elseBlock = block();
        if (elseBlock.stop?.keyword !== 'end') fail(`{{ ${kind} }} … {{ else }} has no {{ end }}`);
        otherwise = elseBlock.nodes;
      }
    } else if (body.stop.rest.length > 0) {
      fail('unexpected tokens after end');
    }
    return { kind, pipeline, body: body.nodes, otherwise };
  };
  const top = block();
  if (top.stop) fail(`unexpected {{ ${top.stop.keyword} }}`);
  return top.nodes;
}

// ---- evaluation ----------------------------------------------------------------------------------------------

function field(receiver: unknown, name: string, args: unknown[], isLast: boolean): unknown {
  if (receiver === NO_VALUE || receiver === null || receiver === undefined) {
    throw new Error(`nil pointer evaluating .${name}`);
  }
  if (receiver instanceof KV) {
    const method = (KV.prototype as unknown as Record<string, unknown>)[name];
    if (typeof method === 'function') return (method as Fn).apply(receiver, isLast ? args : []);
    if (isLast && args.length > 0) throw new Error(`${name} is not a method but has arguments`);
    return receiver.entries[name] ?? NO_VALUE;
  }
  if (typeof receiver === 'object' && name in (receiver as object)) {
    const value = (receiver as Record<string, unknown>)[name];
    if (typeof value === 'function') return (value as Fn).apply(receiver, isLast ? args : []);
    if (isLast && args.length > 0) throw new Error(`${name} is not a method but has arguments`);
    return value;
  }
  throw new Error(`can't evaluate field ${name}`);
}

interface Scope {
  dot: unknown;
  root: unknown;
}

function evalOperand(op: Operand, scope: Scope): unknown {
  switch (op.kind) {
    case 'literal':
      return op.value;
    case 'pipeline':
      return evalPipeline(op.pipeline, scope);
    case 'function':
      return FUNCTIONS[op.name]?.();
    case 'field':
      return op.path.reduce((value, name) => field(value, name, [], true), op.root === '$' ? scope.root : scope.dot);
  }
}

function evalCommand(command: Command, scope: Scope, piped: unknown[]): unknown {
  const [head, ...rest] = command as [Operand, ...Operand[]];
  const args = [...rest.map((op) => evalOperand(op, scope)), ...piped];
  if (head.kind === 'function') return (FUNCTIONS[head.name] as Fn)(...args);
  if (args.length === 0) return evalOperand(head, scope);
  if (head.kind === 'field' && head.path.length > 0) {
    const receiver = head.path.slice(0, -1).reduce((value, name) => field(value, name, [], true), head.root === '$' ? scope.root : scope.dot);
    return field(receiver, head.path[head.path.length - 1] as string, args, true);
  }
  throw new Error(`can't give argument to non-function ${printValue(evalOperand(head, scope))}`);
}

function evalPipeline(pipeline: Pipeline, scope: Scope): unknown {
  let value: unknown;
  pipeline.forEach((command, index) => {
    value = evalCommand(command, scope, index === 0 ? [] : [value]);
  });
  return value;
}

function renderNodes(nodes: Node[], scope: Scope, html: boolean, out: string[]): void {
  for (const node of nodes) {
    if (node.kind === 'text') {
      out.push(node.text);
    } else if (node.kind === 'output') {
      const value = evalPipeline(node.pipeline, scope);
      out.push(html && !(value instanceof SafeHtml) ? escapeHtml(printValue(value)) : printValue(value));
    } else {
      const value = evalPipeline(node.pipeline, scope);
      if (node.kind === 'range') {
        const items = Array.isArray(value) ? value : value instanceof KV ? value.Values() : truthy(value) ? null : [];
        if (items === null) throw new Error(`range can't iterate over ${printValue(value)}`);
        if (items.length === 0) renderNodes(node.otherwise, scope, html, out);
        for (const item of items) renderNodes(node.body, { dot: item, root: scope.root }, html, out);
      } else if (truthy(value)) {
        renderNodes(node.body, node.kind === 'with' ? { dot: value, root: scope.root } : scope, html, out);
      } else {
        renderNodes(node.otherwise, scope, html, out);
      }
    }
  }
}

export interface Template {
  readonly source: string;
  render(data: unknown): string;
}

/** Parse once (refusing what we do not implement); render many times. `html` escapes every output. */
export function parseTemplate(source: string, mode: 'text' | 'html' = 'text'): Template {
  const fail = (problem: string): never => {
    throw new TemplateError(source, problem);
  };
  const nodes = parseNodes(splitSource(source, fail), fail);
  return {
    source,
    render(data: unknown): string {
      const out: string[] = [];
      try {
        renderNodes(nodes, { dot: data, root: data }, mode === 'html', out);
      } catch (error) {
        if (error instanceof TemplateError) throw error;
        throw new TemplateError(source, `executing: ${(error as Error).message}`);
      }
      return out.join('');
    },
  };
}
