// Content DLP over JSON values (tool arguments, tool results): find customer data by pattern wherever it sits, at
// any depth, under any key, in keys too, and optionally redact it. Key names are never trusted: the seed's rug-pulled
// tool smuggles a customer profile under innocuous keys, or as JSON text inside a string.
//
// Before anything is matched each string is normalised and decoded (decode.ts: NFKC, format characters removed,
// JSON text, percent/HTML/`\u` escapes and base64 followed, within a layer and size budget). Then:
// - free-text patterns run on every string, number and key;
// - keyed rules: under a key that names the data (`dob`, `phone`, `full_name`, `postcode`...; keys compared after
//   decode.ts `normalizeKey`) a value counts with a looser shape than the free-text pattern needs;
// - profile rule (PersonName): a capitalised two-to-four word value next to a sibling that held other PII;
// - split rule: the string leaves of one JSON value joined in order, so that PII cut across fields is found; only
//   matches that cross a field boundary and overlap no match inside one field count.
//
// Findings say which matcher fired where, never what matched: they end up in logs and decisions, and the matched
// text is the customer data being protected. For the same reason a path never spells out an object key that itself
// matched: that key appears as `[#n]`, its position among its object's keys. A finding in decoded text carries the
// path of the string it was decoded from and `via` (e.g. `base64/json`); one across fields carries the path of the
// fields' nearest common parent and `via: split`.
//
// The builtins are tuned to stay quiet on a bank's ordinary arguments (amounts, account and sort codes, currency
// codes, transaction and ticket ids, ISO timestamps): every pattern is anchored on token boundaries, phone numbers
// need a leading `+`, `0044` or `0`, card numbers must pass the Luhn check, postcodes must be upper case unless
// written with their space, free-text dates count as birth dates only with a year from 1900 to 2012 and outside a
// timestamp.
import { DecodeBudget, DecodeLimitError, DECODE_MAX_CHARS, DECODE_MAX_LAYERS, base64Runs, normalizeKey, normalizeText, parseJsonText, step, unescapeText } from '../../cel/decode.ts';

export type DlpBuiltin = 'UkNiNumber' | 'Email' | 'UkPostcode' | 'Phone' | 'CreditCard' | 'DateOfBirth' | 'PersonName' | 'StreetAddress';

export const DLP_BUILTINS: readonly DlpBuiltin[] = ['UkNiNumber', 'Email', 'UkPostcode', 'Phone', 'CreditCard', 'DateOfBirth', 'PersonName', 'StreetAddress'];

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
  /** How the text was reached from the string at `path`: `json`, `escape`, `base64` steps joined by `/`, or `split`. */
  via?: string;
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

export { DecodeLimitError };

/** What a scan cannot vouch for: the caller blocks the value rather than pass it unscanned. */
export function isUnscannable(error: unknown): error is DlpDepthError | DecodeLimitError {
  return error instanceof DlpDepthError || error instanceof DecodeLimitError;
}

export const DLP_MAX_DEPTH = 256;

interface KeyedRule {
  /** Tested against the normalised key (decode.ts normalizeKey). */
  keys: RegExp;
  /** Tested against the normalised, trimmed value. */
  value: RegExp;
}

interface Matcher {
  readonly name: string;
  /** Free-text patterns, global; none for a matcher that only reads keys and neighbours. */
  readonly patterns: readonly RegExp[];
  /** A check on the matched text the pattern cannot express (Luhn, excluded prefixes). */
  readonly accept?: (text: string) => boolean;
  readonly keyed: readonly KeyedRule[];
  /** PersonName: a value of this shape, next to other PII, under a key not excluded. */
  readonly profile?: { value: RegExp; exceptKeys: RegExp };
  /** Tried on text joined across fields. */
  readonly split: boolean;
}

// Token boundaries: a match may not start or end inside a run of letters and digits. Lookbehind rather than \b so
// that `_` separates too, and so that a long run is tried once from its start, not from every position in it.
const START = '(?<![A-Za-z0-9])';
const END = '(?![A-Za-z0-9])';
/** Not followed by more digits, nor by a decimal part: `0123456789.50` is an amount. */
const NUMBER_END = '(?![0-9]|[.,][0-9])';
/** Between the characters of an identifier: up to two of space, dot, dash, slash, underscore (`QQ-12-34-56-C`). */
const ID_SEP = '[\\s._/-]{0,2}';
/** Between the digits of a phone number: spaces and dashes, a closing area-code parenthesis, a UK `(0)`. */
const PHONE_SEP = '(?:[ \\t-]{1,3}|\\) ?| ?\\(0\\) ?)?';

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

// HMRC never allocates these prefixes.
const NI_EXCLUDED_PREFIXES = new Set(['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ']);

const MONTH_NAME = '(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)';
const DAY = '(?:0?[1-9]|[12][0-9]|3[01])';
const MONTH = '(?:0?[1-9]|1[0-2])';
/** Years a customer's birth date has, and a transaction's or a ticket's date in this bank has not. */
const BIRTH_YEAR = '(?:19[0-9]{2}|200[0-9]|201[0-2])';
/** Not a date inside a timestamp (`T09:26`, ` 09:26`). */
const NOT_TIME = `${END}(?![ \\t]?[0-9]{1,2}:[0-9])`;

/** Key names, after normalizeKey, as a whole key or as `_`-separated words in it. */
const keyWords = (words: string): RegExp => new RegExp(`(?:^|_)(?:${words})(?:_|$)`);

const CAPITALISED_NAME = /^\p{Lu}[\p{L}'’-]*(?:\s+(?:\p{Lu}[\p{L}'’-]*|de|da|di|van|von|der|den|del|la|le|bin|al|el)){1,3}$/u;

const BUILTINS: Record<DlpBuiltin, { name: string; sources: [string, string][]; accept?: (text: string) => boolean; keyed?: KeyedRule[]; profile?: Matcher['profile']; split: boolean }> = {
  // HMRC's format: two prefix letters, six digits (often paired), suffix A–D, any separators or none. Prefix rules
  // loosely: no D, F, I, U, V (nor O second), not the excluded pairs; Q stays allowed because QQ is the documented
  // example prefix.
  UkNiNumber: {
    name: 'uk-ni-number',
    sources: [[`${START}[A-CEGHJ-TW-Z]${ID_SEP}[A-CEGHJ-NP-TW-Z]${ID_SEP}(?:[0-9]${ID_SEP}){6}[A-D]${END}`, 'gi']],
    accept: (text) => !NI_EXCLUDED_PREFIXES.has(text.replace(/[^A-Za-z]/g, '').slice(0, 2).toUpperCase()),
    keyed: [{ keys: keyWords('ni|nino|nin|ni_number|ni_no|national_insurance|insurance_number'), value: /^[A-Z]{2}[\s._/-]*(?:[0-9][\s._/-]*){6}[A-D]?$/i }],
    split: true,
  },
  Email: {
    name: 'email',
    sources: [[`(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64} ?@ ?[A-Za-z0-9-]{1,63}(?:\\.[A-Za-z0-9-]{1,63})*\\.[A-Za-z]{2,24}${END}`, 'gi']],
    split: true,
  },
  // Royal Mail's outward code shapes (A9, A99, AA9, AA99, A9A, AA9A) and inward code 9AA, with the letters each
  // position allows: upper case with or without the space, any case with a space or dash (so that prose and ids
  // like "ab12cd" stay quiet).
  UkPostcode: {
    name: 'uk-postcode',
    sources: [
      [`${START}(?:GIR ?0AA|[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPS-UW]|[A-HK-Y][0-9][ABEHMNPRV-Y])[ -]?[0-9][ABD-HJLNP-UW-Z]{2})${END}`, 'g'],
      [`${START}(?:[a-pr-uwyz](?:[0-9]{1,2}|[a-hk-y][0-9]{1,2}|[0-9][a-hjkps-uw]|[a-hk-y][0-9][abehmnprv-y])[ -][0-9][abd-hjlnp-uw-z]{2})${END}`, 'gi'],
    ],
    keyed: [{ keys: keyWords('postcode|post_code|postal_code|zip|zip_code|zipcode'), value: /^[A-Z]{1,2}[0-9][A-Z0-9]?[\s-]*[0-9][A-Z]{2}$/i }],
    split: true,
  },
  // International (+ or UK's 0044, 7–15 digits, E.164; a UK "(0)" tolerated) or UK national (0 then 9–10 digits);
  // up to three spaces or dashes, or a closing area-code parenthesis, between digits.
  Phone: {
    name: 'phone',
    sources: [
      [
        `(?:(?<![A-Za-z0-9+.,])(?:\\+[ \\t]?|00[ \\t-]?(?=4[ \\t-]?4))[1-9](?:${PHONE_SEP}[0-9]){6,14}|(?<![A-Za-z0-9.,:/-])\\(?0[1-9](?:${PHONE_SEP}[0-9]){8,9})${NUMBER_END}`,
        'g',
      ],
    ],
    keyed: [{ keys: keyWords('phone|mobile|tel|telephone|msisdn|cell|cellphone|phone_number|mobile_number|contact_number'), value: /^(?=(?:\D*\d){7,15}\D*$)[+(]?[0-9][0-9 ()./-]*$/ }],
    split: true,
  },
  CreditCard: {
    name: 'credit-card',
    sources: [[`(?<![A-Za-z0-9.,+-])[0-9](?:[ .-]?[0-9]){12,18}${NUMBER_END}`, 'g']],
    accept: luhn,
    // Digits joined across fields would make a Luhn-valid number one time in ten.
    split: false,
  },
  DateOfBirth: {
    name: 'date-of-birth',
    sources: [
      [`${START}${BIRTH_YEAR}([-/. ])${MONTH}\\1${DAY}${NOT_TIME}`, 'g'],
      [`${START}${DAY}([-/.])${MONTH}\\1${BIRTH_YEAR}${NOT_TIME}`, 'g'],
      [`${START}${DAY}(?:st|nd|rd|th)?[ \\t]+${MONTH_NAME}\\.?,?[ \\t]+${BIRTH_YEAR}${END}`, 'gi'],
      [`${START}${MONTH_NAME}\\.?[ \\t]+${DAY}(?:st|nd|rd|th)?,?[ \\t]+${BIRTH_YEAR}${END}`, 'gi'],
    ],
    // Under a birth-date key any year counts, and any spelling of the date.
    keyed: [{ keys: keyWords('dob|d_o_b|birth|birthday|birthdate|born|date_of_birth|birth_date|dateofbirth'), value: /(?<![0-9])(?:1[89]|20)[0-9]{2}(?![0-9])|^(?:1[89]|20)[0-9]{6}$|^[0-9]{1,2}[-/. ][0-9]{1,2}[-/. ][0-9]{2}$/ }],
    split: true,
  },
  // No free-text pattern: a name in prose is not told from any other capitalised words. Under a key that holds a
  // person's name, or next to other PII (a profile), it is.
  PersonName: {
    name: 'person-name',
    sources: [],
    keyed: [
      {
        keys: /^(?:.*_)?(?:full_?name|first_?name|last_?name|given_?name|family_?name|middle_?name|maiden_?name|legal_?name|surname|forename|customer_?name|client_?name|holder_?name|account_?holder|person_?name|card_?holder(?:_name)?|name_on_card|beneficiary_?name|payee_?name)$/,
        value: /^\p{L}[\p{L}'’.-]*(?:\s+\p{L}[\p{L}'’.-]*){0,4}$/u,
      },
      { keys: /^(?:name|names|nom|nombre)$/, value: CAPITALISED_NAME },
    ],
    profile: {
      value: CAPITALISED_NAME,
      exceptKeys: keyWords(
        'country|city|town|county|region|state|province|merchant|status|currency|bank|branch|company|employer|street|address|kyc|type|category|description|summary|title|label|channel|severity|product|plan|tier|nationality|language|occupation',
      ),
    },
    split: false,
  },
  // A house number and capitalised words ending in a street type, or a flat number; under an address key, any
  // value with letters and a digit or several words.
  StreetAddress: {
    name: 'street-address',
    sources: [
      [
        `${START}(?:(?:Flat|Apartment|Apt|Unit)[ \\t]+[0-9]{1,4}[A-Z]?|[0-9]{1,4}[A-Za-z]?,?[ \\t]+(?:\\p{Lu}\\p{Ll}+[ \\t]+){1,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Close|Drive|Dr|Way|Place|Pl|Square|Sq|Crescent|Terrace|Gardens|Court|Ct|Hill|Row|Grove|Park|Mews|Walk|Parade|Wharf|Boulevard|Blvd)\\.?)${END}`,
        'gu',
      ],
    ],
    keyed: [{ keys: keyWords('address|addr|street|address_line|address_line_1|address_line_2|line_1|line_2|home_address|postal_address|residence'), value: /\p{L}.*[\s0-9]|[0-9].*\p{L}/u }],
    split: true,
  },
};

const MATCHER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function compileMatcher(spec: DlpMatcherSpec): Matcher {
  if (spec.builtin !== undefined && spec.regex !== undefined) throw new DlpMatcherError(spec, 'give a builtin or a regex, not both');
  if (spec.builtin !== undefined) {
    if (!Object.hasOwn(BUILTINS, spec.builtin)) throw new DlpMatcherError(spec, `unknown builtin (have: ${Object.keys(BUILTINS).join(', ')})`);
    const builtin = BUILTINS[spec.builtin];
    return {
      name: checkedName(spec, spec.name ?? builtin.name),
      patterns: builtin.sources.map(([source, flags]) => new RegExp(source, flags)),
      accept: builtin.accept,
      keyed: builtin.keyed ?? [],
      profile: builtin.profile,
      split: builtin.split,
    };
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
  return { name: checkedName(spec, spec.name), patterns: [pattern], keyed: [], split: true };
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

function redactedMarker(matcher: string): string {
  return `[REDACTED:${matcher}]`;
}

/** One scan's state: what it found, whether it copies, what decoding it may still do. */
interface Scan {
  readonly findings: DlpFinding[];
  readonly copy: boolean;
  readonly budget: DecodeBudget;
  /** Per key text: normalizeKey, and whether it is itself PII (keys repeat across the rows of a list). */
  readonly keys: Map<string, { normal: string; matched: boolean }>;
}

/** Where a string's text came from; findings in decoded text are reported at the path of the string (`anchor`). */
interface Layer {
  readonly via: string;
  readonly layers: number;
  readonly anchor?: string;
}

const TOP: Layer = { via: '', layers: 0 };

function inner(layer: Layer, how: string, segments: Segment[]): Layer {
  return { via: step(layer.via, how), layers: layer.layers + 1, anchor: layer.anchor ?? formatPath(segments) };
}

function pathOf(segments: Segment[], layer: Layer): string {
  return layer.anchor ?? formatPath(segments);
}

/** Members of the input (container, key) that a split finding covers: replaced whole when redacting. */
type SplitMarks = Map<object, Map<string | number, string>>;

/** A path as a chain to its parent, so that collecting leaves copies nothing. */
interface PathNode {
  readonly parent: PathNode | undefined;
  readonly segment: Segment;
}

function pathSegments(node: PathNode | undefined): Segment[] {
  const segments: Segment[] = [];
  for (let at = node; at !== undefined; at = at.parent) segments.push(at.segment);
  return segments.reverse();
}

interface Leaf {
  text: string;
  path: PathNode;
  container: object;
  key: string | number;
}

export interface DlpScannerOptions {
  /** Nesting of objects and arrays followed, across decoded layers too. */
  maxDepth?: number;
  /** Characters of normalised and decoded text one scan may produce. */
  maxDecodedChars?: number;
}

export class DlpScanner {
  readonly #matchers: readonly Matcher[];
  readonly #maxDepth: number;
  readonly #maxDecodedChars: number;
  readonly #keyed: boolean;

  private constructor(matchers: Matcher[], options: DlpScannerOptions) {
    this.#matchers = matchers;
    this.#maxDepth = options.maxDepth ?? DLP_MAX_DEPTH;
    this.#maxDecodedChars = options.maxDecodedChars ?? DECODE_MAX_CHARS;
    this.#keyed = matchers.some((matcher) => matcher.keyed.length > 0 || matcher.profile !== undefined);
  }

  /** Throws DlpMatcherError for a spec it cannot use (bad custom regex, missing or duplicate name...). */
  static compile(matchers: DlpMatcherSpec[], options: DlpScannerOptions = {}): DlpScanner {
    const compiled = matchers.map(compileMatcher);
    const seen = new Set<string>();
    for (const [index, matcher] of compiled.entries()) {
      if (seen.has(matcher.name)) throw new DlpMatcherError(matchers[index]!, `duplicate matcher name ${JSON.stringify(matcher.name)}`);
      seen.add(matcher.name);
    }
    return new DlpScanner(compiled, options);
  }

  /**
   * Every match in every string (and number, as its decimal text) at any depth, under any key name, in decoded
   * layers and across fields; object KEYS are scanned too. Throws DlpDepthError for a value nested deeper than the
   * scanner follows and DecodeLimitError for text encoded in too many layers or decoding to too much text: the
   * caller blocks such a value (isUnscannable).
   */
  scan(value: unknown): DlpFinding[] {
    const scan: Scan = { findings: [], copy: false, budget: new DecodeBudget(this.#maxDecodedChars), keys: new Map() };
    this.#tree(value, [], 0, scan, TOP);
    return scan.findings;
  }

  /**
   * A deep copy with each matched substring replaced by `[REDACTED:<matcher>]` (a matched number becomes that
   * string), and the findings. The input is not mutated. Values that are not JSON (functions, Dates, Maps...) are
   * carried over as they are, unscanned. A string that needed normalising or decoding comes back as its normalised,
   * decoded text with the redactions (JSON text stays JSON; a base64 run that held a match becomes one marker); a
   * value matched by a keyed, profile or split rule is replaced whole.
   */
  redact(value: unknown): { value: unknown; findings: DlpFinding[] } {
    const scan: Scan = { findings: [], copy: true, budget: new DecodeBudget(this.#maxDecodedChars), keys: new Map() };
    const redacted = this.#tree(value, [], 0, scan, TOP);
    return { value: redacted, findings: scan.findings };
  }

  /** Free-text matches in one (normalised) string, in order, overlaps resolved: the earliest wins, then the longest. */
  #matches(text: string, only?: (matcher: Matcher) => boolean): Match[] | undefined {
    let matches: Match[] | undefined;
    for (const matcher of this.#matchers) {
      if (only !== undefined && !only(matcher)) continue;
      for (const pattern of matcher.patterns) {
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
    }
    if (matches === undefined || matches.length === 1) return matches;
    matches.sort((a, b) => a.start - b.start || b.end - a.end);
    const kept: Match[] = [];
    for (const match of matches) if (kept.length === 0 || match.start >= kept[kept.length - 1]!.end) kept.push(match);
    return kept;
  }

  /** One JSON value whose string leaves are read together (the input, or JSON text found in a string). */
  #tree(value: unknown, segments: Segment[], depth: number, scan: Scan, layer: Layer): unknown {
    const split = this.#split(value, segments, depth, scan, layer);
    const out = this.#walk(value, segments, depth, scan, layer, split.marks);
    scan.findings.push(...split.findings);
    return out;
  }

  #walk(value: unknown, segments: Segment[], depth: number, scan: Scan, layer: Layer, marks: SplitMarks | undefined): unknown {
    switch (typeof value) {
      case 'string':
        return this.#string(value, segments, depth, scan, layer) ?? value;
      case 'number':
      case 'bigint':
        return this.#plain(String(value), segments, scan, layer) ?? value;
      case 'object': {
        if (value === null) return value;
        if (depth >= this.#maxDepth) throw new DlpDepthError(this.#maxDepth);
        if (Array.isArray(value)) {
          const out: unknown[] | undefined = scan.copy ? new Array<unknown>(value.length) : undefined;
          const marked = marks?.get(value);
          for (let i = 0; i < value.length; i++) {
            segments.push(i);
            const element = this.#walk(value[i], segments, depth + 1, scan, layer, marks);
            segments.pop();
            if (out !== undefined) out[i] = marked?.has(i) ? redactedMarker(marked.get(i)!) : element;
          }
          return out ?? value;
        }
        if (!isPlainObject(value)) return value;
        return this.#object(value, segments, depth, scan, layer, marks);
      }
      default:
        return value;
    }
  }

  /**
   * One string: normalised, then JSON text is walked as a value, escaped text is unescaped, and otherwise the
   * patterns run and base64 runs are decoded and scanned. Returns the redacted text, or undefined when nothing was found.
   */
  #string(raw: string, segments: Segment[], depth: number, scan: Scan, layer: Layer): string | undefined {
    if (layer.layers > DECODE_MAX_LAYERS) throw new DecodeLimitError('layers', DECODE_MAX_LAYERS);
    const text = normalizeText(raw);
    // Raw text is paid for by the caller's body limit; only what normalising or decoding makes counts.
    if (text !== raw || layer.layers > 0) scan.budget.spend(text.length);
    const before = scan.findings.length;
    const json = parseJsonText(text);
    if (json !== undefined) {
      const value = this.#tree(json, segments, depth, scan, inner(layer, 'json', segments));
      if (scan.findings.length === before) return undefined;
      return scan.copy ? JSON.stringify(value) : '';
    }
    const unescaped = unescapeText(text);
    if (unescaped !== undefined) return this.#string(unescaped, segments, depth, scan, inner(layer, 'escape', segments));

    const matches = this.#matches(text) ?? [];
    const path = matches.length > 0 ? pathOf(segments, layer) : '';
    for (const match of matches) scan.findings.push(finding(match.matcher, path, layer.via));
    const replacements: { start: number; end: number; text: string }[] = matches.map((match) => ({ start: match.start, end: match.end, text: redactedMarker(match.matcher) }));
    for (const run of base64Runs(text)) {
      if (matches.some((match) => match.start < run.end && run.start < match.end)) continue;
      const found = scan.findings.length;
      this.#string(run.decoded, segments, depth, scan, inner(layer, 'base64', segments));
      if (scan.findings.length > found) replacements.push({ start: run.start, end: run.end, text: redactedMarker(scan.findings[found]!.matcher) });
    }
    if (scan.findings.length === before) return undefined;
    if (!scan.copy) return '';
    replacements.sort((a, b) => a.start - b.start);
    let redacted = '';
    let from = 0;
    for (const replacement of replacements) {
      redacted += text.slice(from, replacement.start) + replacement.text;
      from = replacement.end;
    }
    return redacted + text.slice(from);
  }

  /** A number's decimal text: patterns only. */
  #plain(text: string, segments: Segment[], scan: Scan, layer: Layer): string | undefined {
    const matches = this.#matches(text);
    if (matches === undefined) return undefined;
    const path = pathOf(segments, layer);
    let redacted = '';
    let from = 0;
    for (const match of matches) {
      scan.findings.push(finding(match.matcher, path, layer.via));
      redacted += `${text.slice(from, match.start)}${redactedMarker(match.matcher)}`;
      from = match.end;
    }
    return redacted + text.slice(from);
  }

  #object(value: Record<string, unknown>, segments: Segment[], depth: number, scan: Scan, layer: Layer, marks: SplitMarks | undefined): unknown {
    const entries: [string, unknown][] | undefined = scan.copy ? [] : undefined;
    const used = scan.copy ? new Set<string>() : undefined;
    const marked = marks?.get(value);
    const keys = Object.keys(value);
    // For the profile rule: members holding a plain value, and whether any of them held other PII.
    const plainMembers: { index: number; key: string; text: string; segment: Segment; found: boolean }[] = [];
    let profileFound = false;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      // The key first, at the member's own path but with the key masked, since it is what matched.
      segments.push({ masked: i });
      const redactedKey = this.#string(key, segments, depth, scan, layer);
      if (redactedKey === undefined) segments[segments.length - 1] = key;
      const member = value[key];
      const before = scan.findings.length;
      let out = this.#walk(member, segments, depth + 1, scan, layer, marks);
      if (this.#keyed && (typeof member === 'string' || typeof member === 'number' || typeof member === 'bigint')) {
        const text = normalizeText(String(member)).trim();
        const keyedBy = this.#keyedMatch(this.#key(key, scan).normal, text, scan.findings, before);
        if (keyedBy !== undefined) {
          scan.findings.push(finding(keyedBy, pathOf(segments, layer), layer.via));
          out = redactedMarker(keyedBy);
        }
        const found = scan.findings.length > before;
        if (found && scan.findings.slice(before).some((f) => !this.#isProfileMatcher(f.matcher))) profileFound = true;
        plainMembers.push({ index: i, key, text, segment: segments[segments.length - 1]!, found });
      }
      if (marked?.has(key)) out = redactedMarker(marked.get(key)!);
      segments.pop();
      if (entries === undefined || used === undefined) continue;
      // Two keys can redact to the same text; number the later ones rather than lose a member.
      let outKey = redactedKey ?? key;
      for (let n = 2; used.has(outKey); n++) outKey = `${redactedKey ?? key}#${n}`;
      used.add(outKey);
      entries.push([outKey, out]);
    }
    if (profileFound) {
      for (const matcher of this.#matchers) {
        if (matcher.profile === undefined) continue;
        for (const member of plainMembers) {
          if (member.found || matcher.profile.exceptKeys.test(this.#key(member.key, scan).normal) || !matcher.profile.value.test(member.text)) continue;
          scan.findings.push(finding(matcher.name, pathOf([...segments, member.segment], layer), layer.via));
          member.found = true;
          if (entries !== undefined) entries[member.index]![1] = redactedMarker(matcher.name);
        }
      }
    }
    // fromEntries defines properties, so a `__proto__` key stays data.
    return entries === undefined ? value : Object.fromEntries(entries);
  }

  /** The first matcher whose keyed rule takes this member, unless that matcher already found something in it. */
  #keyedMatch(key: string, text: string, findings: DlpFinding[], from: number): string | undefined {
    if (text === '') return undefined;
    for (const matcher of this.#matchers) {
      for (const rule of matcher.keyed) {
        if (!rule.keys.test(key) || !rule.value.test(text)) continue;
        for (let i = from; i < findings.length; i++) if (findings[i]!.matcher === matcher.name) return undefined;
        return matcher.name;
      }
    }
    return undefined;
  }

  #key(key: string, scan: Scan): { normal: string; matched: boolean } {
    let known = scan.keys.get(key);
    if (known === undefined) {
      known = { normal: normalizeKey(key), matched: this.#matches(normalizeText(key)) !== undefined };
      scan.keys.set(key, known);
    }
    return known;
  }

  #isProfileMatcher(name: string): boolean {
    return this.#matchers.some((matcher) => matcher.name === name && matcher.profile !== undefined);
  }

  /**
   * The split rule: the value's string leaves (normalised, not decoded) joined in order; a match that crosses a
   * field boundary and overlaps no match inside one field is a finding at the fields' nearest common parent.
   */
  #split(value: unknown, segments: Segment[], depth: number, scan: Scan, layer: Layer): { findings: DlpFinding[]; marks?: SplitMarks } {
    if (typeof value !== 'object' || value === null) return { findings: [] };
    const leaves: Leaf[] = [];
    let base: PathNode | undefined;
    for (const segment of segments) base = { parent: base, segment };
    this.#leaves(value, base, depth, leaves, scan);
    if (leaves.length < 2) return { findings: [] };
    const local = new Map<number, Match[]>();
    const localMatches = (index: number): Match[] => {
      let found = local.get(index);
      if (found === undefined) {
        found = this.#matches(leaves[index]!.text) ?? [];
        local.set(index, found);
      }
      return found;
    };
    const findings: DlpFinding[] = [];
    const marks: SplitMarks = new Map();
    const reported: { matcher: string; first: number; last: number }[] = [];
    // Joined as they are (one character per element), and with a space (so that the end of one field does not
    // glue onto the start of the next: "…87" + "QQ 12 34" + "56 C").
    for (const separator of ['', ' ']) {
      const starts: number[] = [];
      let joined = '';
      for (const leaf of leaves) {
        if (starts.length > 0) joined += separator;
        starts.push(joined.length);
        joined += leaf.text;
      }
      const matches = this.#matches(joined, (matcher) => matcher.split);
      if (matches === undefined) continue;
      const leafAt = (offset: number): number => {
        let low = 0;
        let high = starts.length - 1;
        while (low < high) {
          const mid = (low + high + 1) >> 1;
          if (starts[mid]! <= offset) low = mid;
          else high = mid - 1;
        }
        return low;
      };
      for (const match of matches) {
        const first = leafAt(match.start);
        const last = leafAt(match.end - 1);
        if (first === last) continue;
        if (reported.some((r) => r.matcher === match.matcher && r.first <= last && first <= r.last)) continue;
        let overlapsLocal = false;
        for (let index = first; index <= last && !overlapsLocal; index++) {
          const offset = starts[index]!;
          overlapsLocal = localMatches(index).some((inner) => inner.start + offset < match.end && match.start < inner.end + offset);
        }
        if (overlapsLocal) continue;
        reported.push({ matcher: match.matcher, first, last });
        const covered = leaves.slice(first, last + 1).filter((leaf) => leaf.text !== '');
        findings.push(finding(match.matcher, layer.anchor ?? formatPath(commonPrefix(covered.map((leaf) => pathSegments(leaf.path)))), step(layer.via, 'split')));
        for (const leaf of covered) {
          let members = marks.get(leaf.container);
          if (members === undefined) marks.set(leaf.container, (members = new Map()));
          members.set(leaf.key, match.matcher);
        }
      }
    }
    return { findings, marks };
  }

  #leaves(value: object, path: PathNode | undefined, depth: number, leaves: Leaf[], scan: Scan): void {
    if (depth >= this.#maxDepth) throw new DlpDepthError(this.#maxDepth);
    const visit = (member: unknown, key: string | number, segment: Segment): void => {
      if (typeof member === 'string') {
        const text = normalizeText(member);
        if (text !== member) scan.budget.spend(text.length);
        leaves.push({ text, path: { parent: path, segment }, container: value, key });
      } else if (typeof member === 'object' && member !== null && (Array.isArray(member) || isPlainObject(member))) {
        this.#leaves(member, { parent: path, segment }, depth + 1, leaves, scan);
      }
    };
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) visit(value[i], i, i);
      return;
    }
    if (!isPlainObject(value)) return;
    const keys = Object.keys(value);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      // A key that is itself PII is never spelled out in a path.
      visit(value[key], key, this.#key(key, scan).matched ? { masked: i } : key);
    }
  }
}

function finding(matcher: string, path: string, via: string): DlpFinding {
  return via === '' ? { matcher, path } : { matcher, path, via };
}

function commonPrefix(paths: Segment[][]): Segment[] {
  const first = paths[0] ?? [];
  let length = first.length;
  for (const path of paths.slice(1)) {
    let i = 0;
    while (i < length && i < path.length && sameSegment(first[i]!, path[i]!)) i++;
    length = i;
  }
  return first.slice(0, length);
}

function sameSegment(a: Segment, b: Segment): boolean {
  if (typeof a === 'object' && typeof b === 'object') return a.masked === b.masked;
  return a === b;
}
