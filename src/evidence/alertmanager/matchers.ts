// Alertmanager label matchers: `name="value"`, `name!=value`, `name=~"re"`, `name!~"re"`, as the `matchers:`
// field, silences and amtool write them, plus the older `match` / `match_re` maps. Regexes are anchored as
// Alertmanager anchors them (^(?:re)$).
import { MatcherError } from './errors.ts';
import type { Labels } from './labels.ts';
import { isValidLabelName } from './labels.ts';

export type MatchType = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  readonly name: string;
  readonly type: MatchType;
  readonly value: string;
  /** Tests a label value (a missing label is the empty string, as in Alertmanager). */
  readonly test: (value: string) => boolean;
}

export function makeMatcher(name: string, type: MatchType, value: string, source = `${name}${type}${value}`): Matcher {
  if (!isValidLabelName(name)) throw new MatcherError(source, `${JSON.stringify(name)} is not a valid label name`);
  if (type === '=' || type === '!=') {
    const equal = type === '=';
    return { name, type, value, test: (v) => (v === value) === equal };
  }
  const regex = compileRe2(value, source);
  const positive = type === '=~';
  return { name, type, value, test: (v) => regex.test(v) === positive };
}

// JavaScript regexes are a superset of RE2 in the places that matter here; refuse what RE2 would refuse so a
// rule that works on our Alertmanager also loads on a real one.
const NOT_RE2: ReadonlyArray<readonly [RegExp, string]> = [
  [/\(\?<?[=!]/, 'lookaround assertions are not RE2 syntax'],
  [/\\[1-9]|\\k</, 'backreferences are not RE2 syntax'],
];

function compileRe2(pattern: string, source: string): RegExp {
  for (const [bad, why] of NOT_RE2) if (bad.test(pattern)) throw new MatcherError(source, why);
  let flags = '';
  let body = pattern;
  if (body.startsWith('(?i)')) {
    flags = 'i';
    body = body.slice(4);
  }
  if (/\(\?[a-zA-Z]/.test(body)) throw new MatcherError(source, 'inline regex flags other than a leading (?i) are not supported');
  try {
    return new RegExp(`^(?:${body})$`, flags + 'u');
  } catch (error) {
    throw new MatcherError(source, `invalid regular expression: ${(error as Error).message}`);
  }
}

export function matchesAll(matchers: readonly Matcher[], labels: Labels): boolean {
  return matchers.every((m) => m.test(labels[m.name] ?? ''));
}

const OPERATOR = /^(=~|!~|!=|=)/;

/** One matcher in Alertmanager's UTF-8 matcher syntax (quoted or bare names and values). */
export function parseMatcher(input: string): Matcher {
  let rest = input.trim();
  let name: string;
  if (rest.startsWith('"')) {
    const [quoted, after] = readQuoted(rest, input);
    name = quoted;
    rest = after.trimStart();
  } else {
    const match = /^[^=!~\s]+/.exec(rest);
    if (!match) throw new MatcherError(input, 'expected a label name');
    name = match[0];
    rest = rest.slice(name.length).trimStart();
  }
  const op = OPERATOR.exec(rest);
  if (!op) throw new MatcherError(input, 'expected one of =, !=, =~, !~ after the label name');
  rest = rest.slice(op[0].length).trimStart();
  let value: string;
  if (rest.startsWith('"')) {
    const [quoted, after] = readQuoted(rest, input);
    if (after.trim() !== '') throw new MatcherError(input, `unexpected ${JSON.stringify(after.trim())} after the value`);
    value = quoted;
  } else {
    if (/["{},]/.test(rest)) throw new MatcherError(input, 'an unquoted value may not contain quotes, braces or commas');
    value = rest.trimEnd();
  }
  return makeMatcher(name, op[0] as MatchType, value, input);
}

function readQuoted(text: string, input: string): [string, string] {
  let i = 1;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  if (i >= text.length) throw new MatcherError(input, 'unterminated quoted string');
  const literal = text.slice(0, i + 1);
  try {
    return [JSON.parse(literal) as string, text.slice(i + 1)];
  } catch {
    throw new MatcherError(input, `bad escape in ${literal}`);
  }
}

export function formatMatcher(m: Pick<Matcher, 'name' | 'type' | 'value'>): string {
  return `${m.name}${m.type}${JSON.stringify(m.value)}`;
}
