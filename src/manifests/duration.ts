// Go durations (`time.ParseDuration`), the format Kubernetes and the agentgateway APIs use for `metav1.Duration`
// fields: "30s", "5m", "1h30m", "1.5h", "250ms". Pure: no zod, so other layers can reuse it.

/** Milliseconds per unit, as Go spells them (both micro signs are accepted, as Go does). */
const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3, // U+00B5 micro sign
  μs: 1e-3, // U+03BC Greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go stores a duration as int64 nanoseconds; anything longer (about 292 years) does not parse there. */
const MAX_MS = Number(2n ** 63n - 1n) / 1e6;

const PART = /^(\d*)(?:\.(\d*))?([^\d.]+)/;

/**
 * A Go duration in milliseconds, or undefined when Go would refuse the text. As `time.ParseDuration`: an
 * optional sign, then one or more decimal numbers each with a unit (ns, us, µs, ms, s, m, h); "0" alone is
 * zero; a number without a unit ("5"), an unknown unit ("5d", "5 m") or an empty string is refused.
 */
export function parseGoDuration(text: string): number | undefined {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  while (rest !== '') {
    const part = PART.exec(rest);
    if (part === null) return undefined;
    const [whole, integer = '', fraction, unitName = ''] = part;
    // Go needs a digit on at least one side of the point: "1.s" and ".5s" parse, ".s" does not.
    if (integer === '' && (fraction === undefined || fraction === '')) return undefined;
    const unit = UNIT_MS[unitName];
    if (unit === undefined) return undefined;
    total += Number(`${integer || '0'}.${fraction || '0'}`) * unit;
    rest = rest.slice(whole.length);
  }
  if (total > MAX_MS) return undefined;
  return total === 0 ? 0 : sign * total;
}
