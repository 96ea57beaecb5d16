// Transactions as tool results carry them, which ones the user means, and their fraud risk.
import { isRecord } from './json.ts';
import { formatMoney } from './money.ts';
import type { Words } from './words.ts';

export interface Transaction {
  txn_id: string;
  amount: number;
  currency: string;
  merchant?: string;
  country?: string;
  ts?: string;
  account_id?: string;
}

export interface Assessment {
  txn: Transaction;
  score: number;
  reasons: string[];
  flagged: boolean;
}

export function readTransactions(value: unknown): Transaction[] {
  const list = Array.isArray(value) ? value : isRecord(value) && Array.isArray(value.transactions) ? value.transactions : [];
  return list.flatMap((item: unknown): Transaction[] => {
    if (!isRecord(item) || typeof item.txn_id !== 'string' || typeof item.amount !== 'number' || typeof item.currency !== 'string') return [];
    return [
      {
        txn_id: item.txn_id,
        amount: item.amount,
        currency: item.currency,
        ...(typeof item.merchant === 'string' ? { merchant: item.merchant } : {}),
        ...(typeof item.country === 'string' ? { country: item.country } : {}),
        ...(typeof item.ts === 'string' ? { ts: item.ts } : {}),
        ...(typeof item.account_id === 'string' ? { account_id: item.account_id } : {}),
      },
    ];
  });
}

/** The transactions the user means: by id, else by amount (and currency, when named), else all money going out. */
export function suspectTransactions(transactions: readonly Transaction[], words: Words): Transaction[] {
  if (words.txnIds.length > 0) return transactions.filter((t) => words.txnIds.some((id) => id.toLowerCase() === t.txn_id.toLowerCase()));
  if (words.charges.length > 0) {
    return transactions.filter((t) =>
      words.charges.some((c) => Math.abs(Math.abs(t.amount) - c.amount) < 0.005 && (c.currency === undefined || c.currency === t.currency)),
    );
  }
  return transactions.filter((t) => t.amount < 0);
}

const HOME_COUNTRY = 'GB';
const HOME_CURRENCY = 'GBP';
const RISKY_MERCHANT = /luxury|generic|crypto|gift\s?cards?|casino|gambling/i;

/**
 * A transaction's fraud risk, 0–100: country other than GB +40, amount (either sign) over 1,000 +30, currency other
 * than GBP +15, merchant name matching luxury|generic|crypto|gift card|casino|gambling +10; capped at 100.
 * txn-003 of the seed (-1,499.00 USD, GenericLuxuryGoods, RU) scores 95.
 */
export function riskScore(txn: { amount: number; currency: string; country?: string; merchant?: string }): { score: number; reasons: string[] } {
  const reasons: string[] = [];
  let score = 0;
  if (txn.country !== undefined && txn.country.toUpperCase() !== HOME_COUNTRY) {
    score += 40;
    reasons.push(`country ${txn.country} +40`);
  }
  if (Math.abs(txn.amount) > 1000) {
    score += 30;
    reasons.push('amount over 1,000 +30');
  }
  if (txn.currency.toUpperCase() !== HOME_CURRENCY) {
    score += 15;
    reasons.push(`currency ${txn.currency} +15`);
  }
  if (txn.merchant !== undefined && RISKY_MERCHANT.test(txn.merchant)) {
    score += 10;
    reasons.push('merchant pattern +10');
  }
  return { score: Math.min(100, score), reasons };
}

export function describeTransaction(t: Transaction): string {
  const where = [t.country && `country ${t.country}`, t.ts].filter(Boolean).join(', ');
  return `${t.txn_id}: ${formatMoney(t.amount, t.currency)}${t.merchant ? ` at ${t.merchant}` : ''}${where ? ` (${where})` : ''}`;
}

export function assessmentLine(a: Assessment): string {
  const reasons = a.reasons.length > 0 ? a.reasons.join('; ') : 'no risk factors';
  return `${describeTransaction(a.txn)}: risk ${a.score}/100 (${reasons})${a.flagged ? ', flagged as suspicious' : ''}`;
}

/** Severity of a ticket from a risk score: ≥ 90 critical, ≥ 70 high, ≥ 40 medium, else low. */
export function severityFor(risk: number): 'low' | 'medium' | 'high' | 'critical' {
  if (risk >= 90) return 'critical';
  if (risk >= 70) return 'high';
  if (risk >= 40) return 'medium';
  return 'low';
}
