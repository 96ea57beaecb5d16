// Silences: matchers over a time window; an active silence mutes every alert all its matchers match.
import { randomUUID } from 'node:crypto';
import type { Labels } from './labels.ts';
import type { Matcher } from './matchers.ts';
import { makeMatcher, matchesAll } from './matchers.ts';

export interface SilenceMatcher {
  readonly name: string;
  readonly value: string;
  readonly isRegex: boolean;
  readonly isEqual: boolean;
}

export interface Silence {
  readonly id: string;
  readonly matchers: readonly SilenceMatcher[];
  readonly startsAt: number;
  readonly endsAt: number;
  readonly createdBy: string;
  readonly comment: string;
  readonly updatedAt: number;
}

export type SilenceState = 'pending' | 'active' | 'expired';

export function silenceState(silence: Silence, now: number): SilenceState {
  if (now < silence.startsAt) return 'pending';
  if (now >= silence.endsAt) return 'expired';
  return 'active';
}

export function compileSilenceMatchers(matchers: readonly SilenceMatcher[]): Matcher[] {
  return matchers.map((m) => makeMatcher(m.name, m.isRegex ? (m.isEqual ? '=~' : '!~') : m.isEqual ? '=' : '!=', m.value));
}

export class SilenceNotFoundError extends Error {
  override readonly name = 'SilenceNotFoundError';
  constructor(readonly id: string) {
    super('not found');
  }
}

export class SilenceExpiredError extends Error {
  override readonly name = 'SilenceExpiredError';
  constructor(readonly id: string) {
    super(`silence ${id} already expired`);
  }
}

export class SilenceLimitError extends Error {
  override readonly name = 'SilenceLimitError';
  constructor(readonly limit: number) {
    super(`too many silences: at most ${limit} that have not expired`);
  }
}

/** Alertmanager's silence validation; a string is its message. */
export function validateSilence(s: Omit<Silence, 'id' | 'updatedAt'>, now: number): string | undefined {
  if (s.matchers.length === 0) return 'at least one matcher required';
  let compiled: Matcher[];
  try {
    compiled = compileSilenceMatchers(s.matchers);
  } catch (error) {
    return `invalid label matcher: ${(error as Error).message}`;
  }
  if (compiled.every((m) => m.test(''))) return 'at least one matcher must not match the empty string';
  if (s.endsAt < s.startsAt) return 'end time must not be before start time';
  if (s.endsAt < now) return "end time can't be in the past";
  return undefined;
}

export class SilenceStore {
  private readonly silences = new Map<string, { silence: Silence; compiled: Matcher[] }>();

  constructor(readonly maxSilences: number) {}

  /** Create, or replace an existing one (the old one expires and a new id is issued, as Alertmanager does). */
  upsert(input: Omit<Silence, 'id' | 'updatedAt'> & { id?: string }, now: number): Silence {
    if (input.id) {
      const old = this.silences.get(input.id);
      if (!old) throw new SilenceNotFoundError(input.id);
      if (silenceState(old.silence, now) !== 'expired') this.expire(input.id, now);
    }
    const live = [...this.silences.values()].filter((s) => silenceState(s.silence, now) !== 'expired').length;
    if (live >= this.maxSilences) throw new SilenceLimitError(this.maxSilences);
    this.collectExpired(now);
    const silence: Silence = { ...input, id: randomUUID(), startsAt: Math.max(input.startsAt, now), updatedAt: now };
    this.silences.set(silence.id, { silence, compiled: compileSilenceMatchers(silence.matchers) });
    return silence;
  }

  get(id: string): Silence | undefined {
    return this.silences.get(id)?.silence;
  }

  list(): Silence[] {
    return [...this.silences.values()].map((s) => s.silence);
  }

  expire(id: string, now: number): void {
    const entry = this.silences.get(id);
    if (!entry) throw new SilenceNotFoundError(id);
    if (silenceState(entry.silence, now) === 'expired') throw new SilenceExpiredError(id);
    const startsAt = Math.min(entry.silence.startsAt, now);
    const silence = { ...entry.silence, startsAt, endsAt: now, updatedAt: now };
    this.silences.set(id, { silence, compiled: entry.compiled });
  }

  /** Ids of the active silences that mute these labels. */
  mutedBy(labels: Labels, now: number): string[] {
    const ids: string[] = [];
    for (const { silence, compiled } of this.silences.values()) {
      if (silenceState(silence, now) === 'active' && matchesAll(compiled, labels)) ids.push(silence.id);
    }
    return ids;
  }

  clear(): void {
    this.silences.clear();
  }

  // Expired silences stay visible for a while (Alertmanager keeps them for its retention); we keep the newest
  // so that the map stays bounded by twice the limit.
  private collectExpired(now: number): void {
    const expired = [...this.silences.values()].filter((s) => silenceState(s.silence, now) === 'expired');
    const excess = this.silences.size - 2 * this.maxSilences + 1;
    if (excess <= 0) return;
    expired
      .sort((a, b) => a.silence.endsAt - b.silence.endsAt)
      .slice(0, excess)
      .forEach((s) => this.silences.delete(s.silence.id));
  }
}
