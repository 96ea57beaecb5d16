// Money as the replies write it, and as tool results carry it.
import { isRecord } from './json.ts';

export interface Money {
  amount: number;
  currency: string;
}

const CURRENCY_SYMBOLS: Readonly<Record<string, string>> = { GBP: '£', USD: '$', EUR: '€', JPY: '¥' };

/** `£4,287.55`, `-$1,499.00`, `¥836,072.25`; currencies without a symbol here: `1,234.50 CHF`. */
export function formatMoney(amount: number, currency: string): string {
  const code = currency.toUpperCase();
  const cents = Math.round(Math.abs(amount) * 100);
  const whole = Math.floor(cents / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const digits = `${whole}.${(cents % 100).toString().padStart(2, '0')}`;
  const sign = amount < 0 && cents > 0 ? '-' : '';
  const symbol = CURRENCY_SYMBOLS[code];
  return symbol ? `${sign}${symbol}${digits}` : `${sign}${digits} ${code}`;
}

export function approximately(converted: readonly Money[]): string {
  return converted.length === 0 ? '' : ` (${converted.map((m) => `≈ ${formatMoney(m.amount, m.currency)}`).join(', ')})`;
}

export function readMoney(value: unknown, amountKey: string, currencyKey: string): Money | undefined {
  if (!isRecord(value)) return undefined;
  const amount = value[amountKey];
  const currency = value[currencyKey];
  return typeof amount === 'number' && Number.isFinite(amount) && typeof currency === 'string' ? { amount, currency: currency.toUpperCase() } : undefined;
}
