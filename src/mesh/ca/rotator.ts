// Keeps one current SVID per identity and renews it before it expires, as Istio's SecretManager does: at a
// fraction of the lifetime (half by default), so a failed renewal still leaves time to retry.
import type { Svid, SvidIssuer } from './svid.ts';
import { DEFAULT_SVID_TTL_MS } from './authority.ts';
import { DEFAULT_TRUST_DOMAIN, spiffeIdFor } from './spiffe-id.ts';

/** A cancellable one-shot timer. Injectable so tests drive renewal without waiting through real time. */
export interface RenewalScheduler {
  schedule(callback: () => void, delayMs: number): { cancel(): void };
}

// setTimeout holds at most a signed 32-bit delay (about 24.8 days); a longer wait just renews early, which is harmless.
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** Real timers, unref'd: a pending renewal never keeps the process alive on its own. */
export const timerScheduler: RenewalScheduler = {
  schedule(callback, delayMs) {
    const timer = setTimeout(callback, Math.min(Math.max(0, delayMs), MAX_TIMER_DELAY_MS));
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

export interface SvidRotatorOptions {
  /** Lifetime of each SVID issued; one hour by default. */
  ttlMs?: number;
  /** Renew once this fraction of the lifetime has passed; 0.5 by default. */
  renewAtFraction?: number;
  /** After a failed renewal, try again this much later (never past expiry); 5 s by default. */
  retryDelayMs?: number;
  /** The issuer's trust domain, so identities are keyed by the SPIFFE id the issuer will put in them. */
  trustDomain?: string;
  scheduler?: RenewalScheduler;
  now?: () => number;
}

export interface WorkloadAccount {
  namespace: string;
  serviceAccount: string;
}

export interface SvidRenewal {
  spiffeId: string;
  svid: Svid;
  previous: Svid;
}

/** A renewal that failed; the rotator keeps the previous SVID and retries. */
export class SvidRenewalError extends Error {
  override readonly name = 'SvidRenewalError';
  constructor(
    readonly spiffeId: string,
    override readonly cause: unknown,
  ) {
    super(`renewing the SVID of ${spiffeId} failed: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

interface Entry {
  account: WorkloadAccount;
  svid: Svid | undefined;
  /** The issuance in flight, so concurrent callers share it instead of issuing twice. */
  pending: Promise<Svid> | undefined;
  timer: { cancel(): void } | undefined;
}

export class SvidRotator {
  private readonly entries = new Map<string, Entry>();
  private readonly renewedListeners = new Set<(renewal: SvidRenewal) => void>();
  private readonly errorListeners = new Set<(error: SvidRenewalError) => void>();
  private readonly ttlMs: number;
  private readonly renewAtFraction: number;
  private readonly retryDelayMs: number;
  private readonly scheduler: RenewalScheduler;
  private readonly now: () => number;
  private readonly trustDomain: string;
  private stopped = false;

  constructor(
    private readonly issuer: SvidIssuer,
    options: SvidRotatorOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? DEFAULT_SVID_TTL_MS;
    this.renewAtFraction = options.renewAtFraction ?? 0.5;
    if (!(this.renewAtFraction > 0 && this.renewAtFraction < 1)) throw new RangeError(`renewAtFraction must be between 0 and 1, got ${this.renewAtFraction}`);
    this.retryDelayMs = options.retryDelayMs ?? 5000;
    this.scheduler = options.scheduler ?? timerScheduler;
    this.now = options.now ?? Date.now;
    this.trustDomain = options.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  }

  /** The current SVID of this account, issuing the first one (and scheduling its renewal) if there is none yet. */
  async ensure(account: WorkloadAccount): Promise<Svid> {
    if (this.stopped) throw new Error('SvidRotator is stopped');
    const spiffeId = spiffeIdFor(account.namespace, account.serviceAccount, this.trustDomain);
    let entry = this.entries.get(spiffeId);
    if (!entry) {
      entry = { account, svid: undefined, pending: undefined, timer: undefined };
      this.entries.set(spiffeId, entry);
    }
    if (entry.svid) return entry.svid;
    return entry.pending ?? this.issue(spiffeId, entry);
  }

  current(spiffeId: string): Svid | undefined {
    return this.entries.get(spiffeId)?.svid;
  }

  spiffeIds(): string[] {
    return [...this.entries.keys()];
  }

  /** Replace the SVID now rather than at its scheduled time (the timer calls this too). */
  async renew(spiffeId: string): Promise<Svid> {
    const entry = this.entries.get(spiffeId);
    if (!entry) throw new Error(`no SVID is kept for ${spiffeId}`);
    return entry.pending ?? this.issue(spiffeId, entry);
  }

  /** Called with each renewed SVID; returns a function that unsubscribes. */
  onRenewed(listener: (renewal: SvidRenewal) => void): () => void {
    this.renewedListeners.add(listener);
    return () => this.renewedListeners.delete(listener);
  }

  onError(listener: (error: SvidRenewalError) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /** Stop renewing this identity and drop its SVID. */
  forget(spiffeId: string): void {
    this.entries.get(spiffeId)?.timer?.cancel();
    this.entries.delete(spiffeId);
  }

  /** Cancel every pending renewal. Current SVIDs stay readable; nothing is issued any more. */
  stop(): void {
    this.stopped = true;
    for (const entry of this.entries.values()) {
      entry.timer?.cancel();
      entry.timer = undefined;
    }
  }

  private issue(spiffeId: string, entry: Entry): Promise<Svid> {
    const pending = this.issuer.issueSvid({ ...entry.account, ttlMs: this.ttlMs }).then(
      (svid) => {
        entry.pending = undefined;
        if (this.stopped || this.entries.get(spiffeId) !== entry) return svid;
        if (svid.spiffeId !== spiffeId) throw new Error(`issuer returned an SVID for ${svid.spiffeId}, asked for ${spiffeId}`);
        const previous = entry.svid;
        entry.svid = svid;
        // Count the lifetime from when we received it, on our clock, rather than from notBefore, which is backdated.
        this.schedule(spiffeId, entry, this.ttlMs * this.renewAtFraction);
        if (previous) this.emit(this.renewedListeners, { spiffeId, svid, previous });
        return svid;
      },
      (error: unknown) => {
        entry.pending = undefined;
        if (!this.stopped && this.entries.get(spiffeId) === entry && entry.svid) {
          const untilExpiry = entry.svid.notAfter.getTime() - this.now();
          this.schedule(spiffeId, entry, Math.max(0, Math.min(this.retryDelayMs, untilExpiry / 2)));
        }
        const failure = new SvidRenewalError(spiffeId, error);
        // A first issuance has a caller waiting on it; only background renewals need listeners to hear of failure.
        if (entry.svid) this.emit(this.errorListeners, failure);
        throw failure;
      },
    );
    entry.pending = pending;
    return pending;
  }

  private schedule(spiffeId: string, entry: Entry, delayMs: number): void {
    entry.timer?.cancel();
    entry.timer = this.scheduler.schedule(() => {
      entry.timer = undefined;
      // Errors are reported to onError listeners; the rejected promise itself has no one waiting on it.
      this.renew(spiffeId).catch(() => undefined);
    }, delayMs);
  }

  private emit<T>(listeners: Set<(value: T) => void>, value: T): void {
    for (const listener of listeners) {
      try {
        listener(value);
      } catch {
        // A listener's failure is its own; it must not stop renewal or the other listeners.
      }
    }
  }
}
