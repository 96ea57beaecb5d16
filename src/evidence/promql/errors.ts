// PromQL errors in Prometheus' own terms: `bad_data` for what the query says (a parse error carries its position,
// as Prometheus prints it: `1:14: parse error: …`), `execution` for what evaluation found (duplicate series, …).

export interface Position {
  /** Offsets into the expression, as lezer reports them (0-based, end exclusive). */
  from: number;
  to: number;
}

export class PromQLError extends Error {
  override readonly name = 'PromQLError';
  constructor(
    /** The Prometheus API's `errorType`. */
    readonly errorType: 'bad_data' | 'execution',
    message: string,
    readonly position?: Position,
  ) {
    super(message);
  }
}

/** `line:column` of an offset (both 1-based), as Prometheus' ParseErr prints positions. */
export function lineColumn(source: string, offset: number): string {
  let line = 1;
  let column = 1;
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source[i] === '\n') {
      line++;
      column = 1;
    } else column++;
  }
  return `${line}:${column}`;
}

export function parseError(source: string, position: Position, problem: string): PromQLError {
  return new PromQLError('bad_data', `${lineColumn(source, position.from)}: parse error: ${problem}`, position);
}

/** A construct the lab's evaluator does not implement: refused by name rather than answered wrongly. */
export function unsupported(source: string, position: Position, construct: string): PromQLError {
  return new PromQLError('bad_data', `${lineColumn(source, position.from)}: unsupported: ${construct} is not implemented by this PromQL evaluator`, position);
}

export function executionError(message: string): PromQLError {
  return new PromQLError('execution', message);
}
