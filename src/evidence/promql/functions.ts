// PromQL functions with Prometheus' semantics (promql/functions.go): extrapolated rate/increase/delta with counter
// resets, the *_over_time family, absent, label_replace, clamp, round, histogram_quantile, …
import { compileRegex, UnsupportedRegexError, withoutName, type Labels } from '../tsdb/index.ts';
import { executionError } from './errors.ts';
import { goMax, goMin, kahanSumInc, quantile, type RangeSeries, type Sample } from './values.ts';

/** Where a range selector's window lies, for extrapolation. */
export interface RangeWindow {
  /** The window's start and end in ms (start exclusive), offset applied. */
  readonly startMs: number;
  readonly endMs: number;
  readonly rangeMs: number;
}

type SeriesFn = (series: RangeSeries, window: RangeWindow) => number | undefined;

function extrapolatedRate(isCounter: boolean, isRate: boolean): SeriesFn {
  return ({ t, v }, { startMs, endMs, rangeMs }) => {
    const n = v.length;
    if (n < 2) return undefined;
    const firstT = t[0]!;
    const lastT = t[n - 1]!;
    let result = v[n - 1]! - v[0]!;
    if (isCounter) for (let i = 1; i < n; i++) if (v[i]! < v[i - 1]!) result += v[i - 1]!;
    let durationToStart = (firstT - startMs) / 1000;
    let durationToEnd = (endMs - lastT) / 1000;
    const sampledInterval = (lastT - firstT) / 1000;
    const averageDurationBetweenSamples = sampledInterval / (n - 1);
    // Close enough to a boundary (within 110 % of the average spacing) extrapolates all the way to it; otherwise the
    // series is taken to start or end half a spacing beyond its outermost sample.
    const extrapolationThreshold = averageDurationBetweenSamples * 1.1;
    if (durationToStart >= extrapolationThreshold) durationToStart = averageDurationBetweenSamples / 2;
    if (isCounter) {
      // A counter cannot go below zero: extrapolate no further back than where it would have been zero.
      let durationToZero = durationToStart;
      if (result > 0 && v[0]! >= 0) durationToZero = sampledInterval * (v[0]! / result);
      if (durationToZero < durationToStart) durationToStart = durationToZero;
    }
    if (durationToEnd >= extrapolationThreshold) durationToEnd = averageDurationBetweenSamples / 2;
    let factor = sampledInterval !== 0 ? (sampledInterval + durationToStart + durationToEnd) / sampledInterval : 1;
    if (isRate) factor /= rangeMs / 1000;
    return result * factor;
  };
}

function instantValue(isRate: boolean): SeriesFn {
  return ({ t, v }) => {
    const n = v.length;
    if (n < 2) return undefined;
    const previous = v[n - 2]!;
    const last = v[n - 1]!;
    let result = isRate && last < previous ? last : last - previous;
    const sampledInterval = t[n - 1]! - t[n - 2]!;
    if (sampledInterval === 0) return undefined;
    if (isRate) result /= sampledInterval / 1000;
    return result;
  };
}

function overTime(fn: (values: ArrayLike<number>) => number): SeriesFn {
  return ({ v }) => (v.length === 0 ? undefined : fn(v));
}

function avg(values: ArrayLike<number>): number {
  let sum = values[0]!;
  let c = 0;
  let mean = 0;
  let incremental = false;
  let count = 1;
  for (let i = 1; i < values.length; i++) {
    count = i + 1;
    const f = values[i]!;
    if (!incremental) {
      const [newSum, newC] = kahanSumInc(f, sum, c);
      if (Number.isFinite(newSum) || Number.isNaN(newSum)) {
        sum = newSum;
        c = newC;
        continue;
      }
      // The running sum would overflow: continue with an incremental mean from here, as Prometheus does.
      incremental = true;
      mean = sum / (count - 1);
      c /= count - 1;
    }
    const q = (count - 1) / count;
    [mean, c] = kahanSumInc(f / count, q * mean, q * c);
  }
  return incremental ? mean + c : sum / count + c / count;
}

function stdvar(values: ArrayLike<number>): number {
  let count = 0;
  let mean = 0;
  let cMean = 0;
  let aux = 0;
  let cAux = 0;
  for (let i = 0; i < values.length; i++) {
    const f = values[i]!;
    count++;
    const delta = f - (mean + cMean);
    [mean, cMean] = kahanSumInc(delta / count, mean, cMean);
    [aux, cAux] = kahanSumInc(delta * (f - (mean + cMean)), aux, cAux);
  }
  return (aux + cAux) / count;
}

/** Range-vector functions: one value per series (or none), computed from its samples in the window. */
export const RANGE_FUNCTIONS: Readonly<Record<string, SeriesFn>> = {
  rate: extrapolatedRate(true, true),
  increase: extrapolatedRate(true, false),
  delta: extrapolatedRate(false, false),
  irate: instantValue(true),
  idelta: instantValue(false),
  changes: overTime((values) => {
    let changes = 0;
    for (let i = 1; i < values.length; i++) {
      const prev = values[i - 1]!;
      const cur = values[i]!;
      if (cur !== prev && !(Number.isNaN(cur) && Number.isNaN(prev))) changes++;
    }
    return changes;
  }),
  resets: overTime((values) => {
    let resets = 0;
    for (let i = 1; i < values.length; i++) if (values[i]! < values[i - 1]!) resets++;
    return resets;
  }),
  avg_over_time: overTime(avg),
  sum_over_time: overTime((values) => {
    let sum = 0;
    let c = 0;
    for (let i = 0; i < values.length; i++) [sum, c] = kahanSumInc(values[i]!, sum, c);
    return sum + c;
  }),
  count_over_time: overTime((values) => values.length),
  min_over_time: overTime((values) => {
    let min = values[0]!;
    for (let i = 1; i < values.length; i++) if (values[i]! < min || Number.isNaN(min)) min = values[i]!;
    return min;
  }),
  max_over_time: overTime((values) => {
    let max = values[0]!;
    for (let i = 1; i < values.length; i++) if (values[i]! > max || Number.isNaN(max)) max = values[i]!;
    return max;
  }),
  last_over_time: overTime((values) => values[values.length - 1]!),
  present_over_time: overTime(() => 1),
  stdvar_over_time: overTime(stdvar),
  stddev_over_time: overTime((values) => Math.sqrt(stdvar(values))),
};

/** Functions that keep the metric name; every other function drops it. */
export const KEEPS_NAME: ReadonlySet<string> = new Set(['last_over_time', 'label_replace']);

const ELEMENTWISE: Readonly<Record<string, (f: number) => number>> = {
  abs: Math.abs,
  ceil: Math.ceil,
  floor: Math.floor,
  sqrt: Math.sqrt,
  exp: Math.exp,
  ln: Math.log,
  log2: Math.log2,
  log10: Math.log10,
  sgn: (f) => (f > 0 ? 1 : f < 0 ? -1 : f),
};

export function elementwise(name: string): ((f: number) => number) | undefined {
  return ELEMENTWISE[name];
}

export function clamp(samples: readonly Sample[], min: number, max: number): Sample[] {
  if (max < min) return [];
  return samples.map((sample) => ({ labels: withoutName(sample.labels), value: goMax(min, goMin(max, sample.value)) }));
}

export function round(samples: readonly Sample[], toNearest: number): Sample[] {
  const inverse = 1 / toNearest;
  return samples.map((sample) => ({ labels: withoutName(sample.labels), value: Math.floor(sample.value * inverse + 0.5) / inverse }));
}

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function labelReplace(samples: readonly Sample[], dst: string, replacement: string, src: string, pattern: string): Sample[] {
  let regex: RegExp;
  try {
    regex = compileRegex(pattern);
  } catch (error) {
    if (error instanceof UnsupportedRegexError) throw executionError(`invalid regular expression in label_replace(): ${pattern} (${error.construct})`);
    throw error;
  }
  if (!LABEL_NAME_RE.test(dst)) throw executionError(`invalid destination label name in label_replace(): ${dst}`);
  return samples.map((sample) => {
    const match = regex.exec(sample.labels[src] ?? '');
    if (!match) return sample;
    const value = expandTemplate(replacement, match);
    const labels: Record<string, string> = { ...sample.labels };
    if (value === '') delete labels[dst];
    else labels[dst] = value;
    return { labels, value: sample.value };
  });
}

/** Go's regexp.Expand: `$1`, `${1}`, `$name`, `${name}`, `$$`; `$1x` names group "1x" (empty), as in Go. */
export function expandTemplate(template: string, match: RegExpExecArray): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const char = template[i]!;
    if (char !== '$') {
      out += char;
      continue;
    }
    if (template[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string | undefined;
    if (template[i + 1] === '{') {
      const close = template.indexOf('}', i + 2);
      const inner = close < 0 ? '' : template.slice(i + 2, close);
      if (close >= 0 && /^[a-zA-Z0-9_]+$/.test(inner)) {
        name = inner;
        i = close;
      }
    } else {
      const word = /^[a-zA-Z0-9_]+/.exec(template.slice(i + 1))?.[0];
      if (word) {
        name = word;
        i += word.length;
      }
    }
    if (name === undefined) {
      out += '$';
      continue;
    }
    if (/^\d+$/.test(name)) out += match[Number(name)] ?? '';
    else out += match.groups?.[name] ?? '';
  }
  return out;
}

/** Labels an absent() result carries: the selector's equality matchers, except a label matched twice. */
export function absentLabels(matchers: readonly { type: string; name: string; value: string }[]): Labels {
  const labels: Record<string, string> = {};
  const dropped = new Set<string>();
  for (const matcher of matchers) {
    if (matcher.type !== '=' || matcher.name === '__name__') continue;
    if (matcher.name in labels || dropped.has(matcher.name)) {
      delete labels[matcher.name];
      dropped.add(matcher.name);
      continue;
    }
    labels[matcher.name] = matcher.value;
  }
  return labels;
}

interface Bucket {
  upperBound: number;
  count: number;
}

/** histogram_quantile over classic buckets (`le` series), as Prometheus' BucketQuantile. */
export function histogramQuantile(q: number, samples: readonly Sample[]): Sample[] {
  const groups = new Map<string, { labels: Labels; buckets: Bucket[] }>();
  for (const sample of samples) {
    const le = sample.labels.le;
    if (le === undefined) continue;
    const upperBound = parseBound(le);
    if (upperBound === undefined) continue;
    const { le: _le, ...rest } = withoutName(sample.labels);
    const key = JSON.stringify(Object.entries(rest).sort());
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { labels: rest, buckets: [] }));
    group.buckets.push({ upperBound, count: sample.value });
  }
  return [...groups.values()].map(({ labels, buckets }) => ({ labels, value: bucketQuantile(q, buckets) }));
}

function parseBound(text: string): number | undefined {
  const lower = text.toLowerCase();
  if (lower === '+inf' || lower === 'inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (lower === 'nan') return NaN;
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) ? Number(text) : undefined;
}

function bucketQuantile(q: number, input: Bucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = [...input].sort((a, b) => a.upperBound - b.upperBound);
  if (sorted[sorted.length - 1]!.upperBound !== Infinity) return NaN;
  const buckets: Bucket[] = [];
  for (const bucket of sorted) {
    const last = buckets[buckets.length - 1];
    if (last && last.upperBound === bucket.upperBound) last.count += bucket.count;
    else buckets.push({ ...bucket });
  }
  ensureMonotonic(buckets);
  if (buckets.length < 2) return NaN;
  const observations = buckets[buckets.length - 1]!.count;
  if (observations === 0) return NaN;
  let rank = q * observations;
  let b = 0;
  while (b < buckets.length - 1 && !(buckets[b]!.count >= rank)) b++;
  if (b === buckets.length - 1) return buckets[buckets.length - 2]!.upperBound;
  if (b === 0 && buckets[0]!.upperBound <= 0) return buckets[0]!.upperBound;
  let bucketStart = 0;
  const bucketEnd = buckets[b]!.upperBound;
  let count = buckets[b]!.count;
  if (b > 0) {
    bucketStart = buckets[b - 1]!.upperBound;
    count -= buckets[b - 1]!.count;
    rank -= buckets[b - 1]!.count;
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}

const SMALL_DELTA_TOLERANCE = 1e-12;
const MIN_NORMAL = 2.2250738585072014e-308;

/** Bucket counts from separate scrapes can be slightly off: make them non-decreasing, ignoring float noise. */
function ensureMonotonic(buckets: Bucket[]): void {
  let prev = buckets[0]!.count;
  for (let i = 1; i < buckets.length; i++) {
    const curr = buckets[i]!.count;
    if (curr === prev) continue;
    if (almostEqual(prev, curr, SMALL_DELTA_TOLERANCE) || curr < prev) {
      buckets[i]!.count = prev;
      continue;
    }
    prev = curr;
  }
}

function almostEqual(a: number, b: number, epsilon: number): boolean {
  if (a === b) return true;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < MIN_NORMAL) return diff < epsilon * MIN_NORMAL;
  return diff / Math.min(absSum, Number.MAX_VALUE) < epsilon;
}

export function quantileOverTime(q: number): SeriesFn {
  return ({ v }) => (v.length === 0 ? undefined : quantile(q, Array.from(v)));
}
