// The PromQL syntax tree the evaluator walks: built from lezer's concrete tree by parse.ts, type-checked there.
import type { Matcher } from '../tsdb/index.ts';
import type { Position } from './errors.ts';

export type ValueType = 'scalar' | 'vector' | 'matrix' | 'string';

export type Expr = NumberLiteral | StringLiteral | VectorSelector | MatrixSelector | Call | Aggregate | Binary | Unary;

interface Node {
  readonly pos: Position;
}

export interface NumberLiteral extends Node {
  readonly kind: 'number';
  readonly value: number;
}

export interface StringLiteral extends Node {
  readonly kind: 'string';
  readonly value: string;
}

export interface VectorSelector extends Node {
  readonly kind: 'vector';
  readonly matchers: readonly Matcher[];
  readonly offsetMs: number;
}

export interface MatrixSelector extends Node {
  readonly kind: 'matrix';
  readonly selector: VectorSelector;
  readonly rangeMs: number;
}

export interface Call extends Node {
  readonly kind: 'call';
  readonly func: string;
  readonly args: readonly Expr[];
}

export type AggregateOp = 'sum' | 'avg' | 'min' | 'max' | 'count' | 'group' | 'topk' | 'bottomk' | 'stddev' | 'stdvar' | 'quantile';

export interface Aggregate extends Node {
  readonly kind: 'aggregate';
  readonly op: AggregateOp;
  readonly expr: Expr;
  readonly param?: Expr;
  readonly grouping: readonly string[];
  readonly without: boolean;
}

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%' | '^' | 'atan2';
export type ComparisonOp = '==' | '!=' | '>' | '<' | '>=' | '<=';
export type SetOp = 'and' | 'or' | 'unless';
export type BinaryOp = ArithmeticOp | ComparisonOp | SetOp;

export interface VectorMatching {
  readonly card: 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';
  /** `on(…)` when true, `ignoring(…)` (or no modifier) when false. */
  readonly on: boolean;
  readonly labels: readonly string[];
  /** The labels `group_left(…)`/`group_right(…)` copy from the "one" side. */
  readonly include: readonly string[];
}

export interface Binary extends Node {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly lhs: Expr;
  readonly rhs: Expr;
  readonly returnBool: boolean;
  /** Set when both sides are instant vectors. */
  readonly matching?: VectorMatching;
}

export interface Unary extends Node {
  readonly kind: 'unary';
  readonly op: '-' | '+';
  readonly expr: Expr;
}

export const COMPARISON_OPS: ReadonlySet<string> = new Set(['==', '!=', '>', '<', '>=', '<=']);
export const SET_OPS: ReadonlySet<string> = new Set(['and', 'or', 'unless']);

export function typeOf(expr: Expr): ValueType {
  switch (expr.kind) {
    case 'number':
      return 'scalar';
    case 'string':
      return 'string';
    case 'vector':
      return 'vector';
    case 'matrix':
      return 'matrix';
    case 'aggregate':
      return 'vector';
    case 'unary':
      return typeOf(expr.expr);
    case 'binary':
      return typeOf(expr.lhs) === 'scalar' && typeOf(expr.rhs) === 'scalar' ? 'scalar' : 'vector';
    case 'call':
      return FUNCTIONS[expr.func]!.returns;
  }
}

export interface FunctionSignature {
  readonly args: readonly ValueType[];
  /** How many trailing arguments may be left out. */
  readonly optional?: number;
  readonly returns: ValueType;
}

const v = 'vector' as const;
const m = 'matrix' as const;
const s = 'scalar' as const;
const str = 'string' as const;

/** The functions this evaluator implements; any other Prometheus function is refused by name. */
export const FUNCTIONS: Readonly<Record<string, FunctionSignature>> = {
  rate: { args: [m], returns: v },
  irate: { args: [m], returns: v },
  increase: { args: [m], returns: v },
  delta: { args: [m], returns: v },
  idelta: { args: [m], returns: v },
  changes: { args: [m], returns: v },
  resets: { args: [m], returns: v },
  avg_over_time: { args: [m], returns: v },
  min_over_time: { args: [m], returns: v },
  max_over_time: { args: [m], returns: v },
  sum_over_time: { args: [m], returns: v },
  count_over_time: { args: [m], returns: v },
  last_over_time: { args: [m], returns: v },
  present_over_time: { args: [m], returns: v },
  stddev_over_time: { args: [m], returns: v },
  stdvar_over_time: { args: [m], returns: v },
  quantile_over_time: { args: [s, m], returns: v },
  absent: { args: [v], returns: v },
  absent_over_time: { args: [m], returns: v },
  time: { args: [], returns: s },
  vector: { args: [s], returns: v },
  scalar: { args: [v], returns: s },
  label_replace: { args: [v, str, str, str, str], returns: v },
  clamp: { args: [v, s, s], returns: v },
  clamp_min: { args: [v, s], returns: v },
  clamp_max: { args: [v, s], returns: v },
  round: { args: [v, s], optional: 1, returns: v },
  abs: { args: [v], returns: v },
  ceil: { args: [v], returns: v },
  floor: { args: [v], returns: v },
  sqrt: { args: [v], returns: v },
  exp: { args: [v], returns: v },
  ln: { args: [v], returns: v },
  log2: { args: [v], returns: v },
  log10: { args: [v], returns: v },
  sgn: { args: [v], returns: v },
  histogram_quantile: { args: [s, v], returns: v },
};
