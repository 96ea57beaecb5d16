// Content DLP over JSON values (tool arguments, tool results): find customer data by pattern wherever it sits, at
// any depth, under any key, in keys too, and optionally redact it. Key names are never trusted: the seed's rug-pulled
// tool smuggles a customer profile under innocuous keys, or as JSON text inside a string.
//
// Findings say which matcher fired where, never what matched: they end up in logs and decisions, and the matched
// text is the customer data being protected. For the same reason a path never spells out an object key that itself
// matched: that key appears as `[#n]`, its position among its object's keys.
//
// The builtins are tuned to stay quiet on a bank's ordinary arguments (amounts, account and sort codes, currency
// codes, transaction and ticket ids, ISO timestamps): every pattern is anchored on token boundaries, phone numbers
// need a leading `+` or `0`, card numbers must pass the Luhn check, postcodes must be upper case.

export type DlpBuiltin = 'UkNiNumber' | 'Email' | 'UkPostcode' | 'Phone' | 'CreditCard';

export interface DlpMatcherSpec {
  builtin?: DlpBuiltin;
  /** Required for a custom `regex`; overrides a builtin's name. */
  name?: string;
  /** A JavaScript regular expression (no flags; matched globally). */
  regex?: string;
}

export interface DlpFinding {
  matcher: string;
  /** JSONPath-like location, e.g. `$.ctx.email` or `$.items[2]` */
  path: string;
}

/** A matcher spec that cannot be used: an invalid or empty-matching regex, a missing or duplicate name... */
export class DlpMatcherError extends Error {
  override readonly name = 'DlpMatcherError';
  constructor(
    readonly spec: DlpMatcherSpec,
    readonly problem: string,
  ) {
    super(`DLP matcher ${JSON.stringify(spec)}: ${problem}`);
  }
}

/** A value nested deeper than the scanner follows; the caller should treat it as unscannable (block it). */
export class DlpDepthError extends Error {
  override readonly name = 'DlpDepthError';
  constructor(readonly maxDepth: number) {
    super(`value nested deeper than ${maxDepth} levels: not scanned`);
  }
}

export const DLP_MAX_DEPTH = 256;

interface Matcher {
  readonly name: string;
  /** Global: scanned with exec from lastIndex. */
  readonly pattern: RegExp;
  /** A check on the matched text the pattern cannot express (Luhn). */
  readonly accept?: (text: string) => boolean;
}

// Token boundaries: a match may not start or end inside a run of letters and digits. Lookbehind rather than \b so
// that `_` separates too, and so that a long run is tried once from its start, not from every position in it.
const START = '(?<![A-Za-z0-9])';
const END = '(?![A-Za-z0-9])';
/** Not followed by more digits, nor by a decimal part: `0123456789.50` is an amount. */
const NUMBER_END = '(?![0-9]|[.,][0-9])';

function luhn(text: string): boolean {
  let sum = 0;
  let digits = 0;
  for (let i = text.length - 1; i >= 0; i--) {
    const code = text.charCodeAt(i) - 48;
    if (code < 0 || code > 9) continue;
    const doubled = digits % 2 === 1 ? code * 2 : code;
    sum += doubled > 9 ? doubled - 9 : doubled;
    digits++;
  }
  return digits >= 13 && digits <= 19 && sum % 10 === 0;
}

const BUILTINS: Record<DlpBuiltin, Omit<Matcher, 'pattern'> & { source: string; flags: string }> = {
  // HMRC's format: two prefix letters, six digits (often paired), suffix A–D. Prefix rules loosely: no D, F, I, U, V
  // (nor O second), not BG, GB, KN, NK, NT, TN, ZZ; Q stays allowed because QQ is the documented example prefix.
  UkNiNumber: {
    name: 'uk-ni-number',
    source: `${START}(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-TW-Z][A-CEGHJ-NP-TW-Z] ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]${END}`,
    flags: 'gi',
  },
  Email: {
    name: 'email',
    source: `(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\\.[A-Za-z0-9-]{1,63})*\\.[A-Za-z]{2,24}${END}`,
    flags: 'gi',
  },
  // Royal Mail's outward code shapes (A9, A99, AA9, AA99, A9A, AA9A) and inward code 9AA, with the letters each
  // position allows; upper case, so that prose and ids like "ab12cd" stay quiet.
  UkPostcode: {
    name: 'uk-postcode',
    source: `${START}(?:GIR ?0AA|[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPS-UW]|[A-HK-Y][0-9][ABEHMNPRV-Y]) ?[0-9][ABD-HJLNP-UW-Z]{2})${END}`,
    flags: 'g',
  },
  // International (+, 7–15 digits, E.164; a UK "(0)" tolerated) or UK national (0 then 9–10 digits); single
  // spaces, dashes or a closing area-code parenthesis between digits.
  Phone: {
    name: 'phone',
    source: `(?:(?<![A-Za-z0-9+])\\+[1-9](?:(?:[ -]|\\) ?| ?\\(0\\) ?)?[0-9]){6,14}|(?<![A-Za-z0-9.,])\\(?0[1-9](?:(?:[ -]|\\) ?)?[0-9]){8,9})${NUMBER_END}`,
    flags: 'g',
  },
  CreditCard: {
    name: 'credit-card',
    source: `(?<![A-Za-z0-9.,+-])[0-9](?:[ -]?[0-9]){12,18}${NUMBER_END}`,
    flags: 'g',
    accept: luhn,
  },
};

const MATCHER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function compileMatcher(spec: DlpMatcherSpec): Matcher {
  if (spec.builtin !== undefined && spec.regex !== undefined) throw new DlpMatcherError(spec, 'give a builtin or a regex, not both');
  if (spec.builtin !== undefined) {
    if (!Object.hasOwn(BUILTINS, spec.builtin)) throw new DlpMatcherError(spec, `unknown builtin (have: ${Object.keys(BUILTINS).join(', ')})`);
    const builtin = BUILTINS[spec.builtin];
    return { name: checkedName(spec, spec.name ?? builtin.name), pattern: new RegExp(builtin.source, builtin.flags), accept: builtin.accept };
  }
  if (spec.regex === undefined) throw new DlpMatcherError(spec, 'give a builtin or a regex');
  if (spec.name === undefined) throw new DlpMatcherError(spec, 'a custom regex needs a name');
  let pattern: RegExp;
  try {
    pattern = new RegExp(spec.regex, 'g');
  } catch (error) {
    throw new DlpMatcherError(spec, `invalid regular expression: ${error instanceof Error ? error.message : String(error)}`);
  }
  // An empty match finds nothing to redact, and would report every string.
  if (new RegExp(spec.regex).test('')) throw new DlpMatcherError(spec, 'the regex matches the empty string');
  return { name: checkedName(spec, spec.name), pattern };
}

function checkedName(spec: DlpMatcherSpec, name: string): string {
  // The name is written into redacted text as `[REDACTED:<name>]` and into findings.
  if (!MATCHER_NAME.test(name)) throw new DlpMatcherError(spec, `name ${JSON.stringify(name)} must be letters, digits, '.', '_' or '-'`);
  return name;
}

interface Match {
  start: number;
  end: number;
  matcher: string;
}

/** A path under construction; joined only when something is found. */
type Segment = string | number | { masked: number };

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function formatPath(segments: readonly Segment[]): string {
  let path = '$';
  for (const segment of segments) {
    if (typeof segment === 'number') path += `[${segment}]`;
    else if (typeof segment === 'object') path += `[#${segment.masked}]`;
    else path += IDENTIFIER.test(segment) ? `.${segment}` : `[${JSON.stringify(segment)}]`;
  }
  return path;
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export class DlpScanner {
  readonly #matchers: readonly Matcher[];
  readonly #maxDepth: number;

  private constructor(matchers: Matcher[], maxDepth: number) {
    this.#matchers = matchers;
    this.#maxDepth = maxDepth;
  }

  /** Throws DlpMatcherError for a spec it cannot use (bad custom regex, missing or duplicate name...). */
  static compile(matchers: DlpMatcherSpec[], options: { maxDepth?: number } = {}): DlpScanner {
    const compiled = matchers.map(compileMatcher);
    const seen = new Set<string>();
    for (const [index, matcher] of compiled.entries()) {
      if (seen.has(matcher.name)) throw new DlpMatcherError(matchers[index]!, `duplicate matcher name ${JSON.stringify(matcher.name)}`);
      seen.add(matcher.name);
    }
    return new DlpScanner(compiled, options.maxDepth ?? DLP_MAX_DEPTH);
  }

  /**
   * Every match in every string (and number, as its decimal text) at any depth, under any key name; object KEYS
   * are scanned too. Throws DlpDepthError for a value nested deeper than the scanner follows.
   */
  scan(value: unknown): DlpFinding[] {
    const findings: DlpFinding[] = [];
    this.#walk(value, [], 0, findings, false);
    return findings;
  }

  /**
   * A deep copy with each matched substring replaced by `[REDACTED:<matcher>]` (a matched number becomes that
   * string), and the findings. The input is not mutated. Values that are not JSON (functions, Dates, Maps...) are
   * carried over as they are, unscanned.
   */
  redact(value: unknown): { value: unknown; findings: DlpFinding[] } {
    const findings: DlpFinding[] = [];
    const redacted = this.#walk(value, [], 0, findings, true);
    return { value: redacted, findings };
  }

  /** Matches in one string, in order, overlaps resolved: the earliest wins, then the longest. */
  #matches(text: string): Match[] | undefined {
    let matches: Match[] | undefined;
    for (const matcher of this.#matchers) {
      const pattern = matcher.pattern;
      pattern.lastIndex = 0;
      for (let found = pattern.exec(text); found !== null; found = pattern.exec(text)) {
        if (found[0].length === 0) {
          pattern.lastIndex++;
          continue;
        }
        if (matcher.accept !== undefined && !matcher.accept(found[0])) continue;
        (matches ??= []).push({ start: found.index, end: found.index + found[0].length, matcher: matcher.name });
      }
    }
    if (matches === undefined || matches.length === 1) return matches;
    matches.sort((a, b) => a.start - b.start || b.end - a.end);
    const kept: Match[] = [];
    for (const match of matches) if (kept.length === 0 || match.start >= kept[kept.length - 1]!.end) kept.push(match);
    return kept;
  }

  /** Records the findings of one string at `segments`; returns its redacted text, or undefined when nothing matched. */
  #text(text: string, segments: readonly Segment[], findings: DlpFinding[]): string | undefined {
    const matches = this.#matches(text);
    if (matches === undefined) return undefined;
    const path = formatPath(segments);
    let redacted = '';
    let from = 0;
    for (const match of matches) {
      findings.push({ matcher: match.matcher, path });
      redacted += `${text.slice(from, match.start)}[REDACTED:${match.matcher}]`;
      from = match.end;
    }
    return redacted + text.slice(from);
  }

  #walk(value: unknown, segments: Segment[], depth: number, findings: DlpFinding[], copy: boolean): unknown {
    switch (typeof value) {
      case 'string':
        return this.#text(value, segments, findings) ?? value;
      case 'number':
      case 'bigint': {
        const redacted = this.#text(String(value), segments, findings);
        return redacted ?? value;
      }
      case 'object':
        if (value === null) return value;
        if (depth >= this.#maxDepth) throw new DlpDepthError(this.#maxDepth);
        if (Array.isArray(value)) {
          const out: unknown[] | undefined = copy ? new Array<unknown>(value.length) : undefined;
          for (let i = 0; i < value.length; i++) {
            segments.push(i);
            const element = this.#walk(value[i], segments, depth + 1, findings, copy);
            segments.pop();
            if (out !== undefined) out[i] = element;
          }
          return out ?? value;
        }
        if (!isPlainObject(value)) return value;
        return this.#object(value, segments, depth, findings, copy);
      default:
        return value;
    }
  }

  #object(value: Record<string, unknown>, segments: Segment[], depth: number, findings: DlpFinding[], copy: boolean): unknown {
    const entries: [string, unknown][] | undefined = copy ? [] : undefined;
    const used = copy ? new Set<string>() : undefined;
    const keys = Object.keys(value);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      // The key first, at the member's own path but with the key masked, since it is what matched.
      segments.push({ masked: i });
      const redactedKey = this.#text(key, segments, findings);
      if (redactedKey === undefined) segments[segments.length - 1] = key;
      const member = this.#walk(value[key], segments, depth + 1, findings, copy);
      segments.pop();
      if (entries === undefined || used === undefined) continue;
      // Two keys can redact to the same text; number the later ones rather than lose a member.
      let outKey = redactedKey ?? key;
      for (let n = 2; used.has(outKey); n++) outKey = `${redactedKey ?? key}#${n}`;
      used.add(outKey);
      entries.push([outKey, member]);
    }
    // fromEntries defines properties, so a `__proto__` key stays data.
    return entries === undefined ? value : Object.fromEntries(entries);
  }
}
