// The embedded metric store: the only door into src/evidence/tsdb.
export { MemoryStore, BYTES_PER_SAMPLE, DEFAULT_MAX_SERIES, DEFAULT_RETENTION_MS, type SeriesSamples, type StoreOptions, type StoreStats, type ScrapeIngestResult } from './store.ts';
export { parseExposition, parseValue, type ExposedSample } from './exposition.ts';
export { newMatcher, compileRegex, matchesAll, UnsupportedRegexError, type Matcher, type MatchType } from './matcher.ts';
export { labelsKey, normaliseLabels, formatLabels, withoutName, METRIC_NAME, type Labels } from './labels.ts';
export { SeriesLimitError, OutOfOrderSampleError, ExpositionParseError } from './errors.ts';
