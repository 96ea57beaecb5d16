// Evaluating a parsed PromQL expression against a store, at one instant or over a range of steps, with
// Prometheus 3's semantics: a 5 min lookback, left-open windows (a sample exactly at the window's start is out),
// staleness markers ending a series at once, metric names dropped by arithmetic and most functions.
import { labelsKey, withoutName, type Labels, type Matcher, type SeriesSamples } from '../tsdb/index.ts';
import { COMPARISON_OPS, type Aggregate, type Binary, type BinaryOp, type Call, type Expr, type MatrixSelector, type VectorMatching, type VectorSelector } from './ast.ts';
import { PromQLError, executionError } from './errors.ts';
import { absentLabels, clamp, elementwise, histogramQuantile, KEEPS_NAME, labelReplace, quantileOverTime, RANGE_FUNCTIONS, round } from './functions.ts';
import { parseExpr } from './parse.ts';
import { assertUniqueLabelsets, goPow, kahanSumInc, quantile, type RangeSeries, type Sample, type Value } from './values.ts';

/** What the engine reads: anything that selects series with samples in [minT, maxT] (the store does). */
export interface Queryable {
  select(matchers: readonly Matcher[], minT: number, maxT: number): SeriesSamples[];
}

export interface EngineOptions {
  lookbackDeltaMs?: number;
  /** Refuse range queries with more steps than this, as Prometheus refuses more than 11,000 points per series. */
  maxSteps?: number;
}

export const DEFAULT_LOOKBACK_DELTA_MS = 5 * 60 * 1000;
const MAX_STEPS = 11_000;

export interface RangeResultSeries {
  labels: Labels;
  points: { t: number; value: number }[];
}

export type QueryResult = Value;

export class Engine {
  private readonly lookbackMs: number;
  private readonly maxSteps: number;

  constructor(
    private readonly store: Queryable,
    options: EngineOptions = {},
  ) {
    this.lookbackMs = options.lookbackDeltaMs ?? DEFAULT_LOOKBACK_DELTA_MS;
    this.maxSteps = options.maxSteps ?? MAX_STEPS;
  }

  /** Evaluate at one instant (ms since the epoch). */
  instantQuery(query: string | Expr, timeMs: number): Value {
    const expr = typeof query === 'string' ? parseExpr(query) : query;
    return this.eval(expr, timeMs);
  }

  /** Evaluate at start, start+step, … ≤ end; the result is one series per label set with its points. */
  rangeQuery(query: string | Expr, startMs: number, endMs: number, stepMs: number): RangeResultSeries[] | { type: 'scalar'; points: { t: number; value: number }[] } {
    const expr = typeof query === 'string' ? parseExpr(query) : query;
    if (stepMs <= 0) throw new PromQLError('bad_data', 'zero or negative query resolution step widths are not accepted. Try a positive integer');
    if (endMs < startMs) throw new PromQLError('bad_data', 'end timestamp must not be before start time');
    if ((endMs - startMs) / stepMs > this.maxSteps) throw new PromQLError('bad_data', `exceeded maximum resolution of ${this.maxSteps} points per timeseries. Try decreasing the query resolution (?step=XX)`);
    const type = expr.kind === 'matrix' ? 'matrix' : expr.kind === 'string' ? 'string' : undefined;
    if (type) throw new PromQLError('bad_data', `invalid expression type "${type === 'matrix' ? 'range vector' : 'string'}" for range query, must be Scalar or instant Vector`);
    const series = new Map<string, RangeResultSeries>();
    const scalarPoints: { t: number; value: number }[] = [];
    let scalar = false;
    for (let t = startMs; t <= endMs; t += stepMs) {
      const value = this.eval(expr, t);
      if (value.type === 'scalar') {
        scalar = true;
        scalarPoints.push({ t, value: value.value });
      } else if (value.type === 'vector') {
        for (const sample of value.samples) {
          const key = labelsKey(sample.labels);
          let entry = series.get(key);
          if (!entry) series.set(key, (entry = { labels: sample.labels, points: [] }));
          entry.points.push({ t, value: sample.value });
        }
      }
    }
    return scalar ? { type: 'scalar', points: scalarPoints } : [...series.values()];
  }

  private eval(expr: Expr, t: number): Value {
    switch (expr.kind) {
      case 'number':
        return { type: 'scalar', value: expr.value };
      case 'string':
        return { type: 'string', value: expr.value };
      case 'vector':
        return { type: 'vector', samples: this.instantSelect(expr, t) };
      case 'matrix':
        return { type: 'matrix', series: this.rangeSelect(expr, t) };
      case 'unary': {
        const inner = this.eval(expr.expr, t);
        if (expr.op === '+') return inner;
        if (inner.type === 'scalar') return { type: 'scalar', value: -inner.value };
        const samples = this.vectorOf(inner).map((sample) => ({ labels: withoutName(sample.labels), value: -sample.value }));
        assertUniqueLabelsets(samples);
        return { type: 'vector', samples };
      }
      case 'call':
        return this.call(expr, t);
      case 'aggregate':
        return { type: 'vector', samples: this.aggregate(expr, t) };
      case 'binary':
        return this.binary(expr, t);
    }
  }

  private vectorOf(value: Value): readonly Sample[] {
    if (value.type !== 'vector') throw executionError(`expected an instant vector, got ${value.type}`);
    return value.samples;
  }

  private scalarOf(value: Value): number {
    if (value.type !== 'scalar') throw executionError(`expected a scalar, got ${value.type}`);
    return value.value;
  }

  private instantSelect(selector: VectorSelector, t: number): Sample[] {
    const end = t - selector.offsetMs;
    const out: Sample[] = [];
    for (const series of this.store.select(selector.matchers, end - this.lookbackMs + 1, end)) {
      const last = series.t.length - 1;
      if (last < 0 || series.stale[last] === 1) continue;
      out.push({ labels: series.labels, value: series.v[last]! });
    }
    return out;
  }

  private rangeSelect(selector: MatrixSelector, t: number): RangeSeries[] {
    const end = t - selector.selector.offsetMs;
    const out: RangeSeries[] = [];
    for (const series of this.store.select(selector.selector.matchers, end - selector.rangeMs + 1, end)) {
      if (!series.stale.includes(1)) {
        out.push(series);
        continue;
      }
      const ts: number[] = [];
      const vs: number[] = [];
      for (let i = 0; i < series.t.length; i++) {
        if (series.stale[i] === 1) continue;
        ts.push(series.t[i]!);
        vs.push(series.v[i]!);
      }
      if (ts.length > 0) out.push({ labels: series.labels, t: ts, v: vs });
    }
    return out;
  }

  private call(call: Call, t: number): Value {
    const name = call.func;
    const args = call.args;
    if (name === 'time') return { type: 'scalar', value: t / 1000 };
    if (name === 'vector') return { type: 'vector', samples: [{ labels: {}, value: this.scalarOf(this.eval(args[0]!, t)) }] };
    if (name === 'scalar') {
      const samples = this.vectorOf(this.eval(args[0]!, t));
      return { type: 'scalar', value: samples.length === 1 ? samples[0]!.value : NaN };
    }
    if (name === 'absent' || name === 'absent_over_time') {
      const value = this.eval(args[0]!, t);
      const present = value.type === 'vector' ? value.samples.length > 0 : value.type === 'matrix' && value.series.length > 0;
      if (present) return { type: 'vector', samples: [] };
      const arg = args[0]!;
      const selector = arg.kind === 'vector' ? arg : arg.kind === 'matrix' ? arg.selector : undefined;
      return { type: 'vector', samples: [{ labels: selector ? absentLabels(selector.matchers) : {}, value: 1 }] };
    }
    let samples: Sample[];
    const rangeFn = name === 'quantile_over_time' ? quantileOverTime(this.scalarOf(this.eval(args[0]!, t))) : RANGE_FUNCTIONS[name];
    if (rangeFn) {
      const matrixArg = args[args.length - 1] as MatrixSelector;
      const end = t - matrixArg.selector.offsetMs;
      const window = { startMs: end - matrixArg.rangeMs, endMs: end, rangeMs: matrixArg.rangeMs };
      samples = [];
      for (const series of this.rangeSelect(matrixArg, t)) {
        const value = rangeFn(series, window);
        if (value !== undefined) samples.push({ labels: KEEPS_NAME.has(name) ? series.labels : withoutName(series.labels), value });
      }
    } else {
      const input = this.vectorOf(this.eval(args[name === 'histogram_quantile' ? 1 : 0]!, t));
      const scalarArg = (index: number) => this.scalarOf(this.eval(args[index]!, t));
      const stringArg = (index: number) => (args[index] as { value: string }).value;
      const fn = elementwise(name);
      if (fn) samples = input.map((sample) => ({ labels: withoutName(sample.labels), value: fn(sample.value) }));
      else if (name === 'clamp') samples = clamp(input, scalarArg(1), scalarArg(2));
      else if (name === 'clamp_min') samples = clamp(input, scalarArg(1), Infinity);
      else if (name === 'clamp_max') samples = clamp(input, -Infinity, scalarArg(1));
      else if (name === 'round') samples = round(input, args.length > 1 ? scalarArg(1) : 1);
      else if (name === 'label_replace') samples = labelReplace(input, stringArg(1), stringArg(2), stringArg(3), stringArg(4));
      else if (name === 'histogram_quantile') samples = histogramQuantile(scalarArg(0), input);
      else throw new PromQLError('bad_data', `unsupported: the function "${name}" is not implemented by this PromQL evaluator`, call.pos);
    }
    assertUniqueLabelsets(samples);
    return { type: 'vector', samples };
  }

  private aggregate(node: Aggregate, t: number): Sample[] {
    const input = this.vectorOf(this.eval(node.expr, t));
    const param = node.param ? this.scalarOf(this.eval(node.param, t)) : undefined;
    const groupLabels = (labels: Labels): Labels => {
      const out: Record<string, string> = {};
      if (node.without) {
        for (const [name, value] of Object.entries(labels)) if (name !== '__name__' && !node.grouping.includes(name)) out[name] = value;
      } else {
        for (const name of node.grouping) if (labels[name] !== undefined) out[name] = labels[name];
      }
      return out;
    };
    const groups = new Map<string, { labels: Labels; samples: Sample[] }>();
    for (const sample of input) {
      const labels = groupLabels(sample.labels);
      const key = labelsKey(labels);
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { labels, samples: [] }));
      group.samples.push(sample);
    }
    const out: Sample[] = [];
    for (const { labels, samples } of groups.values()) {
      const values = samples.map((sample) => sample.value);
      switch (node.op) {
        case 'sum': {
          let sum = 0;
          let c = 0;
          for (const value of values) [sum, c] = kahanSumInc(value, sum, c);
          out.push({ labels, value: sum + c });
          break;
        }
        case 'avg':
          out.push({ labels, value: RANGE_FUNCTIONS.avg_over_time!({ labels, t: values, v: values }, { startMs: 0, endMs: 0, rangeMs: 0 })! });
          break;
        case 'count':
          out.push({ labels, value: values.length });
          break;
        case 'group':
          out.push({ labels, value: 1 });
          break;
        case 'min':
        case 'max': {
          let best = values[0]!;
          for (const value of values.slice(1)) if ((node.op === 'min' ? best > value : best < value) || Number.isNaN(best)) best = value;
          out.push({ labels, value: best });
          break;
        }
        case 'stddev':
        case 'stdvar': {
          let count = 1;
          let mean = values[0]!;
          let acc = 0;
          for (const value of values.slice(1)) {
            count++;
            const delta = value - mean;
            mean += delta / count;
            acc += delta * (value - mean);
          }
          out.push({ labels, value: node.op === 'stdvar' ? acc / count : Math.sqrt(acc / count) });
          break;
        }
        case 'quantile':
          out.push({ labels, value: quantile(param!, values) });
          break;
        case 'topk':
        case 'bottomk':
          out.push(...topk(node.op, param!, samples));
          break;
      }
    }
    return out;
  }

  private binary(node: Binary, t: number): Value {
    const lhs = this.eval(node.lhs, t);
    const rhs = this.eval(node.rhs, t);
    const op = node.op;
    if (lhs.type === 'scalar' && rhs.type === 'scalar') {
      const [value, keep] = scalarBinop(op, lhs.value, rhs.value);
      return { type: 'scalar', value: node.returnBool ? (keep ? 1 : 0) : value };
    }
    let samples: Sample[];
    if (lhs.type === 'vector' && rhs.type === 'vector') {
      const matching = node.matching!;
      if (op === 'and' || op === 'or' || op === 'unless') samples = setOperation(op, lhs.samples, rhs.samples, matching);
      else samples = vectorBinop(op, lhs.samples, rhs.samples, matching, node.returnBool);
    } else if (lhs.type === 'vector' && rhs.type === 'scalar') {
      samples = vectorScalarBinop(op, lhs.samples, rhs.value, false, node.returnBool);
    } else if (lhs.type === 'scalar' && rhs.type === 'vector') {
      samples = vectorScalarBinop(op, rhs.samples, lhs.value, true, node.returnBool);
    } else {
      throw executionError(`binary expression between ${lhs.type} and ${rhs.type}`);
    }
    assertUniqueLabelsets(samples);
    return { type: 'vector', samples };
  }
}

function topk(op: 'topk' | 'bottomk', param: number, samples: readonly Sample[]): Sample[] {
  if (Number.isNaN(param)) throw executionError(`Parameter value is NaN for ${op}`);
  const k = Math.trunc(param);
  if (k < 1) return [];
  // NaN ranks below every number in both directions, as in Prometheus' heaps.
  const sorted = [...samples].sort((a, b) => {
    if (Number.isNaN(a.value)) return Number.isNaN(b.value) ? 0 : 1;
    if (Number.isNaN(b.value)) return -1;
    return op === 'topk' ? b.value - a.value : a.value - b.value;
  });
  return sorted.slice(0, k);
}

/** The value of `lhs op rhs`, and whether a comparison holds (arithmetic always "holds"). */
function scalarBinop(op: BinaryOp, lhs: number, rhs: number): [number, boolean] {
  switch (op) {
    case '+':
      return [lhs + rhs, true];
    case '-':
      return [lhs - rhs, true];
    case '*':
      return [lhs * rhs, true];
    case '/':
      return [lhs / rhs, true];
    case '%':
      return [lhs % rhs, true];
    case '^':
      return [goPow(lhs, rhs), true];
    case 'atan2':
      return [Math.atan2(lhs, rhs), true];
    case '==':
      return [lhs, lhs === rhs];
    case '!=':
      return [lhs, lhs !== rhs];
    case '>':
      return [lhs, lhs > rhs];
    case '<':
      return [lhs, lhs < rhs];
    case '>=':
      return [lhs, lhs >= rhs];
    case '<=':
      return [lhs, lhs <= rhs];
    default:
      throw executionError(`operator ${op} not allowed between scalars`);
  }
}

function vectorScalarBinop(op: BinaryOp, vector: readonly Sample[], scalar: number, swap: boolean, returnBool: boolean): Sample[] {
  const comparison = COMPARISON_OPS.has(op);
  const out: Sample[] = [];
  for (const sample of vector) {
    const [lhs, rhs] = swap ? [scalar, sample.value] : [sample.value, scalar];
    let [value, keep] = scalarBinop(op, lhs, rhs);
    // A comparison keeps the vector's own value, whichever side the vector was on.
    if (comparison && swap) value = rhs;
    if (returnBool) {
      value = keep ? 1 : 0;
      keep = true;
    }
    if (!keep) continue;
    out.push({ labels: !comparison || returnBool ? withoutName(sample.labels) : sample.labels, value });
  }
  return out;
}

function signature(labels: Labels, matching: VectorMatching): string {
  const picked: Record<string, string> = {};
  if (matching.on) {
    for (const name of matching.labels) if (labels[name] !== undefined) picked[name] = labels[name];
  } else {
    for (const [name, value] of Object.entries(labels)) if (name !== '__name__' && !matching.labels.includes(name)) picked[name] = value;
  }
  return labelsKey(picked);
}

function matchedLabelsText(labels: Labels, matching: VectorMatching): string {
  const picked = Object.entries(labels).filter(([name]) => (matching.on ? matching.labels.includes(name) : name !== '__name__' && !matching.labels.includes(name)));
  return `{${picked.map(([name, value]) => `${name}=${JSON.stringify(value)}`).join(', ')}}`;
}

function labelsText(labels: Labels): string {
  return `{${Object.entries(labels).map(([name, value]) => `${name}=${JSON.stringify(value)}`).join(', ')}}`;
}

function vectorBinop(op: BinaryOp, lhsIn: readonly Sample[], rhsIn: readonly Sample[], matching: VectorMatching, returnBool: boolean): Sample[] {
  if (lhsIn.length === 0 || rhsIn.length === 0) return [];
  const oneToMany = matching.card === 'one-to-many';
  // The "one" side goes on the right; values are swapped back when computing.
  const [lhs, rhs] = oneToMany ? [rhsIn, lhsIn] : [lhsIn, rhsIn];
  const right = new Map<string, Sample>();
  for (const sample of rhs) {
    const sig = signature(sample.labels, matching);
    const duplicate = right.get(sig);
    if (duplicate) {
      throw executionError(
        `found duplicate series for the match group ${matchedLabelsText(sample.labels, matching)} on the ${oneToMany ? 'left' : 'right'} hand-side of the operation: [${labelsText(sample.labels)}, ${labelsText(duplicate.labels)}];many-to-many matching not allowed: matching labels must be unique on one side`,
      );
    }
    right.set(sig, sample);
  }
  const comparison = COMPARISON_OPS.has(op);
  const matched = new Map<string, Set<string> | null>();
  const out: Sample[] = [];
  for (const ls of lhs) {
    const sig = signature(ls.labels, matching);
    const rs = right.get(sig);
    if (!rs) continue;
    const [fl, fr] = oneToMany ? [rs.value, ls.value] : [ls.value, rs.value];
    const [computed, keep] = scalarBinop(op, fl, fr);
    let value = computed;
    if (returnBool) value = keep ? 1 : 0;
    else if (!keep) continue;
    let labels = resultLabels(ls.labels, rs.labels, comparison, matching);
    if (returnBool) labels = withoutName(labels);
    if (matching.card === 'one-to-one') {
      if (matched.has(sig)) throw executionError('multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
      matched.set(sig, null);
    } else {
      let inserted = matched.get(sig);
      if (!inserted) matched.set(sig, (inserted = new Set()));
      const key = labelsKey(labels);
      if (inserted.has(key)) throw executionError('multiple matches for labels: grouping labels must ensure unique matches');
      inserted.add(key);
    }
    out.push({ labels, value });
  }
  return out;
}

function resultLabels(many: Labels, one: Labels, comparison: boolean, matching: VectorMatching): Labels {
  let labels: Record<string, string> = { ...many };
  if (!comparison) delete labels.__name__;
  if (matching.card === 'one-to-one') {
    if (matching.on) {
      const kept: Record<string, string> = {};
      for (const name of matching.labels) if (labels[name] !== undefined) kept[name] = labels[name];
      labels = kept;
    } else for (const name of matching.labels) delete labels[name];
  }
  for (const name of matching.include) {
    if (one[name] !== undefined && one[name] !== '') labels[name] = one[name];
    else delete labels[name];
  }
  return labels;
}

function setOperation(op: 'and' | 'or' | 'unless', lhs: readonly Sample[], rhs: readonly Sample[], matching: VectorMatching): Sample[] {
  switch (op) {
    case 'and': {
      if (lhs.length === 0 || rhs.length === 0) return [];
      const right = new Set(rhs.map((sample) => signature(sample.labels, matching)));
      return lhs.filter((sample) => right.has(signature(sample.labels, matching)));
    }
    case 'or': {
      const left = new Set(lhs.map((sample) => signature(sample.labels, matching)));
      return [...lhs, ...rhs.filter((sample) => !left.has(signature(sample.labels, matching)))];
    }
    case 'unless': {
      if (rhs.length === 0) return [...lhs];
      const right = new Set(rhs.map((sample) => signature(sample.labels, matching)));
      return lhs.filter((sample) => !right.has(signature(sample.labels, matching)));
    }
  }
}
