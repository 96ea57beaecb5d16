import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REVISIONS, callTool, connectClient, startReceiver, startTestWorkload, type Receiver, type TestWorkload } from '../../../testing/workloads.ts';
import { cleanConverter } from './tool.ts';

describe.each(REVISIONS)('currency-converter (clean build) over MCP %s', (revision) => {
  let workload: TestWorkload;
  let client: Awaited<ReturnType<typeof connectClient>>;

  beforeAll(async () => {
    workload = await startTestWorkload('currency-converter', cleanConverter);
    client = await connectClient(workload.url, revision);
  });
  afterAll(async () => {
    await client.close();
    await workload.close();
  });

  it('presents itself as acme-fx/currency-converter 1.0.0 with one plain tool', async () => {
    expect(client.getServerVersion()).toMatchObject({ name: 'acme-fx/currency-converter', version: '1.0.0' });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['convert_currency']);
    expect(Object.keys(tools[0]!.inputSchema.properties ?? {}).sort()).toEqual(['amount', 'from_ccy', 'to_ccy']);
    expect(tools[0]!.description).not.toMatch(/profile|PSD2|MUST/i);
  });

  it.each([
    ['USD', 5445.19, 1.27],
    ['EUR', 5059.31, 1.18],
    ['JPY', 836072.25, 195],
  ])('converts 4287.55 GBP to %s from the built-in table', async (to, converted, rate) => {
    const result = await callTool(client, 'convert_currency', { amount: 4287.55, from_ccy: 'GBP', to_ccy: to });
    expect(result).toMatchObject({ isError: false, value: { amount: 4287.55, from_ccy: 'GBP', to_ccy: to, converted, rate, rate_source: 'builtin' } });
  });

  it('converts between two non-GBP currencies through GBP', async () => {
    const result = await callTool(client, 'convert_currency', { amount: 127, from_ccy: 'usd', to_ccy: 'eur' });
    expect(result.value).toMatchObject({ from_ccy: 'USD', to_ccy: 'EUR', converted: 118 });
  });

  it('answers an unsupported currency with the supported list', async () => {
    const result = await callTool(client, 'convert_currency', { amount: 10, from_ccy: 'GBP', to_ccy: 'XAU' });
    expect(result.isError).toBe(true);
    expect(result.value).toEqual({ error: 'unsupported currency', supported: ['GBP', 'EUR', 'USD', 'JPY'] });
  });

  it('rejects a non-numeric amount', async () => {
    const result = await callTool(client, 'convert_currency', { amount: 'lots', from_ccy: 'GBP', to_ccy: 'USD' });
    expect(result.isError).toBe(true);
    expect(result.text).toMatch(/amount/);
  });
});

describe('currency-converter with FX_API_URL', () => {
  let rates: Receiver;
  let workload: TestWorkload;

  beforeAll(async () => {
    rates = await startReceiver((req, res) => {
      const url = new URL(req.url ?? '/', 'http://rates');
      const to = url.searchParams.get('to') ?? '';
      const known: Record<string, number> = { USD: 1.2611, CHF: 1.12 };
      if (url.pathname !== '/latest' || !(to in known)) {
        res.writeHead(404).end('{}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ base: url.searchParams.get('from'), rates: { [to]: known[to] } }));
    });
    workload = await startTestWorkload('currency-converter', cleanConverter, { env: { FX_API_URL: rates.url } });
  });
  afterAll(async () => {
    await workload.close();
    await rates.close();
  });

  it('uses the rates API and says so', async () => {
    const client = await connectClient(workload.url, '2026-07-28');
    const result = await callTool(client, 'convert_currency', { amount: 4287.55, from_ccy: 'GBP', to_ccy: 'USD' });
    await client.close();
    expect(result.value).toMatchObject({ rate: 1.2611, converted: 5407.03, rate_source: 'api', rates_api: rates.url });
    expect(rates.requests.at(-1)!.path).toBe('/latest?from=GBP&to=USD');
  });

  it('serves currencies only the API knows', async () => {
    const client = await connectClient(workload.url, '2025-11-25');
    const result = await callTool(client, 'convert_currency', { amount: 100, from_ccy: 'GBP', to_ccy: 'CHF' });
    await client.close();
    expect(result.value).toMatchObject({ converted: 112, rate_source: 'api' });
  });

  it('falls back to the built-in table when the API cannot answer, and says why', async () => {
    const client = await connectClient(workload.url, '2026-07-28');
    const result = await callTool(client, 'convert_currency', { amount: 4287.55, from_ccy: 'GBP', to_ccy: 'JPY' });
    await client.close();
    expect(result.value).toMatchObject({ converted: 836072.25, rate_source: 'builtin', rates_api_error: 'rates API answered 404' });
  });
});
