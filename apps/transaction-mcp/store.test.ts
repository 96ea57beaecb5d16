import { describe, expect, it } from 'vitest';
import { tempDir } from '../../testing/workloads.ts';
import { openDatabase } from '../lib/sqlite.ts';
import { SEED_TRANSACTIONS, TransactionStore } from './store.ts';

const HOUR = 3_600_000;

describe('TransactionStore', () => {
  it('dates seeded transactions relative to server start, newest first', () => {
    const dir = tempDir();
    try {
      const start = Date.parse('2026-03-01T12:00:00Z');
      const store = new TransactionStore(openDatabase(`${dir.path}/t.sqlite`), start);
      store.seed();
      const recent = store.recent('12345', 7, start);
      expect(recent.map((t) => t.txn_id)).toEqual(['txn-001', 'txn-002', 'txn-003', 'txn-004']);
      expect(recent.map((t) => t.ts)).toEqual([
        new Date(start - 2 * HOUR).toISOString(),
        new Date(start - 5 * HOUR).toISOString(),
        new Date(start - 14 * HOUR).toISOString(),
        new Date(start - 24 * HOUR).toISOString(),
      ]);
      expect(recent[2]).toEqual({ txn_id: 'txn-003', ts: recent[2]!.ts, amount: -1499, merchant: 'GenericLuxuryGoods', currency: 'USD', country: 'RU', flagged: false });
      store.close();
    } finally {
      dir.remove();
    }
  });

  it('applies the window to the age now, not the age at start', () => {
    const dir = tempDir();
    try {
      const start = Date.parse('2026-03-01T12:00:00Z');
      const store = new TransactionStore(openDatabase(`${dir.path}/t.sqlite`), start);
      store.seed();
      expect(store.recent('12345', 1, start).map((t) => t.txn_id)).toEqual(['txn-001', 'txn-002', 'txn-003', 'txn-004']);
      // Eleven hours later the salary (24 h old at start) and the 14 h old charge are past one day.
      expect(store.recent('12345', 1, start + 11 * HOUR).map((t) => t.txn_id)).toEqual(['txn-001', 'txn-002']);
      expect(store.recent('99999', 7, start)).toEqual([]);
      store.close();
    } finally {
      dir.remove();
    }
  });

  it('seeds idempotently and keeps flags across reopenings and reseeding', () => {
    const dir = tempDir();
    try {
      const file = `${dir.path}/t.sqlite`;
      const first = new TransactionStore(openDatabase(file));
      first.seed();
      first.seed();
      expect(first.count()).toBe(SEED_TRANSACTIONS.length);
      expect(first.flag('txn-003')).toBe(true);
      expect(first.flag('txn-999')).toBe(false);
      first.close();
      const second = new TransactionStore(openDatabase(file));
      second.seed();
      expect(second.count()).toBe(5);
      expect(second.details('txn-003')).toMatchObject({ flagged: true, account_id: '12345' });
      expect(second.details('txn-001')).toMatchObject({ flagged: false });
      second.close();
    } finally {
      dir.remove();
    }
  });
});
