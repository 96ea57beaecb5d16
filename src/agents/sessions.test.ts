import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionNotFoundError, SessionReader, SessionStore, SessionStoreError } from './sessions.ts';

const AGENT = { agent: 'support-bot', namespace: 'trustusbank-bank-agents' };
const CALLER = 'spiffe://cluster.local/ns/trustusbank-bank-frontend/sa/chatbot';

let dir: string;
let file: string;
const opened: Array<{ close(): void }> = [];

function store(): SessionStore {
  const s = SessionStore.open(file);
  opened.push(s);
  return s;
}

function reader(path = file): SessionReader {
  const r = SessionReader.open(path);
  opened.push(r);
  return r;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tub-sessions-'));
  file = join(dir, 'volumes', 'trustusbank-bank-agents', 'support-bot', 'sessions.db');
});

afterEach(() => {
  for (const handle of opened.splice(0)) handle.close();
  rmSync(dir, { recursive: true, force: true });
});

const at = (seconds: number): Date => new Date(Date.UTC(2025, 0, 2, 10, 0, seconds));

describe('SessionStore and SessionReader', () => {
  it('round-trips a session with its messages and tool calls, in order', () => {
    const writer = store();
    writer.ensureSession({ id: 'ctx-1', ...AGENT, caller: CALLER, model: 'scripted', now: at(0) });
    const m1 = writer.addMessage({ sessionId: 'ctx-1', taskId: 'task-1', role: 'user', author: 'customer', text: 'I am customer 12345.', now: at(1) });
    const args = { customer_id: '12345', nested: { list: [1, 2.5, 'three', null, true], empty: {} }, unicode: 'café ✓ 😀' };
    const result = { balance_minor: 428755, currency: 'GBP', flags: [] };
    const c1 = writer.addToolCall({
      sessionId: 'ctx-1',
      taskId: 'task-1',
      callId: 'call-a',
      name: 'get_balance',
      kind: 'mcp',
      server: 'account',
      args,
      result,
      isError: false,
      startedAt: at(2),
      durationMs: 12.5,
    });
    const c2 = writer.addToolCall({
      sessionId: 'ctx-1',
      taskId: 'task-1',
      callId: 'call-b',
      name: 'fraud-bot',
      kind: 'agent',
      server: 'fraud-bot',
      args: { message: 'score these' },
      result: 'a plain string result',
      isError: true,
      startedAt: '2025-01-02T10:00:03.000Z',
      durationMs: 250,
    });
    const m2 = writer.addMessage({ sessionId: 'ctx-1', taskId: 'task-1', role: 'agent', author: 'support-bot', text: 'Your balance is £4,287.55.', now: at(5) });
    expect(m2).toBeGreaterThan(m1);
    expect(c2).toBeGreaterThan(c1);

    const detail = reader().getSession('ctx-1');
    expect(detail).toEqual({
      id: 'ctx-1',
      ...AGENT,
      caller: CALLER,
      model: 'scripted',
      createdAt: at(0).toISOString(),
      updatedAt: at(5).toISOString(),
      messages: [
        { id: m1, sessionId: 'ctx-1', taskId: 'task-1', role: 'user', author: 'customer', text: 'I am customer 12345.', createdAt: at(1).toISOString() },
        { id: m2, sessionId: 'ctx-1', taskId: 'task-1', role: 'agent', author: 'support-bot', text: 'Your balance is £4,287.55.', createdAt: at(5).toISOString() },
      ],
      toolCalls: [
        {
          id: c1,
          sessionId: 'ctx-1',
          taskId: 'task-1',
          callId: 'call-a',
          name: 'get_balance',
          kind: 'mcp',
          server: 'account',
          args,
          result,
          isError: false,
          startedAt: at(2).toISOString(),
          durationMs: 12.5,
        },
        {
          id: c2,
          sessionId: 'ctx-1',
          taskId: 'task-1',
          callId: 'call-b',
          name: 'fraud-bot',
          kind: 'agent',
          server: 'fraud-bot',
          args: { message: 'score these' },
          result: 'a plain string result',
          isError: true,
          startedAt: at(3).toISOString(),
          durationMs: 250,
        },
      ],
    });
  });

  it('stores JSON values of every shape, and undefined as null', () => {
    const writer = store();
    writer.ensureSession({ id: 'ctx', ...AGENT, caller: '', model: 'scripted' });
    const values: unknown[] = [null, 0, -1.25, 'text with "quotes" and </script>', [], [{ a: [null] }], { deep: { er: { est: 1e21 } } }, true];
    for (const [i, value] of values.entries()) {
      writer.addToolCall({ sessionId: 'ctx', taskId: 't', callId: `c${i}`, name: 'echo', kind: 'mcp', server: 's', args: value, result: value, isError: false, startedAt: new Date(), durationMs: 1 });
    }
    writer.addToolCall({ sessionId: 'ctx', taskId: 't', callId: 'u', name: 'echo', kind: 'mcp', server: 's', args: undefined, result: undefined, isError: false, startedAt: new Date(), durationMs: 0 });
    const calls = reader().getSession('ctx')!.toolCalls;
    expect(calls.map((c) => c.args)).toEqual([...values, null]);
    expect(calls.map((c) => c.result)).toEqual([...values, null]);
  });

  it('refuses values that are not JSON, times without a zone, and records for a session never ensured', () => {
    const writer = store();
    writer.ensureSession({ id: 'ctx', ...AGENT, caller: '', model: 'scripted' });
    const call = { sessionId: 'ctx', taskId: 't', callId: 'c', name: 'n', kind: 'mcp' as const, server: 's', result: null, isError: false, startedAt: new Date(), durationMs: 1 };
    expect(() => writer.addToolCall({ ...call, args: { big: 1n } })).toThrow(/arguments of tool call n is not JSON-serialisable/);
    expect(() => writer.addToolCall({ ...call, args: {}, startedAt: '2025-01-02 10:00:00' })).toThrow(/startedAt must be a valid time/);
    expect(() => writer.addMessage({ sessionId: 'nope', taskId: 't', role: 'user', author: 'a', text: 'x' })).toThrow(SessionNotFoundError);
    expect(() => writer.addToolCall({ ...call, sessionId: 'nope', args: {} })).toThrow(/session "nope" does not exist/);
    // Nothing half-written.
    const detail = reader().getSession('ctx')!;
    expect(detail.toolCalls).toEqual([]);
    expect(reader().getSession('nope')).toBeUndefined();
  });

  it('lists sessions most recently active first, with counts and the first user message cut to 200 characters', () => {
    const writer = store();
    writer.ensureSession({ id: 'old', ...AGENT, caller: CALLER, model: 'scripted', now: at(0) });
    writer.ensureSession({ id: 'new', ...AGENT, caller: '', model: 'anthropic/claude-3-5-haiku-20241022', now: at(10) });
    writer.ensureSession({ id: 'empty', ...AGENT, caller: '', model: 'scripted', now: at(5) });
    writer.addMessage({ sessionId: 'old', taskId: 't1', role: 'agent', author: 'support-bot', text: 'agent first', now: at(1) });
    writer.addMessage({ sessionId: 'old', taskId: 't1', role: 'user', author: 'customer', text: 'é'.repeat(300), now: at(2) });
    writer.addMessage({ sessionId: 'old', taskId: 't2', role: 'user', author: 'customer', text: 'second user message', now: at(3) });
    writer.addMessage({ sessionId: 'new', taskId: 't3', role: 'user', author: 'customer', text: 'short', now: at(11) });
    writer.addToolCall({ sessionId: 'new', taskId: 't3', callId: 'c', name: 'get_balance', kind: 'mcp', server: 'account', args: {}, result: {}, isError: false, startedAt: at(12), durationMs: 3 });

    const list = reader().listSessions();
    expect(list.map((s) => s.id)).toEqual(['new', 'empty', 'old']);
    const [fresh, empty, old] = list;
    expect(fresh).toMatchObject({ messageCount: 1, toolCallCount: 1, firstUserMessage: 'short', model: 'anthropic/claude-3-5-haiku-20241022', caller: '' });
    // A tool call moves updated_at to when it finished.
    expect(fresh!.updatedAt).toBe(new Date(at(12).getTime() + 3).toISOString());
    expect(empty).toMatchObject({ messageCount: 0, toolCallCount: 0, firstUserMessage: '' });
    expect(old).toMatchObject({ messageCount: 3, toolCallCount: 0, caller: CALLER, createdAt: at(0).toISOString(), updatedAt: at(3).toISOString() });
    expect(old!.firstUserMessage).toBe('é'.repeat(199) + '…');
    expect(Array.from(old!.firstUserMessage)).toHaveLength(200);

    expect(reader().listSessions({ limit: 2 }).map((s) => s.id)).toEqual(['new', 'empty']);

    // Ensuring an existing session moves updated_at forward only, and keeps what it was created with.
    writer.ensureSession({ id: 'old', ...AGENT, caller: 'someone else', model: 'other', now: at(20) });
    writer.ensureSession({ id: 'new', ...AGENT, caller: '', model: 'scripted', now: at(1) });
    const again = reader().listSessions();
    expect(again.map((s) => s.id)).toEqual(['old', 'new', 'empty']);
    expect(again[0]).toMatchObject({ caller: CALLER, model: 'scripted', updatedAt: at(20).toISOString() });
    expect(again[1]!.model).toBe('anthropic/claude-3-5-haiku-20241022');
  });

  it('reads nothing from a file that does not exist yet, then sees it once the writer creates it', () => {
    const early = reader();
    expect(early.listSessions()).toEqual([]);
    expect(early.getSession('ctx')).toBeUndefined();
    expect(existsSync(file)).toBe(false); // the reader never creates the file

    const writer = store();
    expect(early.listSessions()).toEqual([]); // tables there, no rows
    writer.ensureSession({ id: 'ctx', ...AGENT, caller: '', model: 'scripted' });
    expect(early.listSessions().map((s) => s.id)).toEqual(['ctx']);
  });

  it('sees rows the writer commits after the reader opened (separate connections)', () => {
    const writer = store();
    writer.ensureSession({ id: 'ctx', ...AGENT, caller: '', model: 'scripted', now: at(0) });
    const live = reader();
    expect(live.getSession('ctx')!.messages).toHaveLength(0);

    writer.addMessage({ sessionId: 'ctx', taskId: 't', role: 'user', author: 'customer', text: 'hello', now: at(1) });
    writer.addToolCall({ sessionId: 'ctx', taskId: 't', callId: 'c', name: 'list_recent', kind: 'mcp', server: 'transaction', args: { limit: 5 }, result: { items: [] }, isError: false, startedAt: at(2), durationMs: 4 });
    writer.ensureSession({ id: 'ctx-2', ...AGENT, caller: '', model: 'scripted', now: at(3) });

    const detail = live.getSession('ctx')!;
    expect(detail.messages.map((m) => m.text)).toEqual(['hello']);
    expect(detail.toolCalls.map((c) => c.args)).toEqual([{ limit: 5 }]);
    expect(live.listSessions().map((s) => s.id)).toEqual(['ctx-2', 'ctx']);
  });

  it('reads a file whose writer has closed (no -wal file left), and never writes to it', () => {
    const writer = SessionStore.open(file);
    writer.ensureSession({ id: 'ctx', ...AGENT, caller: '', model: 'scripted' });
    writer.close();
    expect(existsSync(`${file}-wal`)).toBe(false);
    const r = reader();
    expect(r.listSessions().map((s) => s.id)).toEqual(['ctx']);
    expect(() => (r as unknown as { db: Database.Database }).db.exec(`DELETE FROM sessions`)).toThrow(/readonly/);
  });

  it('follows the file when it is deleted and recreated (a reset), instead of reading the old one', () => {
    const first = SessionStore.open(file);
    first.ensureSession({ id: 'before-reset', ...AGENT, caller: '', model: 'scripted' });
    const r = reader();
    expect(r.listSessions().map((s) => s.id)).toEqual(['before-reset']);
    first.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    expect(r.listSessions()).toEqual([]);
    expect(r.getSession('before-reset')).toBeUndefined();
    const second = store();
    second.ensureSession({ id: 'after-reset', ...AGENT, caller: '', model: 'scripted' });
    expect(r.listSessions().map((s) => s.id)).toEqual(['after-reset']);

    // Again with no read in between: the reader still holds the old file open, and must notice it is gone.
    second.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    const third = store();
    third.ensureSession({ id: 'second-reset', ...AGENT, caller: '', model: 'scripted' });
    expect(r.listSessions().map((s) => s.id)).toEqual(['second-reset']);
  });

  it('opens in WAL mode with a busy timeout', () => {
    store();
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(1);
    } finally {
      db.close();
    }
  });

  it('throws on a file that is not a session database, and recovers once the file is repaired', () => {
    const bad = join(dir, 'bad.db');
    writeFileSync(bad, 'this is not a database '.repeat(100));
    const r = reader(bad);
    expect(() => r.listSessions()).toThrow(/not a database/);
    rmSync(bad);
    expect(r.listSessions()).toEqual([]);
    const writer = SessionStore.open(bad);
    opened.push(writer);
    writer.ensureSession({ id: 'ctx', ...AGENT, caller: '', model: 'scripted' });
    expect(r.listSessions().map((s) => s.id)).toEqual(['ctx']);
  });
});

// One agent's damaged conversation record used to stop the agent at start, and with it the whole stack's
// start-up. The choice: move the damaged file aside (bytes kept for whoever investigates) and start empty; the
// agent reports it (a warning naming both files, and /healthz). The clean path: a healthy file is opened as is.
describe('SessionStore.openOrRecover', () => {
  const at = new Date('2026-12-02T13:50:07.123Z');

  it('opens a healthy store in place, keeping its sessions, and moves nothing', () => {
    const first = store();
    first.ensureSession({ id: 'kept', ...AGENT, caller: CALLER, model: 'scripted' });
    first.close();
    const { store: again, recovered } = SessionStore.openOrRecover(file, at);
    opened.push(again);
    expect(recovered).toBeUndefined();
    expect(reader().listSessions().map((s) => s.id)).toEqual(['kept']);
    expect(existsSync(`${file}.corrupt-20261202T135007Z`)).toBe(false);
  });

  it('moves a file of garbage aside and starts an empty store that works', () => {
    store().close();
    const garbage = 'not a database at all '.repeat(300);
    writeFileSync(file, garbage);
    const { store: fresh, recovered } = SessionStore.openOrRecover(file, at);
    opened.push(fresh);
    const movedTo = `${file}.corrupt-20261202T135007Z`;
    expect(recovered).toEqual({ movedTo, problem: 'file is not a database (SQLITE_NOTADB)' });
    expect(readFileSync(movedTo, 'utf8')).toBe(garbage);
    expect(statSync(movedTo).mode & 0o777).toBe(0o600);
    fresh.ensureSession({ id: 'new', ...AGENT, caller: CALLER, model: 'scripted' });
    expect(reader().listSessions().map((s) => s.id)).toEqual(['new']);
  });

  it('moves aside a store whose pages are damaged behind a valid header', () => {
    const first = store();
    for (let i = 0; i < 300; i++) first.ensureSession({ id: `ctx-${i}-${'x'.repeat(100)}`, ...AGENT, caller: CALLER, model: 'scripted' });
    first.close();
    const bytes = readFileSync(file);
    bytes.fill(0x5a, 4096 * 2);
    writeFileSync(file, bytes);
    const { store: fresh, recovered } = SessionStore.openOrRecover(file, at);
    opened.push(fresh);
    expect(recovered?.problem).toMatch(/damaged|malformed/);
    expect(reader().listSessions()).toEqual([]);
  });

  it('does not move what it cannot open for another reason: it names the file and stops', () => {
    mkdirSync(file, { recursive: true });
    expect(() => SessionStore.openOrRecover(file, at)).toThrow(SessionStoreError);
    expect(() => SessionStore.openOrRecover(file, at)).toThrow(`cannot use the session store ${file}`);
    expect(existsSync(`${file}.corrupt-20261202T135007Z`)).toBe(false);
  });
});
