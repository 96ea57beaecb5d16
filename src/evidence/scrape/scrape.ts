// Scraping as Prometheus does it: every interval, each discovered target's exposition is fetched, its samples
// get the target's labels (a label the target exposes itself that clashes is kept as `exported_<name>`, as
// honor_labels: false does), and the scrape's own series are added: `up`, `scrape_duration_seconds`,
// `scrape_samples_scraped`. A failed scrape writes `up 0` and marks the target's series stale; a target no
// longer discovered has its series marked stale and is forgotten. Fetching is the caller's (I/O at the edge).
import { METRIC_NAME, parseExposition, type ExposedSample, type Labels, type MemoryStore } from '../tsdb/index.ts';

export interface ScrapeTarget {
  /** Stable identity of the target across discoveries (its job and instance). */
  key: string;
  /** `job`, `instance` and the discovery labels (`namespace`, `pod`, `service`, …). */
  labels: Labels;
  /** What `/api/v1/targets` shows as the scrape URL. */
  url: string;
  /** Fetch the exposition text; throw (or reject) when the scrape fails. */
  fetch(signal: AbortSignal): Promise<string>;
  /**
   * Metric names this target may not report, dropped before storage (as a ServiceMonitor's metricRelabelings
   * `drop` would): a workload must not be able to write the mesh's own evidence about others.
   */
  dropMetric?: (name: string) => boolean;
}

export interface TargetHealth {
  target: ScrapeTarget;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
  lastScrape?: number;
  lastScrapeDurationSeconds: number;
}

export interface ScrapeOptions {
  store: MemoryStore;
  /** The targets now (called at every scrape: discovery follows the cluster). */
  discover(): ScrapeTarget[];
  intervalMs?: number;
  /** Per target; Prometheus' default is 10 s, bounded by the interval here so that scrapes never pile up. */
  timeoutMs?: number;
  now?: () => number;
  /** Most samples one scrape may bring, as Prometheus' sample_limit: more fails the scrape (default 20,000). */
  sampleLimit?: number;
  /** Told about every failed scrape (for logs); optional. */
  onError?: (target: ScrapeTarget, error: Error) => void;
}

export const DEFAULT_SCRAPE_INTERVAL_MS = 2_000;
export const DEFAULT_SAMPLE_LIMIT = 20_000;

export class Scraper {
  private readonly health = new Map<string, TargetHealth>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private epoch = 0;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly options: ScrapeOptions) {
    this.intervalMs = options.intervalMs ?? DEFAULT_SCRAPE_INTERVAL_MS;
    this.timeoutMs = Math.min(options.timeoutMs ?? 10_000, this.intervalMs);
    this.now = options.now ?? Date.now;
  }

  /** Scrape every target once, all at the same timestamp; resolves when every scrape is stored. */
  async scrapeOnce(): Promise<void> {
    const t = this.now();
    const targets = this.options.discover();
    const current = new Set(targets.map((target) => target.key));
    for (const key of [...this.health.keys()]) {
      if (current.has(key)) continue;
      this.options.store.forgetTarget(key, t);
      this.health.delete(key);
    }
    await Promise.all(targets.map((target) => this.scrapeTarget(target, t)));
  }

  private async scrapeTarget(target: ScrapeTarget, t: number): Promise<void> {
    const epoch = this.epoch;
    const started = performance.now();
    let samples: ExposedSample[] = [];
    let error: Error | undefined;
    try {
      const text = await withTimeout((signal) => target.fetch(signal), this.timeoutMs);
      const parsed = parseExposition(text).filter((sample) => !target.dropMetric?.(sample.labels[METRIC_NAME] ?? ''));
      const limit = this.options.sampleLimit ?? DEFAULT_SAMPLE_LIMIT;
      // One target must not fill the store's series cap and starve the others' evidence.
      if (parsed.length > limit) throw new Error(`sample limit exceeded: ${parsed.length} samples, limit ${limit}`);
      samples = parsed.map((sample) => ({ ...sample, labels: withTargetLabels(sample.labels, target.labels) }));
    } catch (caught) {
      error = caught instanceof Error ? caught : new Error(String(caught));
      samples = [];
    }
    const seconds = (performance.now() - started) / 1000;
    // A reset while this scrape ran: what it read belongs to the old epoch.
    if (epoch !== this.epoch) return;
    const own = (name: string, value: number): ExposedSample => ({ labels: { ...target.labels, [METRIC_NAME]: name }, value });
    const stored = [...samples, own('up', error ? 0 : 1), own('scrape_duration_seconds', seconds), own('scrape_samples_scraped', samples.length)];
    const previous = this.health.get(target.key);
    this.options.store.ingestScrape(target.key, stored, t, previous?.health === 'up' && previous.lastScrape !== undefined ? { previousScrapeAt: previous.lastScrape } : {});
    this.health.set(target.key, { target, health: error ? 'down' : 'up', lastError: error?.message ?? '', lastScrape: t, lastScrapeDurationSeconds: seconds });
    if (error) this.options.onError?.(target, error);
  }

  /** Scrape now and then every interval; a scrape still running when the next is due is not doubled. */
  start(): void {
    if (this.timer) return;
    const tick = (): void => {
      if (this.running) return;
      this.running = this.scrapeOnce().finally(() => (this.running = undefined));
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** A new epoch (the lab's `reset`): forget every target's health; scrapes still running are not stored. */
  reset(): void {
    this.epoch++;
    this.health.clear();
  }

  /** Every target as last scraped (discovered but not yet scraped: health `unknown`). */
  targets(): TargetHealth[] {
    const known = this.options.discover().map((target) => this.health.get(target.key) ?? { target, health: 'unknown' as const, lastError: '', lastScrapeDurationSeconds: 0 });
    return known.sort((a, b) => a.target.key.localeCompare(b.target.key));
  }
}

/** The target's labels win; an exposed label of the same name is kept as `exported_<name>`. */
export function withTargetLabels(exposed: Labels, target: Labels): Labels {
  const out: Record<string, string> = { ...exposed };
  for (const [name, value] of Object.entries(target)) {
    if (name in out && out[name] !== value) out[`exported_${name}`] = out[name]!;
    out[name] = value;
  }
  return out;
}

async function withTimeout<T>(run: (signal: AbortSignal) => Promise<T>, ms: number): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      run(controller.signal),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new Error(`scrape timed out after ${ms} ms`));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
