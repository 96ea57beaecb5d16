// A bounded table of protocol sessions (MCP 2025-11-25 sessions at the gateway and in the MCP workloads). A
// session holds state (and at the gateway, upstream sessions), so an unbounded table is memory and connections
// a client can grow at will. Bounds:
//   - idle expiry: a session unused for `idleMs` is gone (the next request with its id gets 404, as the spec
//     says for a terminated session, and the client re-initializes);
//   - per caller: a caller at `maxPerCaller` loses its own least recently used session to its new one, so one
//     workload cannot push out other workloads' sessions;
//   - in all: at `maxSessions` the least recently used session that has been idle for `minIdleToEvictMs` goes;
//     if none has (every session was used within a request's longest time, so any may be mid-request), the new
//     session is refused instead (503) rather than cutting an answer short.
// Pure bookkeeping: the caller closes what comes out (`evicted`, `expire`).

export interface SessionLimits {
  maxSessions: number;
  maxPerCaller: number;
  idleMs: number;
  /** Longer than a request may take (the gateway's upstream timeout is 30 s), so an evicted session is not in the middle of one. */
  minIdleToEvictMs: number;
}

/** The documented bounds (README, "Memory bounds"): per MCP route at the gateway, per MCP workload. */
export const DEFAULT_SESSION_LIMITS: SessionLimits = { maxSessions: 1000, maxPerCaller: 100, idleMs: 30 * 60_000, minIdleToEvictMs: 60_000 };

export interface TrackedSession {
  id: string;
  caller: string;
  lastUsed: number;
}

export type Admission<S> = { ok: true; evicted: S[] } | { ok: false; reason: string; evicted: S[] };

export class SessionTable<S extends TrackedSession> {
  /** Insertion order is recency: `touch` moves a session to the end. */
  private readonly sessions = new Map<string, S>();

  constructor(
    readonly limits: SessionLimits = DEFAULT_SESSION_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /** The session, unless it is unknown or has expired (an expired one is removed; the caller closes it via `expire`). */
  get(id: string): S | undefined {
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (this.now() - session.lastUsed > this.limits.idleMs) return undefined;
    return session;
  }

  touch(session: S): void {
    session.lastUsed = this.now();
    if (this.sessions.delete(session.id)) this.sessions.set(session.id, session);
  }

  /**
   * Why a new session for `caller` would be refused, if it would: for a server that must decide before it
   * builds the session (and then `add`s it).
   */
  refusal(caller: string): string | undefined {
    if (this.sessions.size < this.limits.maxSessions) return undefined;
    const now = this.now();
    const cutoff = now - this.limits.idleMs;
    let own = 0;
    for (const s of this.sessions.values()) {
      if (s.lastUsed < cutoff || now - s.lastUsed >= this.limits.minIdleToEvictMs) return undefined;
      if (s.caller === caller && ++own >= this.limits.maxPerCaller) return undefined;
    }
    return this.full();
  }

  /** Add a new session, making room as the bounds say; what was evicted must be closed by the caller. */
  add(session: S): Admission<S> {
    const now = this.now();
    const evicted = this.expire();
    const own = [...this.sessions.values()].filter((s) => s.caller === session.caller);
    if (own.length >= this.limits.maxPerCaller) {
      const oldest = own[0]!;
      this.sessions.delete(oldest.id);
      evicted.push(oldest);
    }
    if (this.sessions.size >= this.limits.maxSessions) {
      const idle = [...this.sessions.values()].find((s) => now - s.lastUsed >= this.limits.minIdleToEvictMs);
      if (!idle) return { ok: false, evicted, reason: this.full() };
      this.sessions.delete(idle.id);
      evicted.push(idle);
    }
    session.lastUsed = now;
    this.sessions.set(session.id, session);
    return { ok: true, evicted };
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  /** Remove and return the sessions idle for longer than `idleMs`. */
  expire(): S[] {
    const cutoff = this.now() - this.limits.idleMs;
    const expired: S[] = [];
    // Recency order: the expired ones are a prefix.
    for (const session of this.sessions.values()) {
      if (session.lastUsed >= cutoff) break;
      expired.push(session);
    }
    for (const session of expired) this.sessions.delete(session.id);
    return expired;
  }

  private full(): string {
    return `the server holds ${this.sessions.size} sessions, all in recent use (at most ${this.limits.maxSessions}); try again later`;
  }

  values(): S[] {
    return [...this.sessions.values()];
  }
}
