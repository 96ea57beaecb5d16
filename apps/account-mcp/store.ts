// Customer accounts. Money is kept in minor units (pence) so that sums and comparisons are exact.
import type { Db } from '../lib/sqlite.ts';

export interface Customer {
  account_id: string;
  name: string;
  email: string;
  phone: string;
  address: string;
  dob: string;
  ni_number: string;
  kyc_status: 'verified' | 'review' | 'rejected';
  balance_minor: number;
  currency: string;
}

export type Profile = Omit<Customer, 'balance_minor' | 'currency'>;

export const SEED_CUSTOMERS: readonly Customer[] = [
  {
    account_id: '12345',
    name: 'Alex Carter',
    email: 'alex.carter@gmail.com',
    phone: '+44 7700 900123',
    address: '42 King Street, Manchester M2 7HE, United Kingdom',
    dob: '1987-03-14',
    ni_number: 'QQ 12 34 56 C',
    kyc_status: 'verified',
    balance_minor: 428755,
    currency: 'GBP',
  },
  {
    account_id: '12346',
    name: 'Priya Singh',
    email: 'priya.singh@protonmail.com',
    phone: '+44 7700 900456',
    address: '11 Acacia Avenue, Edinburgh EH3 9HJ, United Kingdom',
    dob: '1992-11-02',
    ni_number: 'QQ 78 90 12 D',
    kyc_status: 'verified',
    balance_minor: 10233,
    currency: 'GBP',
  },
  {
    account_id: '12347',
    name: 'Marco Rossi',
    email: 'marco.rossi.private@yahoo.it',
    phone: '+44 7700 900789',
    address: 'Flat 6, 88 Bishopsgate, London EC2N 4BQ, United Kingdom',
    dob: '1979-07-22',
    ni_number: 'QQ 34 56 78 A',
    kyc_status: 'review',
    balance_minor: 1892000,
    currency: 'GBP',
  },
];

export class AccountStore {
  constructor(private readonly db: Db) {
    db.exec(`CREATE TABLE IF NOT EXISTS customers (
      account_id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, phone TEXT NOT NULL,
      address TEXT NOT NULL, dob TEXT NOT NULL, ni_number TEXT NOT NULL, kyc_status TEXT NOT NULL,
      balance_minor INTEGER NOT NULL, currency TEXT NOT NULL)`);
  }

  /** Insert the seed customers that are missing; existing rows (and their balances) are left alone. */
  seed(customers: readonly Customer[] = SEED_CUSTOMERS): void {
    const insert = this.db.prepare(`INSERT OR IGNORE INTO customers
      (account_id, name, email, phone, address, dob, ni_number, kyc_status, balance_minor, currency)
      VALUES (@account_id, @name, @email, @phone, @address, @dob, @ni_number, @kyc_status, @balance_minor, @currency)`);
    this.db.transaction(() => customers.forEach((customer) => insert.run(customer)))();
  }

  customer(accountId: string): Customer | undefined {
    return this.db.prepare('SELECT * FROM customers WHERE account_id = ?').get(accountId) as Customer | undefined;
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM customers').get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}

export function profileOf(customer: Customer): Profile {
  const { balance_minor: _balance, currency: _currency, ...profile } = customer;
  return profile;
}
