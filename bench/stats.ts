// Timing helpers for benchmarks. Every benchmark measures its baseline in the same run and reports the ratio,
// because these machines are noisy and absolute numbers from different runs do not compare.

/** Set by `npm run bench -- --smoke` (bench/run.ts): every benchmark runs with tiny counts, to prove it still runs. */
export const SMOKE_ENV = 'TRUSTUSBANK_BENCH_SMOKE';

export function smoke(): boolean {
  return process.env[SMOKE_ENV] === '1';
}

/** A count or size for a full run, or the tiny one a smoke run uses. */
export function sized<T>(full: T, tiny: T): T {
  return smoke() ? tiny : full;
}

export interface Sample {
  label: string;
  p50: number;
  p95: number;
  n: number;
}

export function summarise(label: string, millis: number[]): Sample {
  const sorted = [...millis].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { label, p50: at(0.5), p95: at(0.95), n: sorted.length };
}

/** Run `fn` `warmup` times untimed, then up to `n` times (or until `maxMs` passes), timing each run. */
export async function time(label: string, fn: () => Promise<unknown>, options: { n: number; warmup?: number; maxMs?: number }): Promise<Sample> {
  const n = sized(options.n, Math.min(options.n, 5));
  const warmup = sized(options.warmup ?? 10, 1);
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  const deadline = performance.now() + sized(options.maxMs ?? 20_000, 2_000);
  while (samples.length < n && performance.now() < deadline) {
    const started = performance.now();
    await fn();
    samples.push(performance.now() - started);
  }
  return summarise(label, samples);
}

export function report(title: string, baseline: Sample, subjects: Sample[]): void {
  const fmt = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);
  console.log(`\n${title}`);
  console.log(`  ${'case'.padEnd(44)} ${'p50'.padStart(10)} ${'p95'.padStart(10)} ${'n'.padStart(6)}  ratio p50 vs baseline`);
  for (const sample of [baseline, ...subjects]) {
    const ratio = sample === baseline ? 'baseline' : `${(sample.p50 / baseline.p50).toFixed(2)} ×`;
    console.log(`  ${sample.label.padEnd(44)} ${fmt(sample.p50).padStart(10)} ${fmt(sample.p95).padStart(10)} ${String(sample.n).padStart(6)}  ${ratio}`);
  }
}
