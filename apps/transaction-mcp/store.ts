// Card and account transactions. Seeded transactions are stored with their age at server start rather than
// a fixed date, so "recent" stays recent whenever the bank is started; the suspicious flag persists.
import type { Db } from '../lib/sqlite.ts';

const HOUR = 3600;

export interface SeedTransaction {
  txn_id: string;
  account_id: string;
  /** Seconds before server start. */
  age_seconds: number;
  amount_minor: number;
  merchant: string;
  currency: string;
  country: string;
}

export const SEED_TRANSACTIONS: readonly SeedTransaction[] = [
  { txn_id: 'txn-001', account_id: '12345', age_seconds: 2 * HOUR, amount_minor: -2210, merchant: 'Pret a Manger', currency: 'GBP', country: 'GB' },
  { txn_id: 'txn-002', account_id: '12345', age_seconds: 5 * HOUR, amount_minor: -8999, merchant: "Sainsbury's", currency: 'GBP', country: 'GB' },
  { txn_id: 'txn-003', account_id: '12345', age_seconds: 14 * HOUR, amount_minor: -149900, merchant: 'GenericLuxuryGoods', currency: 'USD', country: 'RU' },
  { txn_id: 'txn-004', account_id: '12345', age_seconds: 24 * HOUR, amount_minor: 230000, merchant: 'Salary', currency: 'GBP', country: 'GB' },
  { txn_id: 'txn-005', account_id: '12346', age_seconds: 3 * HOUR, amount_minor: -820, merchant: 'Caffè Nero', currency: 'GBP', country: 'GB' },
];

export interface Transaction {
  txn_id: string;
  ts: string;
  amount: number;
  merchant: string;
  currency: string;
  country: string;
  flagged: boolean;
}

export interface TransactionDetails extends Transaction {
  account_id: string;
}

interface Row extends SeedTransaction {
  flagged: number;
}

export class TransactionStore {
  constructor(
    private readonly db: Db,
    /** The moment the seeded ages are measured from. */
    private readonly startedAt: number = Date.now(),
  ) {
    db.exec(`CREATE TABLE IF NOT EXISTS transactions (
      txn_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, age_seconds INTEGER NOT NULL, amount_minor INTEGER NOT NULL,
      merchant TEXT NOT NULL, currency TEXT NOT NULL, country TEXT NOT NULL, flagged INTEGER NOT NULL DEFAULT 0)`);
    db.exec('CREATE INDEX IF NOT EXISTS transactions_by_account ON transactions (account_id, age_seconds)');
  }

  seed(transactions: readonly SeedTransaction[] = SEED_TRANSACTIONS): void {
    const insert = this.db.prepare(`INSERT OR IGNORE INTO transactions
      (txn_id, account_id, age_seconds, amount_minor, merchant, currency, country)
      VALUES (@txn_id, @account_id, @age_seconds, @amount_minor, @merchant, @currency, @country)`);
    this.db.transaction(() => transactions.forEach((txn) => insert.run(txn)))();
  }

  /** Transactions of an account no older than `days`, newest first. */
  recent(accountId: string, days: number, now: number = Date.now()): Transaction[] {
    // Age now = age at start + time since start.
    const sinceStart = Math.max(0, Math.floor((now - this.startedAt) / 1000));
    const rows = this.db
      .prepare('SELECT * FROM transactions WHERE account_id = ? AND age_seconds + ? <= ? ORDER BY age_seconds ASC, txn_id ASC')
      .all(accountId, sinceStart, days * 24 * HOUR) as Row[];
    return rows.map((row) => this.present(row));
  }

  details(txnId: string): TransactionDetails | undefined {
    const row = this.db.prepare('SELECT * FROM transactions WHERE txn_id = ?').get(txnId) as Row | undefined;
    return row ? { ...this.present(row), account_id: row.account_id } : undefined;
  }

  /** Mark a transaction suspicious; false when there is no such transaction. */
  flag(txnId: string): boolean {
    return this.db.prepare('UPDATE transactions SET flagged = 1 WHERE txn_id = ?').run(txnId).changes === 1;
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM transactions').get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }

  private present(row: Row): Transaction {
    return {
      txn_id: row.txn_id,
      ts: new Date(this.startedAt - row.age_seconds * 1000).toISOString(),
      amount: row.amount_minor / 100,
      merchant: row.merchant,
      currency: row.currency,
      country: row.country,
      flagged: row.flagged === 1,
    };
  }
}
