// Hand-worked cases of Prometheus' arithmetic that the corpus (test/promql) checks only by agreement.
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../tsdb/index.ts';
import { Engine } from './index.ts';

function engineWith(series: Record<string, [number, number][]>): Engine {
  const store = new MemoryStore();
  for (const [name, points] of Object.entries(series)) for (const [t, v] of points) store.append({ __name__: name }, t * 1000, v);
  return new Engine(store);
}

const value = (engine: Engine, query: string, t: number) => {
  const result = engine.instantQuery(query, t * 1000);
  if (result.type !== 'vector') throw new Error(`expected a vector for ${query}`);
  return result.samples.map((sample) => sample.value);
};

describe('rate, increase and delta extrapolate as Prometheus does', () => {
  it('extrapolates to the window edges when the samples come close to them', () => {
    // Window (15 s, 75 s]: samples at 20…70 s every 10 s, 10 → 60. Increase 50 over 50 s, extended by 5 s at each
    // end (within 110 % of the 10 s spacing): 50 × 60/50 = 60.
    const plain = engineWith({ d: [[20, 10], [30, 20], [40, 30], [50, 40], [60, 50], [70, 60]] });
    expect(value(plain, 'increase(d[1m])', 75)).toEqual([60]);
    expect(value(plain, 'rate(d[1m])', 75)).toEqual([1]);
    expect(value(plain, 'delta(d[1m])', 75)).toEqual([60]);
  });

  it('does not extrapolate a counter below zero', () => {
    // A counter at 1 at its first sample (20 s), rising 1/s, was at zero 1 s before: extrapolation stops there.
    const engine = engineWith({ c: [[20, 1], [30, 11], [40, 21], [50, 31], [60, 41], [70, 51]] });
    // increase 50 over 50 s; start extends min(5, 50 × 1/50 = 1) = 1 s, end 5 s: 50 × 56/50 = 56.
    expect(value(engine, 'increase(c[1m])', 75)[0]).toBeCloseTo(56, 10);
  });

  it('adds the value before a reset, and irate takes the last two samples', () => {
    const engine = engineWith({ c: [[20, 10], [30, 20], [40, 5], [50, 15]] });
    // 15 − 10 + 20 (reset) = 25 over 30 s; ends 5 s from both edges of (15 s, 55 s] → 25 × 40/30.
    expect(value(engine, 'increase(c[40s])', 55)[0]).toBeCloseTo((25 * 40) / 30, 10);
    expect(value(engine, 'irate(c[40s])', 55)).toEqual([1]);
    expect(value(engine, 'resets(c[40s])', 55)).toEqual([1]);
  });

  it('needs two samples in the window', () => {
    const engine = engineWith({ c: [[20, 10]] });
    expect(value(engine, 'rate(c[1m])', 30)).toEqual([]);
    // The 5 min lookback is left-open too: a sample exactly 5 min old is gone.
    expect(value(engine, 'c', 20 + 299)).toEqual([10]);
    expect(value(engine, 'c', 20 + 300)).toEqual([]);
  });
});
