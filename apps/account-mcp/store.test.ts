import { describe, expect, it } from 'vitest';
import { tempDir } from '../../testing/workloads.ts';
import { openDatabase } from '../lib/sqlite.ts';
import { AccountStore, SEED_CUSTOMERS } from './store.ts';

describe('AccountStore seeding', () => {
  it('leaves one copy of each customer when seeded twice, across reopenings', () => {
    const dir = tempDir();
    try {
      const file = `${dir.path}/accounts.sqlite`;
      const first = new AccountStore(openDatabase(file));
      first.seed();
      first.seed();
      expect(first.count()).toBe(SEED_CUSTOMERS.length);
      first.close();
      const second = new AccountStore(openDatabase(file));
      second.seed();
      expect(second.count()).toBe(3);
      expect(second.customer('12347')).toMatchObject({ name: 'Marco Rossi', kyc_status: 'review', balance_minor: 1892000 });
      second.close();
    } finally {
      dir.remove();
    }
  });
});
