// An in-memory time-series store. Each series keeps its samples in three parallel typed arrays (timestamp, value,
// stale flag): 17 bytes a sample once the arrays are full, no object per sample. Old samples go at retention, new
// series are refused beyond a cap (counted, never silently), and a scrape that no longer exposes a series writes a
// staleness marker for it, as Prometheus does, so that queries stop seeing it at once instead of 5 min later.
import { OutOfOrderSampleError, SeriesLimitError } from './errors.ts';
import type { ExposedSample } from './exposition.ts';
import { formatLabels, labelsKey, normaliseLabels, type Labels } from './labels.ts';
import { matchesAll, matchesEmpty, type Matcher } from './matcher.ts';

export const DEFAULT_RETENTION_MS = 60 * 60 * 1000;
export const DEFAULT_MAX_SERIES = 50_000;
/** Bytes of typed-array storage per sample: float64 timestamp, float64 value, one byte for the stale flag. */
export const BYTES_PER_SAMPLE = 17;
const INITIAL_CAPACITY = 8;

export interface StoreOptions {
  retentionMs?: number;
  maxSeries?: number;
}

/** One series' samples in a time range; the arrays are views into the store, valid until the next append. */
export interface SeriesSamples {
  readonly labels: Labels;
  readonly t: Float64Array;
  readonly v: Float64Array;
  /** 1 where the sample is a staleness marker (its value is meaningless). */
  readonly stale: Uint8Array;
}

export interface StoreStats {
  series: number;
  samples: number;
  /** Typed-array bytes allocated for samples (capacity, not just use). */
  sampleBytes: number;
  /** New series refused because of the series cap, since the store started. */
  seriesRefused: number;
  /** Samples refused as out of order, since the store started. */
  samplesOutOfOrder: number;
  maxSeries: number;
  retentionMs: number;
}

export interface IngestOptions {
  /**
   * When the target's previous scrape succeeded, its time. A cumulative series (a counter) this scrape exposes
   * and that one did not was created in between, and a counter is created at zero: it gets a zero sample just
   * after the previous scrape, so that `rate` and `increase` see its first increments. Prometheus does the same
   * with a counter's created timestamp (`created-timestamp-zero-ingestion`); here the previous scrape bounds it.
   * Without it, a connection refused once would never show in `rate()`: its series first appears at 1.
   */
  previousScrapeAt?: number;
}

export interface ScrapeIngestResult {
  appended: number;
  /** Cumulative series new since the previous scrape, given a zero start just after it. */
  zeroStarted: number;
  staleMarked: number;
  refused: Error[];
}

class Series {
  t = new Float64Array(INITIAL_CAPACITY);
  v = new Float64Array(INITIAL_CAPACITY);
  stale = new Uint8Array(INITIAL_CAPACITY);
  start = 0;
  end = 0;
  constructor(
    readonly id: number,
    readonly key: string,
    readonly labels: Labels,
  ) {}

  get length(): number {
    return this.end - this.start;
  }

  newest(): number | undefined {
    return this.end > this.start ? this.t[this.end - 1] : undefined;
  }

  push(t: number, v: number, stale: boolean): void {
    if (this.end === this.t.length) this.makeRoom();
    this.t[this.end] = t;
    this.v[this.end] = v;
    this.stale[this.end] = stale ? 1 : 0;
    this.end++;
  }

  /** Reuse the space retention freed when that is at least half the arrays, else double them. */
  private makeRoom(): void {
    const used = this.length;
    const capacity = this.start >= this.t.length / 2 ? this.t.length : this.t.length * 2;
    const t = capacity === this.t.length ? this.t : new Float64Array(capacity);
    const v = capacity === this.v.length ? this.v : new Float64Array(capacity);
    const stale = capacity === this.stale.length ? this.stale : new Uint8Array(capacity);
    t.set(this.t.subarray(this.start, this.end), 0);
    v.set(this.v.subarray(this.start, this.end), 0);
    stale.set(this.stale.subarray(this.start, this.end), 0);
    this.t = t;
    this.v = v;
    this.stale = stale;
    this.start = 0;
    this.end = used;
  }

  /** Index of the first sample with timestamp ≥ t. */
  lowerBound(t: number): number {
    let lo = this.start;
    let hi = this.end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.t[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index just past the last sample with timestamp ≤ t. */
  upperBound(t: number): number {
    let lo = this.start;
    let hi = this.end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.t[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export class MemoryStore {
  readonly retentionMs: number;
  readonly maxSeries: number;
  private readonly byKey = new Map<string, Series>();
  private readonly byId = new Map<number, Series>();
  /** Label name → value → series ids: the inverted index a selector's equality matchers narrow through. */
  private readonly postings = new Map<string, Map<string, Set<number>>>();
  /** Per scrape target, the series its last scrape exposed: the ones missing next time get a stale marker. */
  private readonly lastScrape = new Map<string, Set<string>>();
  private nextId = 1;
  private seriesRefused = 0;
  private samplesOutOfOrder = 0;

  constructor(options: StoreOptions = {}) {
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.maxSeries = options.maxSeries ?? DEFAULT_MAX_SERIES;
  }

  /** Append one sample. Throws SeriesLimitError or OutOfOrderSampleError; a sample at the newest timestamp replaces nothing and is dropped, as Prometheus drops duplicates. */
  append(labels: Labels, t: number, v: number): void {
    this.appendTo(this.seriesFor(labels), t, v, false);
  }

  /** Write a staleness marker: from `t` on, the series has no value (until it gets a new sample). */
  appendStale(labels: Labels, t: number): void {
    const series = this.byKey.get(labelsKey(labels));
    if (series) this.appendTo(series, t, NaN, true);
  }

  private appendTo(series: Series, t: number, v: number, stale: boolean): void {
    const newest = series.newest();
    if (newest !== undefined) {
      if (t < newest) {
        this.samplesOutOfOrder++;
        throw new OutOfOrderSampleError(formatLabels(series.labels), t, newest);
      }
      if (t === newest) return;
    }
    series.push(t, v, stale);
  }

  private seriesFor(labels: Labels): Series {
    const key = labelsKey(labels);
    const existing = this.byKey.get(key);
    if (existing) return existing;
    const normal = normaliseLabels(labels);
    if (this.byKey.size >= this.maxSeries) {
      this.seriesRefused++;
      throw new SeriesLimitError(this.maxSeries, formatLabels(normal));
    }
    const series = new Series(this.nextId++, key, Object.freeze(normal));
    this.byKey.set(key, series);
    this.byId.set(series.id, series);
    for (const [name, value] of Object.entries(normal)) {
      let values = this.postings.get(name);
      if (!values) this.postings.set(name, (values = new Map()));
      let ids = values.get(value);
      if (!ids) values.set(value, (ids = new Set()));
      ids.add(series.id);
    }
    return series;
  }

  /**
   * One scrape of one target at time `t`: append what it exposed, and mark stale every series its previous scrape
   * exposed and this one does not. A failed scrape is `ingestScrape(target, [], t)`: everything goes stale.
   * Refusals (series cap, out of order) are returned, not thrown, so one bad series does not lose the scrape.
   */
  ingestScrape(target: string, samples: readonly ExposedSample[], t: number, options: IngestOptions = {}): ScrapeIngestResult {
    const seen = new Set<string>();
    const result: ScrapeIngestResult = { appended: 0, zeroStarted: 0, staleMarked: 0, refused: [] };
    const previous = options.previousScrapeAt !== undefined ? this.lastScrape.get(target) : undefined;
    for (const sample of samples) {
      try {
        const series = this.seriesFor(sample.labels);
        seen.add(series.key);
        const zeroAt = options.previousScrapeAt! + 1;
        if (previous && sample.cumulative && !previous.has(series.key) && zeroAt < (sample.timestampMs ?? t) && (series.newest() ?? -Infinity) < zeroAt) {
          this.appendTo(series, zeroAt, 0, false);
          result.zeroStarted++;
        }
        const before = series.length;
        this.appendTo(series, sample.timestampMs ?? t, sample.value, false);
        if (series.length > before) result.appended++;
      } catch (error) {
        result.refused.push(error as Error);
      }
    }
    for (const key of this.lastScrape.get(target) ?? []) {
      if (seen.has(key)) continue;
      const series = this.byKey.get(key);
      if (!series || (series.newest() ?? -Infinity) >= t) continue;
      series.push(t, NaN, true);
      result.staleMarked++;
    }
    this.lastScrape.set(target, seen);
    return result;
  }

  /** Forget every series and sample: a new epoch (the lab's `reset`), as an empty Prometheus would start. */
  clear(): void {
    this.byKey.clear();
    this.byId.clear();
    this.postings.clear();
    this.lastScrape.clear();
  }

  /** The target is gone (no longer discovered): its series go stale now and it is forgotten. */
  forgetTarget(target: string, t: number): number {
    const marked = this.ingestScrape(target, [], t).staleMarked;
    this.lastScrape.delete(target);
    return marked;
  }

  /** Series matching every matcher, with their samples whose timestamps lie in [minT, maxT] (both inclusive). */
  select(matchers: readonly Matcher[], minT: number, maxT: number): SeriesSamples[] {
    const out: SeriesSamples[] = [];
    for (const series of this.candidates(matchers)) {
      if (!matchesAll(series.labels, matchers)) continue;
      const from = series.lowerBound(minT);
      const to = series.upperBound(maxT);
      if (from >= to) continue;
      out.push({ labels: series.labels, t: series.t.subarray(from, to), v: series.v.subarray(from, to), stale: series.stale.subarray(from, to) });
    }
    return out;
  }

  /** Label sets of the series matching every matcher (with or without samples in retention). */
  labelSets(matchers: readonly Matcher[]): Labels[] {
    const out: Labels[] = [];
    for (const series of this.candidates(matchers)) if (matchesAll(series.labels, matchers)) out.push(series.labels);
    return out;
  }

  /** Narrow by the smallest posting list among the matchers that cannot match a missing label. */
  private candidates(matchers: readonly Matcher[]): Iterable<Series> {
    let best: Set<number> | undefined;
    for (const matcher of matchers) {
      if (matcher.type !== '=' || matchesEmpty(matcher)) continue;
      const ids = this.postings.get(matcher.name)?.get(matcher.value) ?? new Set<number>();
      if (!best || ids.size < best.size) best = ids;
    }
    if (!best) return this.byId.values();
    const ids = best;
    const byId = this.byId;
    return (function* () {
      for (const id of ids) yield byId.get(id)!;
    })();
  }

  /** Drop samples older than the retention before `now`, and series left with none. */
  truncate(now: number): void {
    const cutoff = now - this.retentionMs;
    for (const series of this.byKey.values()) {
      series.start = series.lowerBound(cutoff);
      if (series.length === 0) this.remove(series);
    }
  }

  private remove(series: Series): void {
    this.byKey.delete(series.key);
    this.byId.delete(series.id);
    for (const [name, value] of Object.entries(series.labels)) {
      const values = this.postings.get(name);
      const ids = values?.get(value);
      ids?.delete(series.id);
      if (ids?.size === 0) values!.delete(value);
      if (values?.size === 0) this.postings.delete(name);
    }
  }

  stats(): StoreStats {
    let samples = 0;
    let sampleBytes = 0;
    for (const series of this.byKey.values()) {
      samples += series.length;
      sampleBytes += series.t.byteLength + series.v.byteLength + series.stale.byteLength;
    }
    return {
      series: this.byKey.size,
      samples,
      sampleBytes,
      seriesRefused: this.seriesRefused,
      samplesOutOfOrder: this.samplesOutOfOrder,
      maxSeries: this.maxSeries,
      retentionMs: this.retentionMs,
    };
  }

  /** The store's own health as Prometheus text, for the evidence component's `/metrics`. */
  metricsText(): string {
    const s = this.stats();
    return [
      '# HELP trustusbank_tsdb_series Series in the embedded metric store.',
      '# TYPE trustusbank_tsdb_series gauge',
      `trustusbank_tsdb_series ${s.series}`,
      '# HELP trustusbank_tsdb_samples Samples held in the embedded metric store.',
      '# TYPE trustusbank_tsdb_samples gauge',
      `trustusbank_tsdb_samples ${s.samples}`,
      '# HELP trustusbank_tsdb_sample_bytes Typed-array bytes allocated for samples.',
      '# TYPE trustusbank_tsdb_sample_bytes gauge',
      `trustusbank_tsdb_sample_bytes ${s.sampleBytes}`,
      '# HELP trustusbank_tsdb_series_limit The series cap: new series beyond it are refused.',
      '# TYPE trustusbank_tsdb_series_limit gauge',
      `trustusbank_tsdb_series_limit ${s.maxSeries}`,
      '# HELP trustusbank_tsdb_series_refused_total New series refused because the series cap was reached.',
      '# TYPE trustusbank_tsdb_series_refused_total counter',
      `trustusbank_tsdb_series_refused_total ${s.seriesRefused}`,
      '# HELP trustusbank_tsdb_out_of_order_samples_total Samples refused as older than their series\' newest.',
      '# TYPE trustusbank_tsdb_out_of_order_samples_total counter',
      `trustusbank_tsdb_out_of_order_samples_total ${s.samplesOutOfOrder}`,
      '',
    ].join('\n');
  }
}
