import { describe, expect, it } from 'vitest';
import { parseGoDuration } from './duration.ts';

describe('parseGoDuration', () => {
  it.each<[string, number]>([
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['2h45m30s', 9_930_000],
    ['1.5h', 5_400_000],
    ['.5s', 500],
    ['1.s', 1000],
    ['250ms', 250],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['1500μs', 1.5],
    ['2000000ns', 2],
    ['0', 0],
    ['0s', 0],
    ['+5m', 300_000],
    ['-5m', -300_000],
    ['1m1m', 120_000],
  ])('reads %s as %d ms', (text, milliseconds) => {
    expect(parseGoDuration(text)).toBe(milliseconds);
  });

  it.each(['', '5', '-', '+', '.s', 's', '5d', '1w', '5 m', ' 5m', '5m ', '5M', '1h 30m', '1,5h', 'PT5M', '5mm', '3000000h'])('refuses %j, as Go does', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });
});
