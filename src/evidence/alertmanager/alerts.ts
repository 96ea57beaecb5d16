// Alerts as the API receives them and the store keeps them: Alertmanager's defaults (startsAt = now, endsAt =
// now + resolve_timeout), its validation messages, and its merge of a re-sent alert with the stored one.
import type { Labels } from './labels.ts';
import { fingerprint, isValidLabelName } from './labels.ts';

export interface Alert {
  readonly fingerprint: string;
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly startsAt: number;
  /** When the alert stops firing; for alerts without an endsAt, now + resolve_timeout (timeout = true). */
  readonly endsAt: number;
  readonly timeout: boolean;
  readonly generatorURL: string;
  readonly updatedAt: number;
}

export function isResolvedAt(alert: Alert, now: number): boolean {
  return alert.endsAt !== 0 && alert.endsAt <= now;
}

/** What a client posted, already checked for shape (see api.ts); times in ms, 0 when absent. */
export interface PostedAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: number;
  endsAt: number;
  generatorURL: string;
}

/** Apply the API's defaults and validate; a string is Alertmanager's own validation message. */
export function acceptAlert(posted: PostedAlert, now: number, resolveTimeout: number): Alert | string {
  const labels = Object.fromEntries(Object.entries(posted.labels).filter(([, value]) => value !== ''));
  let startsAt = posted.startsAt;
  let endsAt = posted.endsAt;
  let timeout = false;
  if (startsAt === 0) startsAt = endsAt === 0 ? now : endsAt;
  if (endsAt === 0) {
    timeout = true;
    endsAt = now + resolveTimeout;
  }
  if (Object.keys(labels).length === 0) return 'at least one label pair required';
  for (const [name, value] of Object.entries(labels)) {
    if (!isValidLabelName(name)) return `invalid name "${name}"`;
    if (!isValidUtf8(value)) return `invalid value "${value}"`;
  }
  for (const name of Object.keys(posted.annotations)) {
    if (!isValidLabelName(name)) return `invalid name "${name}"`;
  }
  if (endsAt < startsAt) return 'start time must be before end time';
  return { fingerprint: fingerprint(labels), labels, annotations: posted.annotations, startsAt, endsAt, timeout, generatorURL: posted.generatorURL, updatedAt: now };
}

function isValidUtf8(value: string): boolean {
  return !/[\uD800-\uDFFF]/.test(value.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''));
}

/** types.Alert.Merge: the younger alert wins, keeping the earliest start and a later explicit end. */
export function mergeAlerts(older: Alert, younger: Alert): Alert {
  if (younger.updatedAt < older.updatedAt) return mergeAlerts(younger, older);
  let { startsAt, endsAt } = younger;
  if (older.startsAt < startsAt) startsAt = older.startsAt;
  const youngerResolved = younger.endsAt !== 0 && younger.endsAt <= younger.updatedAt;
  const olderResolved = older.endsAt !== 0 && older.endsAt <= younger.updatedAt;
  if (youngerResolved) {
    if (olderResolved && older.endsAt > younger.endsAt) endsAt = older.endsAt;
  } else if (older.endsAt > younger.endsAt && !older.timeout) {
    endsAt = older.endsAt;
  }
  return { ...younger, startsAt, endsAt };
}

export class AlertLimitError extends Error {
  override readonly name = 'AlertLimitError';
  constructor(readonly limit: number) {
    super(`too many alerts: the store holds at most ${limit}`);
  }
}

/** The alerts Alertmanager knows, by fingerprint, bounded: resolved alerts are collected before refusing. */
export class AlertStore {
  private readonly alerts = new Map<string, Alert>();

  constructor(readonly maxAlerts: number) {}

  /** Insert or merge (when the activity ranges overlap, as provider/mem does); returns the stored alert. */
  put(alert: Alert, now: number): Alert {
    const old = this.alerts.get(alert.fingerprint);
    let stored = alert;
    if (old) {
      const overlaps = (alert.endsAt > old.startsAt && alert.endsAt < old.endsAt) || (alert.startsAt > old.startsAt && alert.startsAt < old.endsAt);
      if (overlaps) stored = mergeAlerts(old, alert);
    } else if (this.alerts.size >= this.maxAlerts) {
      this.gc(now);
      if (this.alerts.size >= this.maxAlerts) throw new AlertLimitError(this.maxAlerts);
    }
    this.alerts.set(stored.fingerprint, stored);
    return stored;
  }

  get(fp: string): Alert | undefined {
    return this.alerts.get(fp);
  }

  list(): Alert[] {
    return [...this.alerts.values()];
  }

  /** Drop resolved alerts (aggregation groups keep their own copies until they have notified). */
  gc(now: number): number {
    let removed = 0;
    for (const [fp, alert] of this.alerts) {
      if (isResolvedAt(alert, now)) {
        this.alerts.delete(fp);
        removed++;
      }
    }
    return removed;
  }

  clear(): void {
    this.alerts.clear();
  }

  get size(): number {
    return this.alerts.size;
  }
}
