// What the store refuses, each a named error carrying its fields.

/** A new series would exceed the store's series cap; the sample is dropped and counted, the store keeps running. */
export class SeriesLimitError extends Error {
  override readonly name = 'SeriesLimitError';
  constructor(
    readonly limit: number,
    readonly series: string,
  ) {
    super(`series limit of ${limit} reached: refused new series ${series}`);
  }
}

/** A line of Prometheus text exposition that does not parse, with its line number (1-based). */
export class ExpositionParseError extends Error {
  override readonly name = 'ExpositionParseError';
  constructor(
    readonly line: number,
    readonly problem: string,
  ) {
    super(`text exposition line ${line}: ${problem}`);
  }
}

/** A sample older than the newest one already stored for its series: Prometheus calls it out of order. */
export class OutOfOrderSampleError extends Error {
  override readonly name = 'OutOfOrderSampleError';
  constructor(
    readonly series: string,
    readonly t: number,
    readonly newest: number,
  ) {
    super(`out-of-order sample for ${series}: ${t} ms is older than the newest stored sample at ${newest} ms`);
  }
}
