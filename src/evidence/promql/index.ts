// PromQL: the only door into src/evidence/promql.
export { Engine, DEFAULT_LOOKBACK_DELTA_MS, type EngineOptions, type Queryable, type RangeResultSeries } from './engine.ts';
export { parseExpr, parseDurationMs } from './parse.ts';
export { PromQLError } from './errors.ts';
export type { Expr, ValueType } from './ast.ts';
export type { Value, Sample, RangeSeries } from './values.ts';
