// The gateway's evidence, named as agentgateway names it so its dashboards and alert rules work unchanged:
// agentgateway_requests_total{gateway, route, status, reason}, agentgateway_mcp_requests_total{method,
// resource_type, server, resource}, request durations, access log lines with agentgateway's field names,
// and one trace span per request (W3C trace context in, out and recorded as OTLP-shaped JSON lines).
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../core/log.ts';
import { RotatingFile, type RotationLimits } from '../core/rotating-file.ts';
import { contextFromTraceparent, formatTraceparent, parseTraceparent, SpanKind, SpanStatusCode, tracer, type Span as OtelSpan } from '../core/tracing.ts';

export interface AccessRecord {
  gateway: string;
  route: string;
  'src.identity': string;
  'http.method': string;
  'http.path': string;
  'http.status': number;
  'mcp.method.name'?: string;
  'mcp.target'?: string;
  'gen_ai.tool.name'?: string;
  reason?: string;
  error?: string;
  policy?: string;
  duration_ms: number;
  'trace.id': string;
}

export interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: 'SPAN_KIND_SERVER';
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, string | number>;
  status: { code: 'STATUS_CODE_OK' | 'STATUS_CODE_ERROR'; message?: string };
}

export interface TraceContext {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  /** The traceparent header to send upstream (our span as the parent). */
  outgoing: string;
  /** The request's OpenTelemetry span, ended by `finishRequestSpan`. */
  span: OtelSpan;
}

/** The documented bound (README, "Memory bounds"): spans.jsonl rotates at 10 MiB, keeping three old files. */
export const DEFAULT_SPAN_ROTATION: RotationLimits = { maxBytes: 10 * 1024 * 1024, keep: 3 };

/** Continue the caller's trace (W3C traceparent) or start one: the request's span, started now. */
export function traceContext(traceparent: string | undefined, startTime = Date.now()): TraceContext {
  const parent = parseTraceparent(traceparent);
  const span = tracer('agentgateway').startSpan('agentgateway request', { kind: SpanKind.SERVER, startTime }, contextFromTraceparent(traceparent));
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId, ...(parent ? { parentSpanId: parent.spanId } : {}), outgoing: formatTraceparent(span.spanContext()), span };
}

/**
 * End the request's span with what the access log says, and the gateway's decision in the lab's own terms: a
 * 403 is a deny (an AccessPolicy, a tool the policy or drift hides), any other 4xx/5xx an error.
 */
export function finishRequestSpan(span: OtelSpan, name: string, record: AccessRecord, layer: 'gateway' | 'waypoint'): void {
  span.updateName(name);
  const status = record['http.status'];
  const attributes: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(record)) if (key !== 'trace.id' && value !== undefined) attributes[key] = value;
  span.setAttributes({
    ...attributes,
    'trustusbank.layer': layer,
    'trustusbank.decision': status === 403 ? 'deny' : status >= 400 ? 'error' : 'allow',
    ...(record.reason ? { 'trustusbank.reason': record.error ? `${record.reason}: ${record.error}` : record.reason } : {}),
    ...(record.policy ? { 'trustusbank.policy': record.policy } : {}),
  });
  if (status >= 400) span.setStatus({ code: SpanStatusCode.ERROR, ...(record.reason ? { message: record.reason } : {}) });
  span.end();
}

export class GatewayTelemetry {
  readonly requests: Counter<'gateway' | 'route' | 'status' | 'reason'>;
  readonly mcpRequests: Counter<'gateway' | 'method' | 'resource_type' | 'server' | 'resource'>;
  readonly duration: Histogram<'gateway' | 'route' | 'status'>;
  readonly toolDrift: Counter<'gateway' | 'server' | 'change'>;
  private readonly spans: RotatingFile | undefined;

  constructor(
    registry: Registry,
    private readonly log: Logger,
    spanFile?: string,
    spanRotation: RotationLimits = DEFAULT_SPAN_ROTATION,
  ) {
    // Several gateways share one registry: reuse the metric when another created it.
    const existing = <T>(name: string): T | undefined => registry.getSingleMetric(name) as T | undefined;
    this.requests =
      existing('agentgateway_requests_total') ??
      new Counter({ name: 'agentgateway_requests_total', help: 'HTTP requests through the agent gateway.', labelNames: ['gateway', 'route', 'status', 'reason'], registers: [registry] });
    this.mcpRequests =
      existing('agentgateway_mcp_requests_total') ??
      new Counter({ name: 'agentgateway_mcp_requests_total', help: 'MCP messages forwarded upstream.', labelNames: ['gateway', 'method', 'resource_type', 'server', 'resource'], registers: [registry] });
    this.duration =
      existing('agentgateway_request_duration_seconds') ??
      new Histogram({
        name: 'agentgateway_request_duration_seconds',
        help: 'Time from request to response through the agent gateway.',
        labelNames: ['gateway', 'route', 'status'],
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      });
    this.toolDrift =
      existing('agentgateway_mcp_tool_drift_total') ??
      new Counter({ name: 'agentgateway_mcp_tool_drift_total', help: 'Tool definitions that drifted from their pins, by change.', labelNames: ['gateway', 'server', 'change'], registers: [registry] });
    this.spans = spanFile ? new RotatingFile(spanFile, spanRotation) : undefined;
  }

  complete(record: AccessRecord, span: Span): void {
    const status = String(record['http.status']);
    this.requests.inc({ gateway: record.gateway, route: record.route, status, reason: record.reason ?? '' });
    this.duration.observe({ gateway: record.gateway, route: record.route, status }, record.duration_ms / 1000);
    const fields = Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
    if (record['http.status'] >= 400) this.log.warn('request', fields);
    else this.log.info('request', fields);
    if (this.spans) {
      try {
        this.spans.append(JSON.stringify(span) + '\n');
      } catch (error) {
        this.log.warn('span not recorded', { error: (error as Error).message });
      }
    }
  }
}
