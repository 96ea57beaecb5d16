import { describe, expect, it } from 'vitest';
import { LocalRateLimiter, RateLimitSpecError, rateLimitHeaders, type LocalRateLimitSpec } from './rate-limit.ts';

/** A limiter on a clock the test moves by hand. */
function limiter(specs: LocalRateLimitSpec[]) {
  let now = 1_000_000;
  const subject = new LocalRateLimiter(specs, () => now);
  return {
    take: () => subject.take(),
    takeMany: (count: number) => Array.from({ length: count }, () => subject.take()),
    advance: (millis: number) => (now += millis),
    setClock: (millis: number) => (now = millis),
  };
}

describe('one bucket', () => {
  it('allows requests + burst at once, then refuses until a token refills', () => {
    const clock = limiter([{ requests: 2, unit: 'Seconds', burst: 1 }]);
    expect(clock.takeMany(3)).toEqual([
      { allowed: true, limit: 3, remaining: 2, resetSeconds: 0 },
      { allowed: true, limit: 3, remaining: 1, resetSeconds: 0 },
      { allowed: true, limit: 3, remaining: 0, resetSeconds: 1 },
    ]);
    expect(clock.take()).toEqual({ allowed: false, limit: 3, remaining: 0, resetSeconds: 1 });
    clock.advance(499);
    expect(clock.take().allowed).toBe(false);
    clock.advance(1); // 2 per second: one token every 500 ms
    expect(clock.take()).toEqual({ allowed: true, limit: 3, remaining: 0, resetSeconds: 1 });
    expect(clock.take().allowed).toBe(false);
  });

  it('refills at requests per unit, up to capacity', () => {
    const clock = limiter([{ requests: 60, unit: 'Minutes' }]);
    expect(clock.takeMany(60).every((outcome) => outcome.allowed)).toBe(true);
    expect(clock.take()).toEqual({ allowed: false, limit: 60, remaining: 0, resetSeconds: 1 });
    clock.advance(10_000);
    const outcomes = clock.takeMany(11);
    expect(outcomes.filter((outcome) => outcome.allowed)).toHaveLength(10);
    clock.advance(24 * 3_600_000);
    expect(clock.take()).toMatchObject({ allowed: true, remaining: 59 });
  });

  it('says how long to wait, in whole seconds rounded up', () => {
    const clock = limiter([{ requests: 1, unit: 'Hours' }]);
    expect(clock.take()).toEqual({ allowed: true, limit: 1, remaining: 0, resetSeconds: 3600 });
    expect(clock.take()).toEqual({ allowed: false, limit: 1, remaining: 0, resetSeconds: 3600 });
    clock.advance(1_800_500);
    expect(clock.take()).toMatchObject({ allowed: false, resetSeconds: 1800 });
    clock.advance(1_799_499);
    expect(clock.take()).toMatchObject({ allowed: false, resetSeconds: 1 });
    clock.advance(1);
    expect(clock.take().allowed).toBe(true);
  });

  it('does not let a clock stepping back refill or drain', () => {
    const clock = limiter([{ requests: 1, unit: 'Seconds' }]);
    expect(clock.take().allowed).toBe(true);
    clock.setClock(0);
    expect(clock.take().allowed).toBe(false);
    clock.setClock(1_000_000 + 1_000);
    expect(clock.take().allowed).toBe(true);
  });
});

describe('several buckets', () => {
  it('needs a token in every bucket, and a refusal takes from none', () => {
    const clock = limiter([
      { requests: 10, unit: 'Seconds' },
      { requests: 3, unit: 'Minutes' },
    ]);
    expect(clock.takeMany(3).map((outcome) => outcome.allowed)).toEqual([true, true, true]);
    const refused = clock.take();
    expect(refused).toEqual({ allowed: false, limit: 3, remaining: 0, resetSeconds: 20 });
    // The per-second bucket was not drained by the refusals: after one per-minute token, a request passes.
    clock.takeMany(50);
    clock.advance(20_000);
    expect(clock.take()).toMatchObject({ allowed: true, limit: 3, remaining: 0 });
  });

  it('reports the tightest bucket', () => {
    const clock = limiter([
      { requests: 100, unit: 'Minutes' },
      { requests: 5, unit: 'Seconds', burst: 5 },
    ]);
    expect(clock.take()).toEqual({ allowed: true, limit: 10, remaining: 9, resetSeconds: 0 });
    clock.takeMany(9);
    expect(clock.take()).toEqual({ allowed: false, limit: 10, remaining: 0, resetSeconds: 1 });
    clock.advance(60_000);
    // The per-second bucket is full again, the per-minute one has refilled to 100 - 10 + 100 (capped): 10 is tighter.
    expect(clock.take()).toMatchObject({ allowed: true, limit: 10, remaining: 9 });
  });

  it('reports the bucket that refills last when several refuse', () => {
    const clock = limiter([
      { requests: 1, unit: 'Seconds' },
      { requests: 1, unit: 'Minutes' },
    ]);
    clock.take();
    expect(clock.take()).toEqual({ allowed: false, limit: 1, remaining: 0, resetSeconds: 60 });
  });
});

describe('limits and headers', () => {
  it('no specs, no limit, no headers', () => {
    const outcome = new LocalRateLimiter([]).take();
    expect(outcome.allowed).toBe(true);
    expect(rateLimitHeaders(outcome)).toEqual({});
  });

  it('headers, with retry-after only when refused', () => {
    expect(rateLimitHeaders({ allowed: true, limit: 3, remaining: 2, resetSeconds: 0 })).toEqual({
      'x-ratelimit-limit': '3',
      'x-ratelimit-remaining': '2',
      'x-ratelimit-reset': '0',
    });
    expect(rateLimitHeaders({ allowed: false, limit: 3, remaining: 0, resetSeconds: 7 })).toEqual({
      'x-ratelimit-limit': '3',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': '7',
      'retry-after': '7',
    });
  });

  it.each([
    { requests: 0, unit: 'Seconds' },
    { requests: 1.5, unit: 'Seconds' },
    { requests: 1, unit: 'Days' },
    { requests: 1, unit: 'Seconds', burst: -1 },
  ] as LocalRateLimitSpec[])('refuses %j', (spec) => {
    expect(() => new LocalRateLimiter([spec])).toThrow(RateLimitSpecError);
  });
});
