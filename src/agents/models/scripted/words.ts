// The user's words: what they ask for (balance, transactions, profile, fraud, a ticket), the customer id, the
// currencies to convert to, the amounts and transaction ids they name. Language rules only; no tools, no plans.
import type { Money } from './money.ts';
import type { Transcript } from './transcript.ts';
import { unique } from './json.ts';

export interface Charge {
  amount: number;
  currency?: string;
}

export interface Words {
  text: string;
  customerId?: string;
  balance: boolean;
  transactions: boolean;
  profile: boolean;
  fraud: boolean;
  /** Currencies to convert to ("to USD", "in EUR and JPY"), in the order named. */
  targets: string[];
  /** "convert 100 GBP to USD": an amount to convert instead of the balance. */
  explicit?: Money;
  /** Amounts the user named, to find a charge among the transactions. */
  charges: Charge[];
  /** Transaction ids the user named. */
  txnIds: string[];
  days?: number;
  ticket: boolean;
}

const CURRENCY_CODES = ['GBP', 'USD', 'EUR', 'JPY', 'CHF', 'CAD', 'AUD', 'NZD', 'CNY', 'HKD', 'SGD', 'SEK', 'NOK', 'DKK', 'PLN', 'INR', 'ZAR', 'MXN', 'BRL'];
const CURRENCY_WORDS: ReadonlyArray<[RegExp, string]> = [
  [/^(?:u\.?s\.?\s+)?dollars?$/i, 'USD'],
  [/^euros?$/i, 'EUR'],
  [/^yen$/i, 'JPY'],
  [/^(?:pounds?(?:\s+sterling)?|sterling)$/i, 'GBP'],
];
const SYMBOLS: Readonly<Record<string, string>> = { '£': 'GBP', $: 'USD', '€': 'EUR', '¥': 'JPY' };
const CCY = String.raw`(?:${CURRENCY_CODES.join('|')}|(?:u\.?s\.?\s+)?dollars?|euros?|yen|pounds?(?:\s+sterling)?|sterling)`;
const TARGETS = new RegExp(String.raw`\b(?:to|into|in)\s+(${CCY}\b(?:\s*(?:,|and|&|or|/)\s*${CCY}\b)*)`, 'gi');
const EXPLICIT = new RegExp(String.raw`\bconvert\s+([£$€¥])?\s?(\d[\d,]*(?:\.\d+)?)\s*(${CCY}\b)?`, 'i');
const AMOUNTS = new RegExp(String.raw`([£$€¥])?\s?(?<![A-Za-z0-9_.,-])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?!\d)(?:\s*(${CCY}\b|days?\b))?`, 'gi');
const TXN_ID = /\btxn-[a-z0-9_-]*[a-z0-9]/gi;

function currencyCode(word: string): string | undefined {
  const upper = word.toUpperCase();
  if (CURRENCY_CODES.includes(upper)) return upper;
  return CURRENCY_WORDS.find(([pattern]) => pattern.test(word.trim()))?.[1];
}

/** The customer id in a text: a 5+ digit number, preferably right after "customer"/"account". */
export function customerIdIn(text: string): string | undefined {
  return /\b(?:customer|account|acct)\D{0,24}?(\d{5,})\b/i.exec(text)?.[1] ?? /\b\d{5,}\b/.exec(text)?.[0];
}

export function readWords(transcript: Transcript): Words {
  const text = transcript.userText;
  const customerId = customerIdIn(text) ?? [...transcript.userTexts].reverse().map(customerIdIn).find((id) => id !== undefined);

  const targets: string[] = [];
  for (const match of text.matchAll(TARGETS)) {
    for (const word of match[1]!.split(/\s*(?:,|\band\b|&|\bor\b|\/)\s*/i)) {
      const code = currencyCode(word);
      if (code && !targets.includes(code)) targets.push(code);
    }
  }

  let explicit: Money | undefined;
  const conversion = EXPLICIT.exec(text);
  const explicitCurrency = conversion && (conversion[1] ? SYMBOLS[conversion[1]] : conversion[3] ? currencyCode(conversion[3]) : undefined);
  if (conversion && explicitCurrency && conversion[2] !== customerId) {
    explicit = { amount: Number(conversion[2]!.replace(/,/g, '')), currency: explicitCurrency };
  }

  const charges: Charge[] = [];
  for (const match of text.matchAll(AMOUNTS)) {
    const [, symbol, whole, cents, unit] = match;
    if (whole === customerId || /^days?$/i.test(unit ?? '')) continue;
    const currency = symbol ? SYMBOLS[symbol] : unit ? currencyCode(unit) : undefined;
    charges.push({ amount: Number(`${whole!.replace(/,/g, '')}.${cents ?? '0'}`), ...(currency ? { currency } : {}) });
  }

  const days = /\b(?:last|past)\s+(\d{1,3})\s+days?\b/i.exec(text)?.[1];
  return {
    text,
    customerId,
    balance: /\bbalance\b/i.test(text),
    transactions: /\btransactions?\b|\bstatement\b|\bspending\b|\brecent\s+(?:activity|payments|charges)\b/i.test(text),
    profile: /\bprofile\b|\b(?:personal|contact|my)\s+details\b/i.test(text),
    fraud: /\b(?:don'?t|do\s+not|didn'?t|did\s+not|can'?t|cannot)\s+recogni[sz]e\b|\bunrecogni[sz]ed\b|\bfraud|\bsuspicious\b|\bnot\s+mine\b/i.test(text),
    targets,
    ...(explicit ? { explicit } : {}),
    charges,
    txnIds: unique([...text.matchAll(TXN_ID)].map((m) => m[0])),
    ...(days ? { days: Number(days) } : {}),
    ticket: /\bticket\b/i.test(text),
  };
}
