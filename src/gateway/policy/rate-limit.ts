// Local rate limiting as agentgateway's `localRateLimit`: a token bucket per spec, holding `requests + burst`
// tokens, refilled continuously at `requests` per unit, and full at the start. A request takes one token from every
// bucket, or from none: it is refused unless each bucket has one, so a refused request does not drain the others.
// The clock is injected (milliseconds, monotonic by default) so that tests never sleep.

export interface LocalRateLimitSpec {
  requests: number;
  unit: 'Seconds' | 'Minutes' | 'Hours';
  burst?: number;
}

export interface RateLimitOutcome {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** seconds until a token is available again (≥ 0, integer) */
  resetSeconds: number;
}

/** A spec that cannot be enforced: non-positive or non-integer counts, an unknown unit. */
export class RateLimitSpecError extends Error {
  override readonly name = 'RateLimitSpecError';
  constructor(
    readonly spec: LocalRateLimitSpec,
    readonly problem: string,
  ) {
    super(`local rate limit ${JSON.stringify(spec)}: ${problem}`);
  }
}

const UNIT_MILLIS: Record<LocalRateLimitSpec['unit'], number> = { Seconds: 1_000, Minutes: 60_000, Hours: 3_600_000 };

// Refill is floating point: a bucket that should hold exactly one token may hold 0.9999999999.
const EPSILON = 1e-9;

interface Bucket {
  readonly capacity: number;
  /** Tokens per millisecond. */
  readonly rate: number;
  tokens: number;
}

function bucketOf(spec: LocalRateLimitSpec): Bucket {
  const unit = Object.hasOwn(UNIT_MILLIS, spec.unit) ? UNIT_MILLIS[spec.unit] : undefined;
  if (unit === undefined) throw new RateLimitSpecError(spec, `unit must be Seconds, Minutes or Hours`);
  if (!Number.isSafeInteger(spec.requests) || spec.requests < 1) throw new RateLimitSpecError(spec, 'requests must be a positive integer');
  const burst = spec.burst ?? 0;
  if (!Number.isSafeInteger(burst) || burst < 0) throw new RateLimitSpecError(spec, 'burst must be a non-negative integer');
  const capacity = spec.requests + burst;
  return { capacity, rate: spec.requests / unit, tokens: capacity };
}

/** Whole seconds until the bucket holds a token (0 if it holds one now). */
function secondsUntilToken(bucket: Bucket): number {
  const missing = 1 - bucket.tokens;
  if (missing <= EPSILON) return 0;
  return Math.ceil(missing / bucket.rate / 1000 - EPSILON);
}

function remainingIn(bucket: Bucket): number {
  return Math.floor(bucket.tokens + EPSILON);
}

const UNLIMITED: RateLimitOutcome = Object.freeze({ allowed: true, limit: Infinity, remaining: Infinity, resetSeconds: 0 });

export class LocalRateLimiter {
  readonly #buckets: readonly Bucket[];
  readonly #now: () => number;
  #last: number;

  /** Throws RateLimitSpecError for a spec it cannot enforce. No specs means no limit. */
  constructor(specs: LocalRateLimitSpec[], now: () => number = () => performance.now()) {
    this.#buckets = specs.map(bucketOf);
    this.#now = now;
    this.#last = now();
  }

  /** Take a token from every bucket, or from none; reports the tightest bucket. */
  take(): RateLimitOutcome {
    if (this.#buckets.length === 0) return UNLIMITED;
    this.#refill();
    const refusing = this.#buckets.filter((bucket) => bucket.tokens + EPSILON < 1);
    if (refusing.length > 0) {
      // The bucket that takes longest to refill decides when a retry can succeed.
      const slowest = refusing.reduce((a, b) => (secondsUntilToken(b) > secondsUntilToken(a) ? b : a));
      return { allowed: false, limit: slowest.capacity, remaining: 0, resetSeconds: Math.max(1, secondsUntilToken(slowest)) };
    }
    for (const bucket of this.#buckets) bucket.tokens = Math.max(0, bucket.tokens - 1);
    // The tightest: fewest tokens left, then the longest wait for the next one.
    const tightest = this.#buckets.reduce((a, b) => {
      const byRemaining = remainingIn(b) - remainingIn(a);
      if (byRemaining !== 0) return byRemaining < 0 ? b : a;
      return secondsUntilToken(b) > secondsUntilToken(a) ? b : a;
    });
    return { allowed: true, limit: tightest.capacity, remaining: remainingIn(tightest), resetSeconds: secondsUntilToken(tightest) };
  }

  #refill(): void {
    const now = this.#now();
    // A clock that steps back (an injected wall clock) refills nothing rather than draining.
    const elapsed = Math.max(0, now - this.#last);
    this.#last = Math.max(this.#last, now);
    if (elapsed === 0) return;
    for (const bucket of this.#buckets) bucket.tokens = Math.min(bucket.capacity, bucket.tokens + elapsed * bucket.rate);
  }
}

/** x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset, and retry-after when refused; none without a limit. */
export function rateLimitHeaders(outcome: RateLimitOutcome): Record<string, string> {
  if (!Number.isFinite(outcome.limit)) return {};
  const headers: Record<string, string> = {
    'x-ratelimit-limit': String(outcome.limit),
    'x-ratelimit-remaining': String(outcome.remaining),
    'x-ratelimit-reset': String(outcome.resetSeconds),
  };
  if (!outcome.allowed) headers['retry-after'] = String(outcome.resetSeconds);
  return headers;
}
