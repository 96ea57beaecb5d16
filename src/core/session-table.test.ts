// The session table's bookkeeping with a hand-moved clock: which session goes when a bound is reached.
import { describe, expect, it } from 'vitest';
import { SessionTable } from './session-table.ts';

const limits = { maxSessions: 4, maxPerCaller: 2, idleMs: 1000, minIdleToEvictMs: 100 };

describe('the session table', () => {
  let clock = 0;
  const table = () => new SessionTable<{ id: string; caller: string; lastUsed: number }>(limits, () => clock);
  const session = (id: string, caller: string) => ({ id, caller, lastUsed: 0 });

  it('evicts a caller’s own least recently used session at its per-caller bound, not another caller’s', () => {
    clock = 0;
    const t = table();
    expect(t.add(session('b1', 'b'))).toEqual({ ok: true, evicted: [] });
    t.add(session('a1', 'a'));
    t.add(session('a2', 'a'));
    clock = 10;
    t.touch(t.get('a1')!); // a2 is now a's least recently used
    const added = t.add(session('a3', 'a'));
    expect(added).toMatchObject({ ok: true, evicted: [{ id: 'a2' }] });
    expect(t.values().map((s) => s.id)).toEqual(['b1', 'a1', 'a3']);
  });

  it('when full, evicts the least recently used session idle long enough, and refuses when none is', () => {
    clock = 0;
    const t = table();
    for (const [id, caller] of [['w', 'w'], ['x', 'x'], ['y', 'y'], ['z', 'z']]) t.add(session(id!, caller!));
    clock = 50;
    expect(t.refusal('new')).toMatch(/4 sessions, all in recent use \(at most 4\)/);
    expect(t.add(session('n1', 'new'))).toMatchObject({ ok: false, evicted: [] });
    expect(t.size).toBe(4);
    clock = 150;
    t.touch(t.get('w')!);
    expect(t.refusal('new')).toBeUndefined();
    expect(t.add(session('n1', 'new'))).toMatchObject({ ok: true, evicted: [{ id: 'x' }] });
    expect(t.get('x')).toBeUndefined();
  });

  it('forgets an idle session at once for lookups, and hands expired ones back to be closed', () => {
    clock = 0;
    const t = table();
    t.add(session('old', 'a'));
    clock = 600;
    t.add(session('recent', 'b'));
    clock = 1001;
    expect(t.get('old')).toBeUndefined();
    expect(t.get('recent')).toBeDefined();
    expect(t.expire().map((s) => s.id)).toEqual(['old']);
    expect(t.values().map((s) => s.id)).toEqual(['recent']);
  });
});
