// OTLP/JSON in (ExportTraceServiceRequest, as OTLP/HTTP carries it), checked and bounded, out as flat spans
// the store keeps. Everything here comes from a pod or a local client, so nothing is trusted: ids must be hex
// of the right length, sizes are capped, and who exported the spans is stamped on their resource by the
// collector (not taken from the request). Pure.
import type { OtlpAnyValue, OtlpKeyValue, OtlpSpan, OtlpTraceRequest } from '../../core/tracing.ts';

/** A span as the store keeps it: the exported span (times are Unix nanoseconds as decimal strings, since they do not
 * fit a double) with the resource attributes and scope name of its batch. */
export interface StoredSpan extends OtlpSpan {
  resource: OtlpKeyValue[];
  scope: string;
}

/** Who handed the spans over, as the collector knows it (never as the spans claim it). */
export type SpanExporter = { kind: 'node' } | { kind: 'pod'; namespace: string; pod: string; spiffeId: string } | { kind: 'otlp-http' };

export const LIMITS = { spansPerRequest: 10_000, attributesPerSpan: 128, eventsPerSpan: 32, stringBytes: 4096, nameBytes: 256 } as const;

export class OtlpError extends Error {
  override readonly name = 'OtlpError';
}

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const NANOS = /^\d{1,20}$/;

const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max)}…` : text);

function value(raw: unknown, depth = 0): OtlpAnyValue | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const v = raw as Record<string, unknown>;
  if (typeof v.stringValue === 'string') return { stringValue: clip(v.stringValue, LIMITS.stringBytes) };
  if (typeof v.boolValue === 'boolean') return { boolValue: v.boolValue };
  if ((typeof v.intValue === 'string' && /^-?\d{1,20}$/.test(v.intValue)) || (typeof v.intValue === 'number' && Number.isInteger(v.intValue))) return { intValue: String(v.intValue) };
  if (typeof v.doubleValue === 'number' && Number.isFinite(v.doubleValue)) return { doubleValue: v.doubleValue };
  const array = (v.arrayValue as { values?: unknown } | undefined)?.values;
  if (depth === 0 && Array.isArray(array)) return { arrayValue: { values: array.slice(0, 64).flatMap((item) => value(item, 1) ?? []) } };
  return undefined;
}

function attributes(raw: unknown): OtlpKeyValue[] {
  if (!Array.isArray(raw)) return [];
  return raw.slice(0, LIMITS.attributesPerSpan).flatMap((entry): OtlpKeyValue[] => {
    const kv = entry as { key?: unknown; value?: unknown } | null;
    if (typeof kv?.key !== 'string' || kv.key === '' || kv.key.length > LIMITS.nameBytes) return [];
    const v = value(kv.value);
    return v ? [{ key: kv.key, value: v }] : [];
  });
}

/** The resource attributes that say who exported the spans, overriding anything the request claimed. */
export function exporterAttributes(exporter: SpanExporter): OtlpKeyValue[] {
  const s = (key: string, v: string): OtlpKeyValue => ({ key, value: { stringValue: v } });
  if (exporter.kind === 'pod') return [s('trustusbank.exporter', 'pod'), s('trustusbank.exporter.spiffe_id', exporter.spiffeId), s('k8s.namespace.name', exporter.namespace), s('k8s.pod.name', exporter.pod)];
  return [s('trustusbank.exporter', exporter.kind)];
}

const STAMPED = new Set(['trustusbank.exporter', 'trustusbank.exporter.spiffe_id', 'k8s.namespace.name', 'k8s.pod.name']);

/**
 * The spans of one export request, flattened, each carrying its resource (stamped with the exporter) and
 * scope. Spans with bad ids or times are left out and counted; a request that is not OTLP at all throws.
 */
export function flattenRequest(raw: unknown, exporter: SpanExporter): { spans: StoredSpan[]; rejected: number } {
  if (typeof raw !== 'object' || raw === null || !Array.isArray((raw as OtlpTraceRequest).resourceSpans)) throw new OtlpError('not an OTLP trace export request: resourceSpans is missing');
  const spans: StoredSpan[] = [];
  let rejected = 0;
  for (const resourceSpans of (raw as OtlpTraceRequest).resourceSpans as unknown[]) {
    const rs = resourceSpans as { resource?: { attributes?: unknown }; scopeSpans?: unknown } | null;
    const resource = [...attributes(rs?.resource?.attributes).filter((kv) => !STAMPED.has(kv.key)), ...exporterAttributes(exporter)];
    for (const scopeSpans of Array.isArray(rs?.scopeSpans) ? (rs.scopeSpans as unknown[]) : []) {
      const ss = scopeSpans as { scope?: { name?: unknown }; spans?: unknown } | null;
      const scope = typeof ss?.scope?.name === 'string' ? clip(ss.scope.name, LIMITS.nameBytes) : '';
      for (const rawSpan of Array.isArray(ss?.spans) ? (ss.spans as unknown[]) : []) {
        if (spans.length + rejected >= LIMITS.spansPerRequest) throw new OtlpError(`more than ${LIMITS.spansPerRequest} spans in one request`);
        const span = rawSpan as Record<string, unknown> | null;
        const traceId = typeof span?.traceId === 'string' ? span.traceId.toLowerCase() : '';
        const spanId = typeof span?.spanId === 'string' ? span.spanId.toLowerCase() : '';
        const parent = typeof span?.parentSpanId === 'string' && span.parentSpanId !== '' ? span.parentSpanId.toLowerCase() : undefined;
        const start = String(span?.startTimeUnixNano ?? '');
        const end = String(span?.endTimeUnixNano ?? '');
        if (!HEX32.test(traceId) || !HEX16.test(spanId) || (parent !== undefined && !HEX16.test(parent)) || !NANOS.test(start) || !NANOS.test(end) || typeof span?.name !== 'string') {
          rejected++;
          continue;
        }
        const status = span.status as { code?: unknown; message?: unknown } | undefined;
        const events = Array.isArray(span.events)
          ? (span.events as unknown[]).slice(0, LIMITS.eventsPerSpan).flatMap((e) => {
              const event = e as { name?: unknown; timeUnixNano?: unknown; attributes?: unknown } | null;
              return typeof event?.name === 'string' && NANOS.test(String(event.timeUnixNano)) ? [{ name: clip(event.name, LIMITS.nameBytes), timeUnixNano: String(event.timeUnixNano), attributes: attributes(event.attributes) }] : [];
            })
          : [];
        spans.push({
          traceId,
          spanId,
          ...(parent ? { parentSpanId: parent } : {}),
          name: clip(span.name, LIMITS.nameBytes),
          kind: typeof span.kind === 'number' && span.kind >= 0 && span.kind <= 5 ? span.kind : 0,
          startTimeUnixNano: start,
          endTimeUnixNano: BigInt(end) < BigInt(start) ? start : end,
          attributes: attributes(span.attributes),
          ...(events.length > 0 ? { events } : {}),
          status: { code: status?.code === 1 || status?.code === 2 ? status.code : 0, ...(typeof status?.message === 'string' && status.message !== '' ? { message: clip(status.message, LIMITS.stringBytes) } : {}) },
          resource,
          scope,
        });
      }
    }
  }
  return { spans, rejected };
}

/** An attribute's value as text (how tags are matched and shown). */
export function valueText(v: OtlpAnyValue): string {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return String(v.boolValue);
  if (v.intValue !== undefined) return String(v.intValue);
  if (v.doubleValue !== undefined) return String(v.doubleValue);
  return (v.arrayValue?.values ?? []).map(valueText).join(',');
}

export function attribute(list: readonly OtlpKeyValue[], key: string): string | undefined {
  const found = list.find((kv) => kv.key === key);
  return found ? valueText(found.value) : undefined;
}

/** Stored spans back to OTLP JSON, grouped by resource and scope (what /api/traces answers). */
export function toResourceSpans(spans: readonly StoredSpan[]): OtlpTraceRequest['resourceSpans'] {
  const groups = new Map<string, { resource: OtlpKeyValue[]; scopes: Map<string, StoredSpan[]> }>();
  for (const span of spans) {
    const key = JSON.stringify(span.resource);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { resource: span.resource, scopes: new Map() }));
    let list = group.scopes.get(span.scope);
    if (!list) group.scopes.set(span.scope, (list = []));
    list.push(span);
  }
  return [...groups.values()].map(({ resource, scopes }) => ({
    resource: { attributes: resource },
    scopeSpans: [...scopes.entries()].map(([name, list]) => ({
      scope: { name },
      spans: list.map(({ resource: _r, scope: _s, ...span }) => ({ ...span, attributes: span.attributes })),
    })),
  }));
}
