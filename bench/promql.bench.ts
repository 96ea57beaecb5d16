// The embedded metric store and PromQL engine: ingest, memory per series and per sample, and query time.
// Baselines are measured in the same run: ingest against parsing the exposition alone and against a naive store
// (an array of {t, v} objects per series); memory against that naive store; queries against a bare selector over
// the same series. `--smoke` shrinks every count.
import { Engine } from '../src/evidence/promql/index.ts';
import { MemoryStore, parseExposition, labelsKey, BYTES_PER_SAMPLE, type ExposedSample } from '../src/evidence/tsdb/index.ts';
import { sized, summarise, type Sample } from './stats.ts';

const TARGETS = sized(20, 2);
const SERIES_PER_TARGET = sized(250, 10);
const SCRAPES = sized(360, 20);
const SCRAPE_INTERVAL_MS = 2_000;
const QUERY_RUNS = sized(30, 3);

function exposition(target: number, scrape: number): string {
  const lines: string[] = ['# HELP requests_total Requests.', '# TYPE requests_total counter'];
  for (let i = 0; i < SERIES_PER_TARGET; i++) {
    lines.push(`requests_total{job="job-${target % 4}",instance="10.0.${target}.1:9090",route="/r${i % 25}",code="${i % 10 === 0 ? 500 : 200}",shard="${i}"} ${scrape * (i + 1)}`);
  }
  return lines.join('\n');
}

function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
}

function fmt(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;
}

function table(title: string, baseline: Sample, subjects: Sample[]): void {
  console.log(`\n${title}`);
  console.log(`  ${'case'.padEnd(52)} ${'p50'.padStart(10)} ${'p95'.padStart(10)} ${'n'.padStart(5)}  ratio p50 vs baseline`);
  for (const sample of [baseline, ...subjects]) {
    const ratio = sample === baseline ? 'baseline' : `${(sample.p50 / baseline.p50).toFixed(2)} ×`;
    console.log(`  ${sample.label.padEnd(52)} ${fmt(sample.p50).padStart(10)} ${fmt(sample.p95).padStart(10)} ${String(sample.n).padStart(5)}  ${ratio}`);
  }
}

export async function run(): Promise<void> {
  const texts = Array.from({ length: TARGETS }, (_, target) => Array.from({ length: 4 }, (_, k) => exposition(target, k)));
  const seriesCount = TARGETS * SERIES_PER_TARGET;
  const samplesTotal = seriesCount * SCRAPES;
  console.log(`\nPromQL store: ${TARGETS} targets × ${SERIES_PER_TARGET} series, ${SCRAPES} scrapes every ${SCRAPE_INTERVAL_MS / 1000} s (${seriesCount} series, ${samplesTotal} samples)${(globalThis as { gc?: unknown }).gc ? '' : ' — run node with --expose-gc for steadier memory numbers'}`);

  // Ingest: one scrape of every target per sample, timed per scrape round.
  const parseOnly: number[] = [];
  const naiveTimes: number[] = [];
  const storeTimes: number[] = [];
  const naive = new Map<string, { labels: Record<string, string>; points: { t: number; v: number }[] }>();
  const store = new MemoryStore({ retentionMs: 60 * 60 * 1000, maxSeries: seriesCount + 10 });
  const parsedRounds: ExposedSample[][][] = [];
  for (let scrape = 0; scrape < SCRAPES; scrape++) {
    let started = performance.now();
    const parsed = texts.map((variants) => parseExposition(variants[scrape % 4]!));
    parseOnly.push(performance.now() - started);
    if (scrape < 4) parsedRounds.push(parsed);
    const t = scrape * SCRAPE_INTERVAL_MS;
    started = performance.now();
    parsed.forEach((samples, target) => {
      const result = store.ingestScrape(`target-${target}`, samples, t);
      if (result.refused.length > 0) throw new Error(`ingest refused: ${result.refused[0]!.message}`);
    });
    storeTimes.push(performance.now() - started);
  }
  for (let scrape = 0; scrape < SCRAPES; scrape++) {
    const parsed = parsedRounds[scrape % 4]!;
    const t = scrape * SCRAPE_INTERVAL_MS;
    const started = performance.now();
    for (const samples of parsed) {
      for (const sample of samples) {
        const key = labelsKey(sample.labels);
        let series = naive.get(key);
        if (!series) naive.set(key, (series = { labels: { ...sample.labels }, points: [] }));
        series.points.push({ t, v: sample.value });
      }
    }
    naiveTimes.push(performance.now() - started);
  }
  naive.clear();
  table(`Ingest: one scrape round of ${TARGETS} targets (${seriesCount} samples)`, summarise('parse the exposition only', parseOnly), [
    summarise('naive store: {t, v} objects per series', naiveTimes),
    summarise('MemoryStore.ingestScrape (typed arrays, staleness)', storeTimes),
  ]);

  // Memory, measured on fresh stores filled from already-parsed scrapes so that parsing garbage is not counted.
  let storeBytes = heapUsed();
  const filled = new MemoryStore({ retentionMs: 60 * 60 * 1000, maxSeries: seriesCount + 10 });
  for (let scrape = 0; scrape < SCRAPES; scrape++) parsedRounds[scrape % 4]!.forEach((samples, target) => filled.ingestScrape(`target-${target}`, samples, scrape * SCRAPE_INTERVAL_MS));
  storeBytes = heapUsed() - storeBytes;
  let naiveBytes = heapUsed();
  for (let scrape = 0; scrape < SCRAPES; scrape++) {
    for (const samples of parsedRounds[scrape % 4]!) {
      for (const sample of samples) {
        const key = labelsKey(sample.labels);
        let series = naive.get(key);
        if (!series) naive.set(key, (series = { labels: { ...sample.labels }, points: [] }));
        series.points.push({ t: scrape * SCRAPE_INTERVAL_MS, v: sample.value });
      }
    }
  }
  naiveBytes = heapUsed() - naiveBytes;
  if (filled.stats().samples !== samplesTotal || naive.size !== seriesCount) throw new Error('memory fill stored the wrong number of samples');

  const stats = filled.stats();
  console.log('\nMemory');
  console.log(`  typed-array storage: ${stats.sampleBytes} bytes for ${stats.samples} samples = ${(stats.sampleBytes / stats.samples).toFixed(1)} bytes/sample (${BYTES_PER_SAMPLE} when the arrays are full; capacity doubles)`);
  console.log(`  heap growth, MemoryStore: ${(storeBytes / samplesTotal).toFixed(1)} bytes/sample, ${(storeBytes / seriesCount / 1024).toFixed(1)} KiB/series with ${SCRAPES} samples each`);
  console.log(`  heap growth, naive store: ${(naiveBytes / samplesTotal).toFixed(1)} bytes/sample (${(naiveBytes / Math.max(1, storeBytes)).toFixed(2)} × the MemoryStore)`);
  naive.clear();

  // Queries at the end of the data, over all series.
  const engine = new Engine(store);
  const end = (SCRAPES - 1) * SCRAPE_INTERVAL_MS;
  const timeQuery = (label: string, fn: () => unknown): Sample => {
    fn();
    const times: number[] = [];
    for (let i = 0; i < QUERY_RUNS; i++) {
      const started = performance.now();
      fn();
      times.push(performance.now() - started);
    }
    return summarise(label, times);
  };
  const baseline = timeQuery(`requests_total (${seriesCount} series)`, () => engine.instantQuery('requests_total', end));
  const rangeStart = Math.max(0, end - 10 * 60 * 1000);
  table('Query (instant unless said)', baseline, [
    timeQuery('requests_total{code="500"}', () => engine.instantQuery('requests_total{code="500"}', end)),
    timeQuery('sum by (job, code) (rate(requests_total[5m]))', () => engine.instantQuery('sum by (job, code) (rate(requests_total[5m]))', end)),
    timeQuery('alert: sum by (job) (rate(…{code=~"5.."}[5m])) > 0', () => engine.instantQuery('sum by (job) (rate(requests_total{code=~"5.."}[5m])) > 0', end)),
    timeQuery('range 10 min / 15 s: sum by (job) (rate(requests_total[1m]))', () => engine.rangeQuery('sum by (job) (rate(requests_total[1m]))', rangeStart, end, 15_000)),
  ]);
}
