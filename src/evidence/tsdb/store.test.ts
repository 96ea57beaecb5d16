import { describe, expect, it } from 'vitest';
import { ExpositionParseError, MemoryStore, newMatcher, OutOfOrderSampleError, parseExposition, SeriesLimitError, UnsupportedRegexError, compileRegex } from './index.ts';

const name = (metric: string) => newMatcher('=', '__name__', metric);

describe('text exposition', () => {
  it('reads names, labels with escapes, special values and timestamps, and skips comments', () => {
    const samples = parseExposition(
      ['# HELP x_total A counter.', '# TYPE x_total counter', 'x_total{a="1",b="q\\"uo\\\\te\\n",} 3.5', 'up 1', 'nan_metric NaN', 'inf{a="x"} +Inf 1700000000000', ''].join('\n'),
    );
    expect(samples).toEqual([
      { labels: { __name__: 'x_total', a: '1', b: 'q"uo\\te\n' }, value: 3.5, cumulative: true },
      { labels: { __name__: 'up' }, value: 1 },
      { labels: { __name__: 'nan_metric' }, value: NaN },
      { labels: { __name__: 'inf', a: 'x' }, value: Infinity, timestampMs: 1700000000000 },
    ]);
  });

  it("marks the series of counters, histograms' buckets, counts and sums, and summaries' counts and sums as cumulative, from their # TYPE", () => {
    const text = [
      '# TYPE requests_total counter', 'requests_total{code="200"} 4',
      '# TYPE legacy counter', 'legacy 2',
      '# TYPE latency_seconds histogram', 'latency_seconds_bucket{le="+Inf"} 3', 'latency_seconds_sum 0.4', 'latency_seconds_count 3',
      '# TYPE rpc summary', 'rpc{quantile="0.5"} 0.1', 'rpc_sum 2', 'rpc_count 7',
      '# TYPE open_total gauge', 'open_total 1',
      'untyped_total 5', '',
    ].join('\n');
    const cumulative = parseExposition(text).filter((s) => s.cumulative).map((s) => s.labels.__name__);
    expect(cumulative).toEqual(['requests_total', 'legacy', 'latency_seconds_bucket', 'latency_seconds_sum', 'latency_seconds_count', 'rpc_sum', 'rpc_count']);
  });

  it.each([
    ['x{a="1" 2', 'expected'],
    ['x{a=1} 2', 'open the value'],
    ['x{a="1",a="2"} 2', 'appears twice'],
    ['x twelve', 'invalid value'],
    ['x 1 2 3', 'optional timestamp'],
    ['{a="1"} 1', 'metric name'],
    ['x{a="\\q"} 1', 'invalid escape'],
  ])('refuses %j naming the line', (line, problem) => {
    const error = (() => {
      try {
        parseExposition(`ok 1\n${line}`);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ExpositionParseError);
    expect((error as ExpositionParseError).line).toBe(2);
    expect((error as Error).message).toContain(problem);
  });
});

describe('matchers', () => {
  it('anchors regexes and treats a missing label as empty', () => {
    expect(newMatcher('=~', 'a', 'foo').matches('foobar')).toBe(false);
    expect(newMatcher('=~', 'a', 'foo|bar').matches('bar')).toBe(true);
    expect(newMatcher('=~', 'a', '(?i)FOO').matches('foo')).toBe(true);
    expect(newMatcher('!~', 'a', 'trustusbank-bank-.*').matches('trustusbank-bank-x')).toBe(false);
  });

  it('refuses nested repetition, which backtracks exponentially in JavaScript, and still accepts plain groups', () => {
    expect(() => compileRegex('(a+)+$')).toThrow(/backtrack exponentially/);
    expect(() => compileRegex('(x|a*)*')).toThrow(UnsupportedRegexError);
    expect(() => compileRegex('(.{1,})+')).toThrow(UnsupportedRegexError);
    const started = performance.now();
    expect(compileRegex('(trustusbank-bank-.*|trustusbank-platform)').test(`${'a'.repeat(50_000)}!`)).toBe(false);
    expect(compileRegex('(ab)+|c*').test('ababab')).toBe(true);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it.each(['(?=a)b', 'a(?!b)', '(a)\\1', '(?<n>a)\\k<n>', 'a(?m)b', '(unclosed'])('refuses %j, which RE2 would not read the same', (pattern) => {
    expect(() => compileRegex(pattern)).toThrow(UnsupportedRegexError);
  });
});

describe('MemoryStore', () => {
  it('selects by matchers within an inclusive time range, using equality and regex', () => {
    const store = new MemoryStore();
    for (let t = 0; t <= 60_000; t += 15_000) {
      store.append({ __name__: 'req_total', pod: 'a', ns: 'bank' }, t, t / 1000);
      store.append({ __name__: 'req_total', pod: 'b', ns: 'vendors' }, t, 2 * (t / 1000));
      store.append({ __name__: 'other', pod: 'a' }, t, 1);
    }
    const both = store.select([name('req_total')], 15_000, 45_000);
    expect(both.map((s) => [s.labels.pod, [...s.t]])).toEqual([
      ['a', [15_000, 30_000, 45_000]],
      ['b', [15_000, 30_000, 45_000]],
    ]);
    const bank = store.select([name('req_total'), newMatcher('=~', 'ns', 'bank|x')], 0, 60_000);
    expect(bank.map((s) => [...s.v])).toEqual([[0, 15, 30, 45, 60]]);
    expect(store.select([newMatcher('=', 'pod', 'a'), newMatcher('!=', '__name__', 'other')], 0, 0).map((s) => s.labels)).toEqual([{ __name__: 'req_total', ns: 'bank', pod: 'a' }]);
    expect(store.select([name('req_total'), newMatcher('=', 'missing', '')], 0, 0)).toHaveLength(2);
  });

  it('treats an empty label value as absent, and label order as irrelevant', () => {
    const store = new MemoryStore();
    store.append({ __name__: 'x', b: '2', a: '1', c: '' }, 1, 1);
    store.append({ a: '1', __name__: 'x', b: '2' }, 2, 2);
    expect(store.stats().series).toBe(1);
    expect(store.select([name('x')], 0, 10)[0]!.labels).toEqual({ __name__: 'x', a: '1', b: '2' });
  });

  it('refuses out-of-order samples and drops a duplicate timestamp', () => {
    const store = new MemoryStore();
    store.append({ __name__: 'x' }, 10, 1);
    store.append({ __name__: 'x' }, 10, 2);
    expect(() => store.append({ __name__: 'x' }, 5, 3)).toThrow(OutOfOrderSampleError);
    expect([...store.select([name('x')], 0, 100)[0]!.v]).toEqual([1]);
    expect(store.stats().samplesOutOfOrder).toBe(1);
  });

  it('caps the number of series with a named error and a counter, and keeps serving the existing ones', () => {
    const store = new MemoryStore({ maxSeries: 2 });
    store.append({ __name__: 'x', i: '1' }, 1, 1);
    store.append({ __name__: 'x', i: '2' }, 1, 1);
    expect(() => store.append({ __name__: 'x', i: '3' }, 1, 1)).toThrow(SeriesLimitError);
    store.append({ __name__: 'x', i: '1' }, 2, 2);
    expect(store.stats()).toMatchObject({ series: 2, seriesRefused: 1 });
    expect(store.metricsText()).toContain('trustusbank_tsdb_series_refused_total 1');
    const scrape = store.ingestScrape('t', [{ labels: { __name__: 'x', i: '4' }, value: 1 }, { labels: { __name__: 'x', i: '2' }, value: 5 }], 3);
    expect(scrape.appended).toBe(1);
    expect(scrape.refused[0]).toBeInstanceOf(SeriesLimitError);
  });

  it('drops samples past retention and forgets series left empty, keeping storage bounded', () => {
    const store = new MemoryStore({ retentionMs: 60_000 });
    for (let t = 0; t < 600_000; t += 1_000) {
      store.append({ __name__: 'x' }, t, t);
      if (t < 30_000) store.append({ __name__: 'gone' }, t, t);
      if (t % 10_000 === 0) store.truncate(t);
    }
    store.truncate(599_000);
    const stats = store.stats();
    expect(stats.series).toBe(1);
    expect(stats.samples).toBe(61);
    // Capacity stays within a small factor of what retention keeps, however long the store runs.
    expect(stats.sampleBytes).toBeLessThanOrEqual(256 * 17);
    expect(store.select([name('x')], 0, 600_000)[0]!.t[0]).toBe(539_000);
    expect(store.select([name('gone')], 0, 600_000)).toEqual([]);
  });

  it('marks series stale when a scrape no longer exposes them, and everything stale when the scrape fails', () => {
    const store = new MemoryStore();
    const a = { labels: { __name__: 'x', pod: 'a' }, value: 1 };
    const b = { labels: { __name__: 'x', pod: 'b' }, value: 2 };
    store.ingestScrape('job/1', [a, b], 1_000);
    expect(store.ingestScrape('job/1', [a], 2_000).staleMarked).toBe(1);
    const [seriesA, seriesB] = store.select([name('x')], 0, 10_000);
    expect([...seriesA!.stale]).toEqual([0, 0]);
    expect([...seriesB!.t]).toEqual([1_000, 2_000]);
    expect([...seriesB!.stale]).toEqual([0, 1]);
    // Another target's scrape does not touch these series.
    store.ingestScrape('job/2', [], 2_500);
    expect(store.ingestScrape('job/1', [], 3_000).staleMarked).toBe(1);
    expect(store.forgetTarget('job/1', 4_000)).toBe(0);
    // A series that comes back gets fresh samples after its marker.
    store.ingestScrape('job/1', [b], 5_000);
    expect([...store.select([name('x'), newMatcher('=', 'pod', 'b')], 0, 10_000)[0]!.stale]).toEqual([0, 1, 0]);
  });

  it('starts a counter that appeared since the previous good scrape at zero just after it, so rate() sees its first increment', () => {
    const store = new MemoryStore();
    const refused = (value: number) => ({ labels: { __name__: 'refused_total', pod: 'a' }, value, cumulative: true });
    const gauge = { labels: { __name__: 'open', pod: 'a' }, value: 3 };
    store.ingestScrape('job/1', [], 1_000);
    expect(store.ingestScrape('job/1', [refused(1), gauge], 2_000, { previousScrapeAt: 1_000 }).zeroStarted).toBe(1);
    const [series] = store.select([name('refused_total')], 0, 10_000);
    expect([...series!.t]).toEqual([1_001, 2_000]);
    expect([...series!.v]).toEqual([0, 1]);
    // A gauge says nothing about its past; a counter seen last time is not new.
    expect(store.select([name('open')], 0, 10_000)[0]!.t.length).toBe(1);
    expect(store.ingestScrape('job/1', [refused(2)], 3_000, { previousScrapeAt: 2_000 }).zeroStarted).toBe(0);
  });

  it('gives no zero start on the first scrape or after a failed one: a counter seen then may be old', () => {
    const store = new MemoryStore();
    const old = { labels: { __name__: 'refused_total', pod: 'a' }, value: 40, cumulative: true };
    expect(store.ingestScrape('job/1', [old], 1_000).zeroStarted).toBe(0);
    store.ingestScrape('job/1', [], 2_000); // the target was down
    expect(store.ingestScrape('job/1', [old], 3_000).zeroStarted).toBe(0);
    expect([...store.select([name('refused_total')], 0, 10_000)[0]!.v].filter((v) => !Number.isNaN(v))).toEqual([40, 40]);
  });

  it('forgets everything on clear, and takes new samples after', () => {
    const store = new MemoryStore();
    store.ingestScrape('job/1', [{ labels: { __name__: 'x', pod: 'a' }, value: 1 }], 1_000);
    store.clear();
    expect(store.stats().series).toBe(0);
    expect(store.labelSets([newMatcher('=~', '__name__', '.+')])).toEqual([]);
    // No stale marker for the forgotten series, and no zero start: the new epoch has no previous scrape.
    expect(store.ingestScrape('job/1', [{ labels: { __name__: 'y', pod: 'a' }, value: 2, cumulative: true }], 2_000, { previousScrapeAt: 1_000 })).toMatchObject({ appended: 1, staleMarked: 0, zeroStarted: 0 });
  });
});
