// What a hostile caller does to text so that a pattern will not see it, undone before anything is matched. Shared
// by DLP (dlp.ts) and the flattened argument view CEL rules read (cel.ts `toolArgumentAttributes`), so that a rule
// and the scanner see the same text.
//
// Normalising (always, cheap on plain ASCII): Unicode NFKC (full-width `＠` and digits, ligatures, non-breaking and
// other Unicode spaces become their plain forms); format characters removed (zero-width space/joiners, word joiner,
// BOM, soft hyphen, bidi controls: every `\p{Cf}`, plus the Hangul and Mongolian fillers); Unicode dashes and minus
// signs become `-`; `[at]`, `(at)`, `{at}` become `@` and `[dot]`, `(dot)` `.`.
//
// Decoding (speculative: a layer is taken only when it yields something): JSON text of an object or array; escapes
// (`%40` percent-encoding, `&#64;`/`&#x40;` HTML character references, `\u0040` JSON escapes outside JSON); base64
// and base64url runs of 8 characters or more whose bytes are printable UTF-8 text. Each decoded layer is
// normalised and decoded again, to at most DECODE_MAX_LAYERS layers: one more is an error, as is decoded text
// beyond the character budget, so that neither can be used to slip something past or to tie up the gateway.

/** Layers of encoding followed inside one string (JSON in base64 in percent-encoding is three). */
export const DECODE_MAX_LAYERS = 8;
/** Characters of normalised and decoded text one scan may produce (NFKC can expand a character 18 times). */
export const DECODE_MAX_CHARS = 16 * 1024 * 1024;

/** Text encoded more deeply than the decoder follows, or more decoded text than its budget: treat as unscannable. */
export class DecodeLimitError extends Error {
  override readonly name = 'DecodeLimitError';
  constructor(
    readonly limit: 'layers' | 'chars' | 'depth',
    readonly max: number,
  ) {
    super(
      limit === 'layers' ? `text encoded in more than ${max} layers: not scanned` : limit === 'chars' ? `more than ${max} characters of decoded text: not scanned` : `value nested deeper than ${max} levels: not scanned`,
    );
  }
}

/** One scan's allowance of decoded characters; consumed as text is produced. */
export class DecodeBudget {
  #remaining: number;
  constructor(readonly max = DECODE_MAX_CHARS) {
    this.#remaining = max;
  }

  spend(chars: number): void {
    this.#remaining -= chars;
    if (this.#remaining < 0) throw new DecodeLimitError('chars', this.max);
  }
}

// eslint-disable-next-line no-control-regex -- the whole ASCII range, controls included, needs no normalising
const ASCII = /^[\x00-\x7f]*$/;
// Cf covers U+200B–U+200F, U+202A–U+202E, U+2060–U+2064, U+FEFF, U+00AD; the fillers are letters (Lo) that render
// as nothing.
const INVISIBLE = /[\p{Cf}\u115f\u1160\u180e\u3164\uffa0]/gu;
// Invisible combining marks (grapheme joiner, Khmer inherent vowels, Mongolian and other variation selectors),
// spelled out: in a character class a combining mark reads as combined with its neighbour.
const COMBINING_JOINER = /\u034f|\u17b4|\u17b5|\u180b|\u180c|\u180d|\u180f|\ufe00|\ufe01|\ufe02|\ufe03|\ufe04|\ufe05|\ufe06|\ufe07|\ufe08|\ufe09|\ufe0a|\ufe0b|\ufe0c|\ufe0d|\ufe0e|\ufe0f/g;
const DASHES = /[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]/g;
const SPELLED = /[[({<]\s*(?:at|dot)\s*[\])}>]/i;
const AT = /\s*[[({<]\s*at\s*[\])}>]\s*/gi;
const DOT = /\s*[[({<]\s*dot\s*[\])}>]\s*/gi;

/** The text a pattern should see. */
export function normalizeText(text: string): string {
  let out = text;
  if (!ASCII.test(out)) out = out.normalize('NFKC').replace(INVISIBLE, '').replace(COMBINING_JOINER, '').replace(DASHES, '-');
  if (SPELLED.test(out)) out = out.replace(AT, '@').replace(DOT, '.');
  return out;
}

/**
 * A key as policy compares it: normalised text, lower case, camelCase split, every run of other characters one `_`:
 * `customerProfile`, `Customer-Profile`, `CUSTOMER PROFILE` and `cust\u200bomer_profile` are all `customer_profile`.
 */
export function normalizeKey(key: string): string {
  return normalizeText(key)
    .replace(/(\p{Ll}|\p{N})(\p{Lu})/gu, '$1_$2')
    .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, '$1_$2')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '_')
    .replace(/^_+|_+$/g, '');
}

/** JSON text of an object or array, parsed; anything else (plain text, a bare JSON string or number) is undefined. */
export function parseJsonText(text: string): object | undefined {
  const trimmed = text.trim();
  const first = trimmed[0];
  const last = trimmed[trimmed.length - 1];
  if (!((first === '{' && last === '}') || (first === '[' && last === ']'))) return undefined;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

const ESCAPED = /%[0-9a-f]{2}|&#(?:[0-9]{1,7}|x[0-9a-f]{1,6});|\\u[0-9a-f]{4}/i;
const PERCENT_RUN = /(?:%[0-9a-f]{2})+/gi;
const ENTITY = /&#(?:([0-9]{1,7})|x([0-9a-f]{1,6}));/gi;
const JSON_ESCAPE = /\\u([0-9a-f]{4})/gi;
const UTF8 = new TextDecoder('utf-8');

/** The text with its percent-encoding, HTML character references and `\uXXXX` escapes undone; undefined when it has none. */
export function unescapeText(text: string): string | undefined {
  if (!ESCAPED.test(text)) return undefined;
  const out = text
    .replace(PERCENT_RUN, (run) => UTF8.decode(Buffer.from(run.replace(/%/g, ''), 'hex')))
    .replace(ENTITY, (whole, decimal: string | undefined, hex: string | undefined) => codePoint(decimal !== undefined ? Number.parseInt(decimal, 10) : Number.parseInt(hex!, 16)) ?? whole)
    .replace(JSON_ESCAPE, (_whole, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return out === text ? undefined : out;
}

function codePoint(value: number): string | undefined {
  return value > 0 && value <= 0x10ffff ? String.fromCodePoint(value) : undefined;
}

/** Base64 or base64url, with or without padding, not glued to other such characters. */
const BASE64_RUN = /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{8,}={0,2}(?![A-Za-z0-9+/_=-])/g;
const WRAPPED_BASE64 = /^\s*(?:[A-Za-z0-9+/_-]{4,}\s+)+[A-Za-z0-9+/_-]*={0,2}\s*$/;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
// Decoded text must read as text: no C0/C1 controls but tab and line breaks, no replacement or private-use
// characters. Random bytes almost never pass, so ordinary words and ids that happen to be valid base64 are left be.
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const UNPRINTABLE = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\ue000-\uf8ff]/;

export interface Base64Run {
  start: number;
  end: number;
  decoded: string;
}

/** The runs of `text` that decode, as base64 or base64url, to printable text. */
export function base64Runs(text: string): Base64Run[] {
  // One blob broken into lines (MIME wraps at 76 characters) is one run.
  if (/\s/.test(text) && WRAPPED_BASE64.test(text)) {
    const decoded = decodeBase64(text.replace(/\s+/g, ''));
    if (decoded !== undefined) return [{ start: 0, end: text.length, decoded }];
  }
  const runs: Base64Run[] = [];
  BASE64_RUN.lastIndex = 0;
  for (let found = BASE64_RUN.exec(text); found !== null; found = BASE64_RUN.exec(text)) {
    const decoded = decodeBase64(found[0]);
    if (decoded !== undefined) runs.push({ start: found.index, end: found.index + found[0].length, decoded });
  }
  return runs;
}

function decodeBase64(run: string): string | undefined {
  const body = run.replace(/=+$/, '');
  // Both alphabets at once is not an encoding; a length of 4n+1 cannot be one either.
  if ((/[+/]/.test(body) && /[-_]/.test(body)) || body.length % 4 === 1) return undefined;
  if (run.length - body.length > 0 && run.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(body, /[-_]/.test(body) ? 'base64url' : 'base64');
  if (bytes.length < 4) return undefined;
  let decoded: string;
  try {
    decoded = STRICT_UTF8.decode(bytes);
  } catch {
    return undefined;
  }
  return UNPRINTABLE.test(decoded) ? undefined : decoded;
}

/** Every decoded layer of one string, each normalised, the string itself first; `via` says how each was reached. */
export interface TextLayer {
  text: string;
  /** `json`, `escape` and `base64` steps joined by `/`; empty for the string itself. */
  via: string;
  /** Its JSON value, when the layer is JSON text of an object or array. */
  json?: object;
  /** Layers decoded to reach it (0 for the string itself). */
  layers: number;
}

/**
 * Calls `visit` for the string and for each layer decoded from it, depth first. Throws DecodeLimitError past
 * DECODE_MAX_LAYERS or the budget. Used where only the layers' texts and JSON values matter (not positions).
 */
export function forEachLayer(text: string, budget: DecodeBudget, visit: (layer: TextLayer) => void, via = '', layers = 0): void {
  if (layers > DECODE_MAX_LAYERS) throw new DecodeLimitError('layers', DECODE_MAX_LAYERS);
  const normal = normalizeText(text);
  budget.spend(normal.length);
  const json = parseJsonText(normal);
  if (json !== undefined) {
    visit({ text: normal, via, json, layers });
    return;
  }
  visit({ text: normal, via, layers });
  const unescaped = unescapeText(normal);
  if (unescaped !== undefined) {
    forEachLayer(unescaped, budget, visit, step(via, 'escape'), layers + 1);
    return;
  }
  for (const run of base64Runs(normal)) forEachLayer(run.decoded, budget, visit, step(via, 'base64'), layers + 1);
}

export function step(via: string, next: string): string {
  return via === '' ? next : `${via}/${next}`;
}
