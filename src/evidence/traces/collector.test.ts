// The trace collector on its own: OTLP/JSON in (checked, bounded, stamped with who exported it), Tempo's API
// out, forwarding to a real OTLP endpoint, and what a hostile exporter cannot do (claim to be the node, flood
// the store, put script in the page).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseTraceparent, toOtlp, tracer, addSpanSink, flushSpans, type OtlpTraceRequest } from '../../core/tracing.ts';
import { encodePreamble, decodePreamble } from '../../mesh/capture/protocol.ts';
import { startTraceCollector, searchQuery, type TraceCollector } from './collector.ts';
import { attribute, flattenRequest } from './otlp.ts';
import { parseTags, TraceStore } from './store.ts';
import { treeOrder } from './page.ts';

const TRACE = 'ab'.repeat(16);
const span = (spanId: string, extra: Record<string, unknown> = {}) => ({ traceId: TRACE, spanId, name: 'op', kind: 2, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000500000000', attributes: [{ key: 'trustusbank.decision', value: { stringValue: 'deny' } }], status: { code: 2 }, ...extra });
const request = (spans: unknown[], resource: { key: string; value: { stringValue: string } }[] = [{ key: 'service.name', value: { stringValue: 'currency-converter' } }]) => ({ resourceSpans: [{ resource: { attributes: resource }, scopeSpans: [{ scope: { name: 's' }, spans }] }] });

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function collector(env: NodeJS.ProcessEnv = {}, maxSpans?: number): Promise<TraceCollector> {
  const c = await startTraceCollector({ port: 0, env, log: () => undefined, ...(maxSpans ? { maxSpans } : {}) });
  closers.push(() => c.close());
  return c;
}

describe('OTLP in', () => {
  it('stamps who exported the spans over what the request claims', () => {
    const forged = request([span('1'.repeat(16))], [
      { key: 'service.name', value: { stringValue: 'ztunnel' } },
      { key: 'trustusbank.exporter', value: { stringValue: 'node' } },
      { key: 'k8s.pod.name', value: { stringValue: 'ztunnel-0' } },
    ]);
    const { spans } = flattenRequest(forged, { kind: 'pod', namespace: 'trustusbank-bank-vendors', pod: 'currency-converter-1', spiffeId: 'spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter' });
    expect(attribute(spans[0]!.resource, 'trustusbank.exporter')).toBe('pod');
    expect(attribute(spans[0]!.resource, 'k8s.pod.name')).toBe('currency-converter-1');
    expect(attribute(spans[0]!.resource, 'trustusbank.exporter.spiffe_id')).toBe('spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter');
    expect(spans[0]!.resource.filter((kv) => kv.key === 'trustusbank.exporter')).toHaveLength(1);
  });

  it.each([
    ['a short trace id', { traceId: 'abc' }],
    ['a non-hex span id', { spanId: 'zzzzzzzzzzzzzzzz' }],
    ['a bad parent', { parentSpanId: '12' }],
    ['a time that is not a number', { startTimeUnixNano: '1e9' }],
    ['no name', { name: 42 }],
  ])('leaves out a span with %s and counts it', (_what, bad) => {
    const { spans, rejected } = flattenRequest(request([span('1'.repeat(16)), span('2'.repeat(16), bad)]), { kind: 'otlp-http' });
    expect(spans.map((s) => s.spanId)).toEqual(['1'.repeat(16)]);
    expect(rejected).toBe(1);
  });

  it('refuses what is not an export request, and caps strings', () => {
    expect(() => flattenRequest({ spans: [] }, { kind: 'otlp-http' })).toThrow(/resourceSpans is missing/);
    const { spans } = flattenRequest(request([span('1'.repeat(16), { name: 'x'.repeat(10_000) })]), { kind: 'otlp-http' });
    expect(spans[0]!.name.length).toBeLessThan(300);
  });

  it('round-trips the SDK’s spans: the ids, the parent, the kind and the attributes', async () => {
    const batches: OtlpTraceRequest[] = [];
    const remove = addSpanSink((r) => batches.push(r));
    const parent = tracer('unit').startSpan('parent');
    const { traceId, spanId } = parent.spanContext();
    parent.setAttribute('gen_ai.tool.name', 'convert_currency');
    parent.end();
    flushSpans();
    remove();
    const { spans } = flattenRequest(batches.at(-1), { kind: 'node' });
    expect(spans.find((s) => s.spanId === spanId)).toMatchObject({ traceId, name: 'parent', kind: 1, attributes: [{ key: 'gen_ai.tool.name', value: { stringValue: 'convert_currency' } }] });
    expect(attribute(spans[0]!.resource, 'service.name')).toBe('unit');
    expect(toOtlp([]).resourceSpans).toEqual([]);
  });
});

describe('the capture preamble’s trace context', () => {
  it('carries a traceparent, and drops a malformed one without dropping the connection', () => {
    const tp = `00-${TRACE}-${'cd'.repeat(8)}-01`;
    const token = 'A'.repeat(24);
    expect(decodePreamble(encodePreamble(token, 'mock-attacker.external-attacker', 8080, tp).slice(0, -2))).toEqual({ token, host: 'mock-attacker.external-attacker', port: 8080, traceparent: tp });
    expect(encodePreamble(token, 'h', 1, 'not-a-trace')).toBe(`TUB-CAPTURE/1 ${token} h 1\r\n`);
    expect(decodePreamble(`TUB-CAPTURE/1 ${token} h 1 00-xyz`)).toEqual({ token, host: 'h', port: 1 });
    expect(decodePreamble(`TUB-CAPTURE/1 ${token} h 1 ${tp} extra`)).toBeUndefined();
    expect(parseTraceparent(`00-${'0'.repeat(32)}-${'cd'.repeat(8)}-01`)).toBeUndefined();
  });
});

describe('the store', () => {
  it('evicts whole traces, oldest first, past its span bound', () => {
    const store = new TraceStore(3);
    const at = (trace: string, id: string) => ({ ...flattenRequest(request([span(id)]), { kind: 'node' }).spans[0]!, traceId: trace.repeat(32) });
    store.add([at('a', '1'.repeat(16)), at('a', '2'.repeat(16))]);
    store.add([at('b', '3'.repeat(16)), at('b', '4'.repeat(16))]);
    expect(store.trace('a'.repeat(32))).toBeUndefined();
    expect(store.trace('b'.repeat(32))).toHaveLength(2);
    expect(store.size).toEqual({ traces: 1, spans: 2 });
  });

  it('parses Tempo’s logfmt tags and its search parameters, naming what is wrong', () => {
    expect(parseTags('a=b c="d e" f=')).toEqual([['a', 'b'], ['c', 'd e'], ['f', '']]);
    expect(parseTags('novalue')).toMatch(/logfmt/);
    expect(searchQuery(new URLSearchParams({ minDuration: '5x' }))).toMatch(/minDuration/);
    expect(searchQuery(new URLSearchParams({ limit: '-1' }))).toMatch(/limit/);
    expect(searchQuery(new URLSearchParams({ q: '{}' }))).toMatch(/TraceQL/);
    expect(searchQuery(new URLSearchParams({ tags: 'a=b', minDuration: '2s', limit: '5000' }))).toMatchObject({ tags: [['a', 'b']], minDurationMs: 2000, limit: 1000 });
  });

  it('orders a waterfall as a tree, and survives a parent cycle', () => {
    const [a, b] = flattenRequest(request([span('1'.repeat(16), { parentSpanId: '2'.repeat(16) }), span('2'.repeat(16), { parentSpanId: '1'.repeat(16) })]), { kind: 'node' }).spans;
    expect(treeOrder([a!, b!]).map((r) => r.span.spanId).sort()).toEqual(['1'.repeat(16), '2'.repeat(16)]);
  });
});

describe('the collector', () => {
  it('takes OTLP/HTTP JSON and answers Tempo’s trace and search API', async () => {
    const c = await collector();
    const post = await fetch(`${c.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request([span('1'.repeat(16)), span('2'.repeat(16), { parentSpanId: '1'.repeat(16), name: '<script>alert(1)</script>' })])) });
    expect(post.status).toBe(200);
    const trace = (await (await fetch(`${c.url}/api/traces/${TRACE}`)).json()) as { batches: { resource: { attributes: unknown[] }; scopeSpans: { spans: unknown[] }[] }[] };
    expect(trace.batches[0]!.scopeSpans[0]!.spans).toHaveLength(2);
    expect(trace.batches[0]!.resource.attributes).toContainEqual({ key: 'trustusbank.exporter', value: { stringValue: 'otlp-http' } });
    const v2 = (await (await fetch(`${c.url}/api/v2/traces/${TRACE}`)).json()) as { trace: { resourceSpans: unknown[] } };
    expect(v2.trace.resourceSpans).toHaveLength(1);
    const search = (await (await fetch(`${c.url}/api/search?tags=${encodeURIComponent('service.name=currency-converter trustusbank.decision=deny')}`)).json()) as { traces: { traceID: string; rootServiceName: string; durationMs: number }[] };
    expect(search.traces).toEqual([expect.objectContaining({ traceID: TRACE, rootServiceName: 'currency-converter', durationMs: 500 })]);
    expect(((await (await fetch(`${c.url}/api/search?tags=trustusbank.decision%3Dallow`)).json()) as { traces: unknown[] }).traces).toEqual([]);
    expect(((await (await fetch(`${c.url}/api/search/tags`)).json()) as { tagNames: string[] }).tagNames).toContain('trustusbank.decision');
    expect(((await (await fetch(`${c.url}/api/search/tag/service.name/values`)).json()) as { tagValues: string[] }).tagValues).toEqual(['currency-converter']);
    expect((await fetch(`${c.url}/api/traces/${'ef'.repeat(16)}`)).status).toBe(404);
    // The page escapes what a pod named its span, and forbids script whatever slips through.
    const page = await fetch(`${c.url}/trace/${TRACE}`);
    const html = await page.text();
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>alert');
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
  });

  it('answers bad requests in OTLP’s error shape and refuses to be written anywhere else', async () => {
    const c = await collector();
    const proto = await fetch(`${c.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: new Uint8Array([1, 2]) });
    expect(proto.status).toBe(415);
    expect(await proto.json()).toMatchObject({ code: 3, message: expect.stringMatching(/http\/json/) });
    const notJson = await fetch(`${c.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(notJson.status).toBe(400);
    const notOtlp = await fetch(`${c.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"spans":[]}' });
    expect(await notOtlp.json()).toMatchObject({ code: 3, message: expect.stringMatching(/resourceSpans/) });
    const big = await fetch(`${c.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(5 * 1024 * 1024) }) });
    expect(big.status).toBe(413);
    expect((await fetch(`${c.url}/api/search`, { method: 'DELETE' })).status).toBe(405);
  });

  it('rate-limits a flooding exporter but never the node, and bounds one trace', async () => {
    const c = await collector();
    /** n spans, each batch in a trace of its own (so the per-trace bound is not what stops them). */
    const batch = (trace: string, n: number) => request(Array.from({ length: n }, (_, i) => span(i.toString(16).padStart(16, '0'), { traceId: trace.repeat(32) })));
    const pod = { kind: 'pod' as const, namespace: 'ns', pod: 'p', spiffeId: 'spiffe://cluster.local/ns/ns/sa/p' };
    let kept = 0;
    for (const trace of ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c']) kept += c.ingest(batch(trace, 2000), pod);
    // A burst of 20,000 spans, then only what the bucket refills (2,000 a second) while the loop runs.
    expect(kept).toBeGreaterThanOrEqual(20_000);
    expect(kept).toBeLessThan(24_000);
    expect(c.ingest(batch('d', 100), { kind: 'node' })).toBe(100);
    // One trace holds at most 2,000 spans, however many arrive, even from the node.
    expect(c.ingest(batch('e', 2000), { kind: 'node' }) + c.ingest(request(Array.from({ length: 500 }, (_, i) => span(`f${i.toString(16).padStart(15, '0')}`, { traceId: 'e'.repeat(32) }))), { kind: 'node' })).toBe(2000);
    expect(c.store.trace('e'.repeat(32))).toHaveLength(2000);
  });

  it('forwards what it takes to the OTLP endpoint the standard variables name', async () => {
    const received: { path: string; type: string; body: OtlpTraceRequest }[] = [];
    const server: Server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', type: req.headers['content-type'] ?? '', body: JSON.parse(Buffer.concat(chunks).toString()) as OtlpTraceRequest });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    const c = await collector({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` });
    c.ingest(request([span('1'.repeat(16))]), { kind: 'pod', namespace: 'ns', pod: 'p', spiffeId: 'spiffe://cluster.local/ns/ns/sa/p' });
    await c.forwarded();
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ path: '/v1/traces', type: 'application/json' });
    const resource = received[0]!.body.resourceSpans[0]!.resource.attributes;
    expect(resource).toContainEqual({ key: 'k8s.pod.name', value: { stringValue: 'p' } });
    expect(received[0]!.body.resourceSpans[0]!.scopeSpans[0]!.spans[0]).toMatchObject({ traceId: TRACE, spanId: '1'.repeat(16) });
  });
});
