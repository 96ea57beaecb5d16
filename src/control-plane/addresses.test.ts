// The address pool never runs dry while addresses are released: 100,000 short-lived holders (each `chat` is
// one) fit in a /16, and a released address is reused only after every fresh one.
import { describe, expect, it } from 'vitest';
import { AddressPool } from './addresses.ts';

describe('the address pool', () => {
  it('keeps one address per key while it is held', () => {
    const pool = new AddressPool('10.244');
    expect(pool.assign('a')).toBe('10.244.0.1');
    expect(pool.assign('b')).toBe('10.244.0.2');
    expect(pool.assign('a')).toBe('10.244.0.1');
    expect(pool.assign('x'.repeat(3))).toBe('10.244.0.3');
  });

  it('serves 100,000 released holders, reusing the oldest released address only once fresh ones run out', () => {
    const pool = new AddressPool('10.244');
    const held = pool.assign('pod');
    const seen = new Set<string>();
    let reusedEarly = 0;
    let clashes = 0;
    for (let i = 0; i < 100_000; i++) {
      const address = pool.assign(`chat-${i}`);
      if (address === held) clashes++;
      if (i < 65_533 && seen.has(address)) reusedEarly++;
      seen.add(address);
      pool.release(`chat-${i}`);
    }
    expect({ clashes, reusedEarly }).toEqual({ clashes: 0, reusedEarly: 0 });
    expect(pool.assign('pod')).toBe(held);
    expect(seen.size).toBe(65_533);
  });

  it('is exhausted only when every address is held at once', () => {
    const pool = new AddressPool('10.96');
    for (let i = 0; i < 65_534; i++) pool.assign(`svc-${i}`);
    expect(() => pool.assign('one-more')).toThrow('address pool 10.96.0.0/16 is exhausted');
    pool.release('svc-7');
    expect(pool.assign('one-more')).toBe('10.96.0.8');
  });
});
