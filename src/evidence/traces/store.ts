// The collector's trace store: spans by trace, in memory, bounded by a span count (whole traces are evicted,
// oldest first, as Tempo's retention drops blocks), searched by tags the way Tempo's /api/search does it.
import { attribute, valueText, type StoredSpan } from './otlp.ts';

export const DEFAULT_MAX_SPANS = 50_000;
/** One trace may not take the whole store (a loop that spans without end). */
export const MAX_SPANS_PER_TRACE = 2_000;

interface TraceEntry {
  spans: StoredSpan[];
  /** When the collector first saw it (eviction order). */
  seq: number;
}

export interface TraceSummary {
  traceID: string;
  rootServiceName: string;
  rootTraceName: string;
  startTimeUnixNano: string;
  durationMs: number;
}

export interface SearchQuery {
  /** key=value pairs that one span (its attributes or its resource's) must all have. */
  tags: [string, string][];
  /** Unix seconds; a trace matches when it overlaps [start, end]. */
  start?: number;
  end?: number;
  minDurationMs?: number;
  maxDurationMs?: number;
  limit: number;
}

export class TraceStore {
  private readonly traces = new Map<string, TraceEntry>();
  private spanCount = 0;
  private seq = 0;
  /** Spans refused because the store or their trace was full (counted by the collector's metrics). */
  droppedSpans = 0;
  evictedTraces = 0;

  constructor(private readonly maxSpans = DEFAULT_MAX_SPANS) {}

  add(spans: readonly StoredSpan[]): number {
    let added = 0;
    for (const span of spans) {
      let entry = this.traces.get(span.traceId);
      if (!entry) this.traces.set(span.traceId, (entry = { spans: [], seq: this.seq++ }));
      if (entry.spans.length >= MAX_SPANS_PER_TRACE) {
        this.droppedSpans++;
        continue;
      }
      // A span sent twice (a retry) is kept once.
      if (entry.spans.some((s) => s.spanId === span.spanId)) continue;
      entry.spans.push(span);
      this.spanCount++;
      added++;
    }
    this.evict();
    return added;
  }

  private evict(): void {
    // Maps iterate in insertion order: the first trace is the oldest.
    for (const [traceId, entry] of this.traces) {
      if (this.spanCount <= this.maxSpans) break;
      this.traces.delete(traceId);
      this.spanCount -= entry.spans.length;
      this.evictedTraces++;
    }
  }

  get size(): { traces: number; spans: number } {
    return { traces: this.traces.size, spans: this.spanCount };
  }

  trace(traceId: string): StoredSpan[] | undefined {
    return this.traces.get(traceId.toLowerCase())?.spans;
  }

  search(query: SearchQuery): TraceSummary[] {
    const found: TraceSummary[] = [];
    // Newest first, as Tempo lists recent traces.
    for (const [traceId, entry] of [...this.traces].reverse()) {
      const summary = summarise(traceId, entry.spans);
      const startSeconds = Number(BigInt(summary.startTimeUnixNano) / 1_000_000_000n);
      const endSeconds = startSeconds + summary.durationMs / 1000;
      if (query.start !== undefined && endSeconds < query.start) continue;
      if (query.end !== undefined && startSeconds > query.end) continue;
      if (query.minDurationMs !== undefined && summary.durationMs < query.minDurationMs) continue;
      if (query.maxDurationMs !== undefined && summary.durationMs > query.maxDurationMs) continue;
      if (query.tags.length > 0 && !entry.spans.some((span) => query.tags.every(([key, value]) => spanValue(span, key) === value))) continue;
      found.push(summary);
      if (found.length >= query.limit) break;
    }
    return found;
  }

  /** Every tag name (span and resource attributes, plus name and status), for /api/search/tags. */
  tagNames(): string[] {
    const names = new Set<string>(['name', 'status']);
    for (const { spans } of this.traces.values()) for (const span of spans) for (const kv of [...span.attributes, ...span.resource]) names.add(kv.key);
    return [...names].sort();
  }

  tagValues(tag: string, limit = 1000): string[] {
    const values = new Set<string>();
    for (const { spans } of this.traces.values()) {
      for (const span of spans) {
        const v = spanValue(span, tag);
        if (v !== undefined) values.add(v);
        if (values.size >= limit) return [...values].sort();
      }
    }
    return [...values].sort();
  }

  clear(): void {
    this.traces.clear();
    this.spanCount = 0;
  }
}

const STATUS = ['unset', 'ok', 'error'];

/** A span's value for a tag: its own attribute, else its resource's; `name` and `status` are intrinsic. */
export function spanValue(span: StoredSpan, key: string): string | undefined {
  if (key === 'name') return span.name;
  if (key === 'status') return STATUS[span.status.code];
  return attribute(span.attributes, key) ?? attribute(span.resource, key);
}

/** The root (the span without a parent in the trace, else the earliest), start and duration. */
export function summarise(traceId: string, spans: readonly StoredSpan[]): TraceSummary {
  const ids = new Set(spans.map((s) => s.spanId));
  const byStart = [...spans].sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));
  const root = byStart.find((s) => s.parentSpanId === undefined || !ids.has(s.parentSpanId)) ?? byStart[0]!;
  const start = byStart[0] ? BigInt(byStart[0].startTimeUnixNano) : 0n;
  const end = spans.reduce((max, s) => (BigInt(s.endTimeUnixNano) > max ? BigInt(s.endTimeUnixNano) : max), start);
  return {
    traceID: traceId,
    rootServiceName: (root && attribute(root.resource, 'service.name')) ?? '<root span not yet received>',
    rootTraceName: root?.name ?? '',
    startTimeUnixNano: start.toString(),
    durationMs: Number((end - start) / 1_000_000n),
  };
}

/**
 * Tempo's `tags` parameter: logfmt, `key=value key2="a value"`. Returns the pairs, or a message naming what
 * is wrong.
 */
export function parseTags(text: string): [string, string][] | string {
  const pairs: [string, string][] = [];
  const pattern = /\s*([^\s=]+)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/y;
  let rest = text.trim();
  while (rest.length > 0) {
    pattern.lastIndex = 0;
    const match = pattern.exec(rest);
    if (!match) return `tags must be logfmt (key=value key2="a value"), got "${rest.slice(0, 60)}"`;
    pairs.push([match[1]!, match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : match[3]!]);
    rest = rest.slice(pattern.lastIndex).trim();
  }
  return pairs;
}

export { valueText };
