// Label matchers (`=`, `!=`, `=~`, `!~`) with Prometheus' rules: a missing label matches as the empty string, and a
// regex is anchored at both ends and must be RE2 (no backreferences or lookaround, which JavaScript would accept
// and Prometheus refuses).
import type { Labels } from './labels.ts';

export type MatchType = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  readonly type: MatchType;
  readonly name: string;
  readonly value: string;
  matches(value: string): boolean;
}

/** A regex Prometheus (RE2) would refuse or read differently; `construct` names what. */
export class UnsupportedRegexError extends Error {
  override readonly name = 'UnsupportedRegexError';
  constructor(
    readonly pattern: string,
    readonly construct: string,
  ) {
    super(`regex ${JSON.stringify(pattern)}: ${construct}`);
  }
}

const RE2_REFUSES: [RegExp, string][] = [
  [/\(\?<?[=!]/, 'lookaround assertions are not RE2'],
  [/\\[1-9]/, 'backreferences are not RE2'],
  [/\\k</, 'named backreferences are not RE2'],
  [/\(\?<[a-zA-Z]/, "named groups use RE2's (?P<name>…) form"],
];

const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*(?:[+*]|\{\d*,\d*\})(?:[^()\\]|\\.)*\)(?:[+*]|\{\d*,\d*\})/;

/** Compile a Prometheus regex to an anchored JavaScript one, refusing what RE2 does not accept. */
export function compileRegex(pattern: string): RegExp {
  let source = pattern;
  let flags = 's';
  // RE2's leading flag group: the only one Prometheus rules use in practice is case-insensitivity.
  const leading = /^\(\?([a-zA-Z]+)\)/.exec(source);
  if (leading) {
    for (const flag of leading[1]!) {
      if (flag === 'i') flags += 'i';
      else if (flag === 's') continue;
      else throw new UnsupportedRegexError(pattern, `the flag (?${flag}) is not supported here`);
    }
    source = source.slice(leading[0].length);
  }
  for (const [re, problem] of RE2_REFUSES) if (re.test(source)) throw new UnsupportedRegexError(pattern, problem);
  // RE2 runs in linear time; JavaScript backtracks, and a quantified group that itself repeats, such as (a+)+,
  // can take exponential time on a crafted label value: one query would stall the evaluator for everyone.
  if (NESTED_QUANTIFIER.test(source)) throw new UnsupportedRegexError(pattern, 'a repeated group containing a repetition (such as (a+)+) can backtrack exponentially here, unlike RE2; rewrite it without the nesting');
  if (/\(\?[a-zA-Z]/.test(source)) throw new UnsupportedRegexError(pattern, 'inline flags are supported only at the start');
  source = source.replace(/\(\?P</g, '(?<');
  try {
    return new RegExp(`^(?:${source})$`, flags);
  } catch (error) {
    throw new UnsupportedRegexError(pattern, error instanceof Error ? error.message.replace(/^Invalid regular expression: /, '') : String(error));
  }
}

export function newMatcher(type: MatchType, name: string, value: string): Matcher {
  switch (type) {
    case '=':
      return { type, name, value, matches: (v) => v === value };
    case '!=':
      return { type, name, value, matches: (v) => v !== value };
    case '=~': {
      const re = compileRegex(value);
      return { type, name, value, matches: (v) => re.test(v) };
    }
    case '!~': {
      const re = compileRegex(value);
      return { type, name, value, matches: (v) => !re.test(v) };
    }
  }
}

export function matchesAll(labels: Labels, matchers: readonly Matcher[]): boolean {
  for (const matcher of matchers) if (!matcher.matches(labels[matcher.name] ?? '')) return false;
  return true;
}

/** Whether a matcher can match a series that lacks the label entirely (so it cannot narrow a search by itself). */
export function matchesEmpty(matcher: Matcher): boolean {
  return matcher.matches('');
}
