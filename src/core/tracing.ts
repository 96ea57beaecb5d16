// One OpenTelemetry set-up per process: W3C trace context, the active span carried through async calls
// (AsyncLocalStorage), and spans handed, in batches of OTLP JSON, to whatever sinks the process registers: the
// node gives them to its trace collector, a pod sends them to its node, a real deployment to any OTLP endpoint.
// With no sink, spans are still made (real ids, propagated downstream) and dropped at their end.
//
// Sampling is parent-based: a request that arrives with an unsampled traceparent is not recorded anywhere
// downstream either, and `setTracing(false)` stops the roots this process starts (what the tracing benchmark
// compares against).
import { context, propagation, trace, ROOT_CONTEXT, SpanKind, SpanStatusCode, type Attributes, type AttributeValue, type Context, type Span, type SpanContext, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, ParentBasedSampler, SamplingDecision, type ReadableSpan, type Sampler, type SamplingResult, type SpanProcessor } from '@opentelemetry/sdk-trace-base';

export { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Attributes, type Context, type Span, type SpanContext, type Tracer };

/** OTLP/JSON (ExportTraceServiceRequest), the shape OTLP/HTTP carries and the collector stores. */
export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values: OtlpAnyValue[] };
}
export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpKeyValue[];
  events?: { timeUnixNano: string; name: string; attributes: OtlpKeyValue[] }[];
  status: { code: number; message?: string };
}
export interface OtlpScopeSpans {
  scope: { name: string; version?: string };
  spans: OtlpSpan[];
}
export interface OtlpResourceSpans {
  resource: { attributes: OtlpKeyValue[] };
  scopeSpans: OtlpScopeSpans[];
}
export interface OtlpTraceRequest {
  resourceSpans: OtlpResourceSpans[];
}

export type SpanSink = (request: OtlpTraceRequest) => void;

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A W3C traceparent's span context, or undefined when it is not one (all-zero ids are invalid). */
export function parseTraceparent(value: string | undefined): SpanContext | undefined {
  const match = value === undefined ? null : TRACEPARENT.exec(value.trim());
  if (!match || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return undefined;
  return { traceId: match[1]!, spanId: match[2]!, traceFlags: parseInt(match[3]!, 16) & 1, isRemote: true };
}

export function formatTraceparent(spanContext: SpanContext): string {
  return `00-${spanContext.traceId}-${spanContext.spanId}-${(spanContext.traceFlags & 1).toString(16).padStart(2, '0')}`;
}

/** The traceparent of the span active in `ctx` (default: the current one), if any. */
export function activeTraceparent(ctx: Context = context.active()): string | undefined {
  const spanContext = trace.getSpanContext(ctx);
  return spanContext && trace.isSpanContextValid(spanContext) ? formatTraceparent(spanContext) : undefined;
}

/** A context whose parent is the given traceparent (the root context when there is none or it is invalid). */
export function contextFromTraceparent(traceparent: string | undefined): Context {
  const parent = parseTraceparent(traceparent);
  return parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
}

/** Headers carrying `ctx`'s trace context (W3C traceparent, tracestate), to send with an outgoing request. */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(ctx, headers);
  return headers;
}

/** The context an incoming request carries. */
export function extractContext(headers: Record<string, string | string[] | undefined>): Context {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (typeof value === 'string') flat[name] = value;
  return propagation.extract(ROOT_CONTEXT, flat);
}

// --- the process's provider ---------------------------------------------------------------------------------

let rootsSampled = true;
let processServiceName: string | undefined;

/** The service this process is (a pod's workload name); without one, each component's tracer name is used. */
export function setServiceName(name: string): void {
  processServiceName = name;
}

/** Parent-based, and the roots this process starts are sampled unless tracing is switched off. */
class SwitchableRootSampler implements Sampler {
  shouldSample(): SamplingResult {
    return { decision: rootsSampled ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
  }
  toString(): string {
    return 'SwitchableRootSampler';
  }
}

/** Batches ended spans as OTLP JSON for the sinks: at most every FLUSH_MS, or at once at BATCH_SPANS. */
class SinkProcessor implements SpanProcessor {
  readonly sinks = new Set<SpanSink>();
  private buffer: ReadableSpan[] = [];
  private timer: NodeJS.Timeout | undefined;
  dropped = 0;

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.sinks.size === 0) return;
    if (this.buffer.length >= MAX_BUFFERED_SPANS) {
      this.dropped++;
      return;
    }
    this.buffer.push(span);
    if (this.buffer.length >= BATCH_SPANS) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.length === 0) return;
    const request = toOtlp(this.buffer);
    this.buffer = [];
    for (const sink of this.sinks) {
      try {
        sink(request);
      } catch {
        // A sink's failure is its own to report; the data path never sees it.
      }
    }
  }

  forceFlush(): Promise<void> {
    this.flush();
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    this.flush();
    return Promise.resolve();
  }
}

const FLUSH_MS = 200;
const BATCH_SPANS = 256;
const MAX_BUFFERED_SPANS = 4096;

let installed: { provider: BasicTracerProvider; processor: SinkProcessor } | undefined;

/** Install the process's tracing once (idempotent): context manager, propagator, provider. */
export function installTracing(): void {
  if (installed) return;
  const processor = new SinkProcessor();
  const provider = new BasicTracerProvider({ sampler: new ParentBasedSampler({ root: new SwitchableRootSampler() }), spanProcessors: [processor] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  installed = { provider, processor };
}

/** A tracer named after the component (its instrumentation scope, and its service name at the collector). */
export function tracer(component: string): Tracer {
  installTracing();
  return trace.getTracer(component);
}

/** Receive this process's ended spans; returns the function that stops it. */
export function addSpanSink(sink: SpanSink): () => void {
  installTracing();
  installed!.processor.sinks.add(sink);
  return () => installed?.processor.sinks.delete(sink);
}

/** Hand buffered spans to the sinks now (a test or a shutdown wants them before the batch timer). */
export function flushSpans(): void {
  installed?.processor.flush();
}

/** Whether the roots this process starts are recorded (spans continuing a caller's trace follow its flag). */
export function setTracing(enabled: boolean): void {
  rootsSampled = enabled;
}

/**
 * Run `fn` in a new span, active for everything it awaits; the span ends when `fn` settles, with an error
 * status if it throws.
 */
export async function inSpan<T>(component: string, name: string, options: { kind?: SpanKind; attributes?: Attributes; parent?: Context }, fn: (span: Span) => Promise<T>): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer(component).startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, ...(options.attributes ? { attributes: options.attributes } : {}) }, parent);
  try {
    const result = await context.with(trace.setSpan(parent, span), () => fn(span));
    return result;
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    span.end();
  }
}

// --- OTLP JSON ----------------------------------------------------------------------------------------------

function nanos(time: [number, number]): string {
  return (BigInt(time[0]) * 1_000_000_000n + BigInt(time[1])).toString();
}

export function otlpValue(value: AttributeValue): OtlpAnyValue {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  return { arrayValue: { values: (value as unknown[]).filter((v) => v !== null && v !== undefined).map((v) => otlpValue(v as AttributeValue)) } };
}

export function otlpAttributes(attributes: Attributes): OtlpKeyValue[] {
  return Object.entries(attributes).flatMap(([key, value]) => (value === undefined ? [] : [{ key, value: otlpValue(value) }]));
}

/**
 * Spans as one OTLP request: one resource per (service, scope). In a process that hosts several components
 * (the node: ztunnel, the gateways, `chat`), the component's tracer name is its service name, as each would be
 * its own process in a cluster.
 */
export function toOtlp(spans: readonly ReadableSpan[]): OtlpTraceRequest {
  const byService = new Map<string, { resource: OtlpKeyValue[]; scopes: Map<string, OtlpSpan[]> }>();
  for (const span of spans) {
    const resourceAttributes = { ...span.resource.attributes };
    const scope = span.instrumentationScope.name;
    const configured = resourceAttributes['service.name'];
    if (processServiceName) resourceAttributes['service.name'] = processServiceName;
    else if (typeof configured !== 'string' || configured.startsWith('unknown_service')) resourceAttributes['service.name'] = scope;
    const service = String(resourceAttributes['service.name']);
    let entry = byService.get(service);
    if (!entry) byService.set(service, (entry = { resource: otlpAttributes(resourceAttributes as Attributes), scopes: new Map() }));
    let list = entry.scopes.get(scope);
    if (!list) entry.scopes.set(scope, (list = []));
    const parent = span.parentSpanContext;
    list.push({
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
      ...(parent ? { parentSpanId: parent.spanId } : {}),
      name: span.name,
      // OTLP numbers span kinds from 1 (INTERNAL); the API from 0.
      kind: span.kind + 1,
      startTimeUnixNano: nanos(span.startTime),
      endTimeUnixNano: nanos(span.endTime),
      attributes: otlpAttributes(span.attributes),
      ...(span.events.length > 0 ? { events: span.events.map((e) => ({ timeUnixNano: nanos(e.time), name: e.name, attributes: otlpAttributes(e.attributes ?? {}) })) } : {}),
      status: { code: span.status.code, ...(span.status.message ? { message: span.status.message } : {}) },
    });
  }
  return {
    resourceSpans: [...byService.values()].map(({ resource, scopes }) => ({
      resource: { attributes: resource },
      scopeSpans: [...scopes.entries()].map(([name, list]) => ({ scope: { name }, spans: list })),
    })),
  };
}
