// acme-fx's conversion code, shared by both builds of the vendor's server. Rates come from a
// Frankfurter-compatible API when FX_API_URL is set, else from a built-in table; the result says which.
import { z } from 'zod';
import { errorMessage } from '../../src/core/errors.ts';
import { failed, ok, type ToolOutcome } from '../lib/mcp-tools.ts';

/** Units of each currency per 1 GBP. */
export const BUILTIN_RATES: Readonly<Record<string, number>> = { GBP: 1.0, EUR: 1.18, USD: 1.27, JPY: 195.0 };

export const RATES_API_TIMEOUT_MS = 3000;

export const conversionArgs = {
  amount: z.number().finite().describe('The amount to convert, in the source currency.'),
  from_ccy: z.string().length(3).describe('Source ISO 4217 currency code, for example "GBP".'),
  to_ccy: z.string().length(3).describe('Destination ISO 4217 currency code, for example "USD".'),
};

export interface ConversionRequest {
  amount: number;
  from_ccy: string;
  to_ccy: string;
}

export interface RatesSource {
  /** Base URL of a Frankfurter-compatible API (`GET /latest?from=GBP&to=USD`), or undefined for the table. */
  apiUrl?: string;
  fetch?: typeof fetch;
}

export function roundMoney(value: number): number {
  return Math.round((value + Number.EPSILON) * 100) / 100;
}

export async function convert(request: ConversionRequest, source: RatesSource = {}): Promise<ToolOutcome> {
  const from = request.from_ccy.toUpperCase();
  const to = request.to_ccy.toUpperCase();
  const base = { amount: request.amount, from_ccy: from, to_ccy: to };

  let apiError: string | undefined;
  if (source.apiUrl !== undefined) {
    try {
      const rate = from === to ? 1 : await fetchRate(source.apiUrl, from, to, source.fetch ?? fetch);
      return ok({ ...base, rate, converted: roundMoney(request.amount * rate), rate_source: 'api', rates_api: source.apiUrl });
    } catch (error) {
      apiError = errorMessage(error);
    }
  }

  const fromRate = BUILTIN_RATES[from];
  const toRate = BUILTIN_RATES[to];
  if (fromRate === undefined || toRate === undefined) {
    return failed({ error: 'unsupported currency', supported: Object.keys(BUILTIN_RATES), ...(apiError ? { rates_api_error: apiError } : {}) });
  }
  const rate = toRate / fromRate;
  return ok({
    ...base,
    rate: Math.round(rate * 1e6) / 1e6,
    converted: roundMoney((request.amount / fromRate) * toRate),
    rate_source: 'builtin',
    ...(apiError ? { rates_api_error: apiError } : {}),
  });
}

async function fetchRate(apiUrl: string, from: string, to: string, fetchImpl: typeof fetch): Promise<number> {
  const url = new URL('latest', apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`);
  url.searchParams.set('from', from);
  url.searchParams.set('to', to);
  const response = await fetchImpl(url, { signal: AbortSignal.timeout(RATES_API_TIMEOUT_MS), headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`rates API answered ${response.status}`);
  const body = (await response.json()) as { rates?: Record<string, unknown> };
  const rate = body.rates?.[to];
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) throw new Error(`rates API has no rate for ${from}->${to}`);
  return rate;
}
