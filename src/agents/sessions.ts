// An agent's conversation record: one SQLite file per agent pod (`<volume>/sessions.db`) holding every A2A
// conversation it took part in, the messages exchanged and every tool call it made with arguments and results.
// The pod writes (`SessionStore`); the agents UI in the `up` process reads the same file from outside the pod
// (`SessionReader`). WAL lets that reader look at the file while the pod writes, without either waiting.
import { existsSync, renameSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ensureDir, ensurePrivateFile } from '../core/data-dir.ts';
import { UserError } from '../core/errors.ts';

/** The session store's file cannot be used; names it and why. */
export class SessionStoreError extends UserError {
  override readonly name: string = 'SessionStoreError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`cannot use the session store ${file}: ${problem}`);
  }
}

/** The file is there but is not a healthy SQLite database (garbage, truncated, damaged pages). */
export class SessionStoreDamagedError extends SessionStoreError {
  override readonly name = 'SessionStoreDamagedError';
}

/** A point in time: a Date, or an ISO 8601 string with a zone (stored normalised to `toISOString()`). */
export type Time = Date | string;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type MessageRole = 'user' | 'agent';
/** `mcp`: a tool on an MCP server; `agent`: a hand-off to another agent over A2A. */
export type ToolCallKind = 'mcp' | 'agent';

/** One conversation, keyed by the A2A `contextId`. Times are ISO 8601 strings in UTC. */
export interface Session {
  id: string;
  agent: string;
  namespace: string;
  /** The caller's SPIFFE id, or '' when the caller had none (e.g. a host port forward). */
  caller: string;
  /** `scripted` or `<provider>/<model>`, e.g. `anthropic/claude-3-5-haiku-20241022`. */
  model: string;
  createdAt: string;
  /** The last time anything was recorded in the session. */
  updatedAt: string;
}

export interface SessionSummary extends Session {
  messageCount: number;
  toolCallCount: number;
  /** The first user message, at most 200 characters (cut ones end with '…'); '' when there is none yet. */
  firstUserMessage: string;
}

export interface SessionMessage {
  id: number;
  sessionId: string;
  taskId: string;
  role: MessageRole;
  author: string;
  text: string;
  createdAt: string;
}

export interface ToolCallRecord {
  id: number;
  sessionId: string;
  taskId: string;
  /** The model's id for the call (tool results refer to it). */
  callId: string;
  name: string;
  kind: ToolCallKind;
  /** The MCP server's name, or the agent handed off to. */
  server: string;
  args: JsonValue;
  result: JsonValue;
  isError: boolean;
  startedAt: string;
  durationMs: number;
}

export interface SessionDetail extends Session {
  /** In the order they were recorded. */
  messages: SessionMessage[];
  /** In the order they were recorded. */
  toolCalls: ToolCallRecord[];
}

export interface NewSession {
  id: string;
  agent: string;
  namespace: string;
  caller: string;
  model: string;
  /** Defaults to the current time. */
  now?: Time;
}

export interface NewMessage {
  sessionId: string;
  taskId: string;
  role: MessageRole;
  author: string;
  text: string;
  /** Defaults to the current time. */
  now?: Time;
}

export interface NewToolCall {
  sessionId: string;
  taskId: string;
  callId: string;
  name: string;
  kind: ToolCallKind;
  server: string;
  /** Any JSON-serialisable value (stored as JSON text; `undefined` is stored as null). */
  args: unknown;
  result: unknown;
  isError: boolean;
  startedAt: Time;
  durationMs: number;
}

export const FIRST_USER_MESSAGE_MAX_CHARS = 200;
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  id         TEXT PRIMARY KEY,
  agent      TEXT NOT NULL,
  namespace  TEXT NOT NULL,
  caller     TEXT NOT NULL,
  model      TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_updated_at ON sessions(updated_at);
CREATE TABLE IF NOT EXISTS messages (
  id         INTEGER PRIMARY KEY,
  session_id TEXT NOT NULL,
  task_id    TEXT NOT NULL,
  role       TEXT NOT NULL CHECK (role IN ('user', 'agent')),
  author     TEXT NOT NULL,
  text       TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_session_id ON messages(session_id);
CREATE TABLE IF NOT EXISTS tool_calls (
  id          INTEGER PRIMARY KEY,
  session_id  TEXT NOT NULL,
  task_id     TEXT NOT NULL,
  call_id     TEXT NOT NULL,
  name        TEXT NOT NULL,
  kind        TEXT NOT NULL CHECK (kind IN ('mcp', 'agent')),
  server      TEXT NOT NULL,
  args_json   TEXT NOT NULL,
  result_json TEXT NOT NULL,
  is_error    INTEGER NOT NULL,
  started_at  TEXT NOT NULL,
  duration_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS tool_calls_session_id ON tool_calls(session_id);
`;

export class SessionNotFoundError extends Error {
  override readonly name = 'SessionNotFoundError';
  constructor(readonly sessionId: string) {
    super(`session ${JSON.stringify(sessionId)} does not exist; call ensureSession first`);
  }
}

/** The writer, inside the agent pod. Every method is one transaction. */
export class SessionStore {
  private readonly upsertSession: Database.Statement;
  private readonly touchSession: Database.Statement;
  private readonly insertMessage: Database.Statement;
  private readonly insertToolCall: Database.Statement;

  private constructor(private readonly db: Database.Database) {
    this.upsertSession = db.prepare(
      `INSERT INTO sessions (id, agent, namespace, caller, model, created_at, updated_at)
       VALUES (@id, @agent, @namespace, @caller, @model, @now, @now)
       ON CONFLICT (id) DO UPDATE SET updated_at = max(updated_at, excluded.updated_at)`,
    );
    // ISO strings in UTC with a fixed format compare as times do, so max() keeps updated_at from going back.
    this.touchSession = db.prepare(`UPDATE sessions SET updated_at = max(updated_at, ?) WHERE id = ?`);
    this.insertMessage = db.prepare(
      `INSERT INTO messages (session_id, task_id, role, author, text, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.insertToolCall = db.prepare(
      `INSERT INTO tool_calls (session_id, task_id, call_id, name, kind, server, args_json, result_json, is_error, started_at, duration_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  /**
   * Open (creating the file, its directory and the tables if needed). Throws SessionStoreDamagedError when
   * the file is not a healthy SQLite database, SessionStoreError when it cannot be opened at all.
   */
  static open(file: string): SessionStore {
    ensureDir(dirname(file));
    let db: Database.Database | undefined;
    try {
      // Conversations with customers: the owner's alone (SQLite gives -wal and -shm the same mode).
      ensurePrivateFile(file);
      // `timeout` is SQLite's busy_timeout: a second process on the file waits for a lock instead of failing.
      db = new Database(file, { timeout: 5000 });
      const opened = db;
      opened.pragma('journal_mode = WAL');
      // Damage behind a valid header shows only when a page is read: look now, while moving it aside is cheap.
      const check = opened.pragma('quick_check', { simple: true }) as string;
      if (check !== 'ok') throw new SessionStoreDamagedError(file, `damaged (quick_check: ${check})`);
      opened.transaction(() => {
        opened.exec(SCHEMA);
        opened.pragma(`user_version = ${SCHEMA_VERSION}`);
      }).immediate();
      return new SessionStore(opened);
    } catch (error) {
      db?.close();
      if (error instanceof SessionStoreError) throw error;
      const code = (error as { code?: string }).code;
      const problem = `${(error as Error).message}${code ? ` (${code})` : ''}`;
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') throw new SessionStoreDamagedError(file, problem);
      throw new SessionStoreError(file, problem);
    }
  }

  /**
   * Open; a damaged file (and any -wal and -shm SQLite left beside it) is moved aside to `<file>.corrupt-<time>` and a new, empty
   * store is started. The agent keeps answering: its conversation record is evidence, not something the next
   * customer needs, and the damaged bytes stay beside it for whoever investigates. (The bank's own databases
   * do the opposite: apps/lib/sqlite.ts refuses to start, because a fresh file would reset balances.)
   */
  static openOrRecover(file: string, now = new Date()): { store: SessionStore; recovered?: { movedTo: string; problem: string } } {
    try {
      return { store: SessionStore.open(file) };
    } catch (error) {
      if (!(error instanceof SessionStoreDamagedError)) throw error;
      const movedTo = `${file}.corrupt-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
      for (const suffix of ['', '-wal', '-shm']) if (existsSync(file + suffix)) renameSync(file + suffix, movedTo + suffix);
      return { store: SessionStore.open(file), recovered: { movedTo, problem: error.problem } };
    }
  }

  /** Record the session if it is new; otherwise only move its updated_at forward. */
  ensureSession(session: NewSession): void {
    const now = isoTime(session.now ?? new Date(), 'now');
    this.upsertSession.run({ id: session.id, agent: session.agent, namespace: session.namespace, caller: session.caller, model: session.model, now });
  }

  /** Record a message; returns its id. Throws SessionNotFoundError when the session was never ensured. */
  addMessage(message: NewMessage): number {
    const createdAt = isoTime(message.now ?? new Date(), 'now');
    return this.db.transaction(() => {
      this.touch(message.sessionId, createdAt);
      const info = this.insertMessage.run(message.sessionId, message.taskId, message.role, message.author, message.text, createdAt);
      return Number(info.lastInsertRowid);
    })();
  }

  /** Record a finished tool call; returns its id. Throws SessionNotFoundError when the session was never ensured. */
  addToolCall(call: NewToolCall): number {
    const started = toDate(call.startedAt, 'startedAt');
    const startedAt = started.toISOString();
    const argsJson = toJsonText(call.args, `arguments of tool call ${call.name}`);
    const resultJson = toJsonText(call.result, `result of tool call ${call.name}`);
    if (!Number.isFinite(call.durationMs) || call.durationMs < 0) throw new RangeError(`durationMs must be a non-negative number, got ${call.durationMs}`);
    const finishedAt = new Date(started.getTime() + call.durationMs).toISOString();
    return this.db.transaction(() => {
      this.touch(call.sessionId, finishedAt);
      const info = this.insertToolCall.run(
        call.sessionId,
        call.taskId,
        call.callId,
        call.name,
        call.kind,
        call.server,
        argsJson,
        resultJson,
        call.isError ? 1 : 0,
        startedAt,
        call.durationMs,
      );
      return Number(info.lastInsertRowid);
    })();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private touch(sessionId: string, at: string): void {
    if (this.touchSession.run(at, sessionId).changes === 0) throw new SessionNotFoundError(sessionId);
  }
}

interface SessionRow {
  id: string;
  agent: string;
  namespace: string;
  caller: string;
  model: string;
  created_at: string;
  updated_at: string;
}

interface SummaryRow extends SessionRow {
  message_count: number;
  tool_call_count: number;
  first_user_message: string | null;
}

interface MessageRow {
  id: number;
  session_id: string;
  task_id: string;
  role: MessageRole;
  author: string;
  text: string;
  created_at: string;
}

interface ToolCallRow {
  id: number;
  session_id: string;
  task_id: string;
  call_id: string;
  name: string;
  kind: ToolCallKind;
  server: string;
  args_json: string;
  result_json: string;
  is_error: number;
  started_at: string;
  duration_ms: number;
}

interface ReaderStatements {
  list: Database.Statement<[number], SummaryRow>;
  session: Database.Statement<[string], SessionRow>;
  messages: Database.Statement<[string], MessageRow>;
  toolCalls: Database.Statement<[string], ToolCallRow>;
}

export const DEFAULT_LIST_LIMIT = 100;

/**
 * The read-only view of an agent's file, for a process other than the pod. The file may not exist yet (the
 * agent has not been asked anything, or its pod has not started): until it does, every list is empty. A file
 * that exists but is not a session database makes the calls throw.
 */
export class SessionReader {
  private db: Database.Database | undefined;
  private statements: ReaderStatements | undefined;
  /** Which file the connection is on: a reset that deletes and recreates the file must not leave us on the old one. */
  private openedFile: Pick<Stats, 'dev' | 'ino' | 'birthtimeMs'> | undefined;

  private constructor(readonly file: string) {}

  /** Never throws for a missing file: the file is opened on first use once it exists. */
  static open(file: string): SessionReader {
    return new SessionReader(file);
  }

  /** Sessions, most recently active first. */
  listSessions(options: { limit?: number } = {}): SessionSummary[] {
    const limit = options.limit ?? DEFAULT_LIST_LIMIT;
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
    const statements = this.prepared();
    if (!statements) return [];
    return statements.list.all(limit).map((row) => ({
      ...sessionFromRow(row),
      messageCount: row.message_count,
      toolCallCount: row.tool_call_count,
      firstUserMessage: truncate(row.first_user_message ?? '', FIRST_USER_MESSAGE_MAX_CHARS),
    }));
  }

  getSession(id: string): SessionDetail | undefined {
    const statements = this.prepared();
    if (!statements) return undefined;
    // One read transaction, so the messages and tool calls are of the same moment as the session row.
    const db = this.db!;
    return db.transaction(() => {
      const row = statements.session.get(id);
      if (!row) return undefined;
      return {
        ...sessionFromRow(row),
        messages: statements.messages.all(id).map(messageFromRow),
        toolCalls: statements.toolCalls.all(id).map(toolCallFromRow),
      };
    }).deferred();
  }

  close(): void {
    this.statements = undefined;
    this.openedFile = undefined;
    if (this.db?.open) this.db.close();
    this.db = undefined;
  }

  /** The statements, or undefined while there is no file or the writer has not created the tables yet. */
  private prepared(): ReaderStatements | undefined {
    const current = statSync(this.file, { throwIfNoEntry: false });
    if (!current) {
      this.close();
      return undefined;
    }
    const same = this.openedFile && current.dev === this.openedFile.dev && current.ino === this.openedFile.ino && current.birthtimeMs === this.openedFile.birthtimeMs;
    if (this.db && !same) this.close();
    if (this.statements) return this.statements;
    if (!this.db) {
      try {
        // A short timeout: the reader serves a web page and must not hang it behind a stuck writer.
        this.db = new Database(this.file, { readonly: true, fileMustExist: true, timeout: 1000 });
        this.openedFile = { dev: current.dev, ino: current.ino, birthtimeMs: current.birthtimeMs };
      } catch (error) {
        // The file went away between the check and the open: still "no sessions yet".
        if (isCantOpen(error) && !existsSync(this.file)) return undefined;
        throw error;
      }
    }
    const db = this.db;
    try {
      const tables = db.prepare(`SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table' AND name IN ('sessions', 'messages', 'tool_calls')`).get() as { n: number };
      if (tables.n < 3) return undefined;
      this.statements = {
        list: db.prepare<[number], SummaryRow>(
          `SELECT s.id, s.agent, s.namespace, s.caller, s.model, s.created_at, s.updated_at,
                  (SELECT count(*) FROM messages m WHERE m.session_id = s.id) AS message_count,
                  (SELECT count(*) FROM tool_calls t WHERE t.session_id = s.id) AS tool_call_count,
                  (SELECT substr(m.text, 1, ${FIRST_USER_MESSAGE_MAX_CHARS + 1}) FROM messages m
                    WHERE m.session_id = s.id AND m.role = 'user' ORDER BY m.id LIMIT 1) AS first_user_message
             FROM sessions s
            ORDER BY s.updated_at DESC, s.created_at DESC, s.id
            LIMIT ?`,
        ),
        session: db.prepare<[string], SessionRow>(`SELECT id, agent, namespace, caller, model, created_at, updated_at FROM sessions WHERE id = ?`),
        messages: db.prepare<[string], MessageRow>(
          `SELECT id, session_id, task_id, role, author, text, created_at FROM messages WHERE session_id = ? ORDER BY id`,
        ),
        toolCalls: db.prepare<[string], ToolCallRow>(
          `SELECT id, session_id, task_id, call_id, name, kind, server, args_json, result_json, is_error, started_at, duration_ms
             FROM tool_calls WHERE session_id = ? ORDER BY id`,
        ),
      };
      return this.statements;
    } catch (error) {
      // Not a database, or a broken one: drop the connection so that a repaired file is opened afresh.
      this.close();
      throw error;
    }
  }
}

function sessionFromRow(row: SessionRow): Session {
  return {
    id: row.id,
    agent: row.agent,
    namespace: row.namespace,
    caller: row.caller,
    model: row.model,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function messageFromRow(row: MessageRow): SessionMessage {
  return {
    id: row.id,
    sessionId: row.session_id,
    taskId: row.task_id,
    role: row.role,
    author: row.author,
    text: row.text,
    createdAt: row.created_at,
  };
}

function toolCallFromRow(row: ToolCallRow): ToolCallRecord {
  return {
    id: row.id,
    sessionId: row.session_id,
    taskId: row.task_id,
    callId: row.call_id,
    name: row.name,
    kind: row.kind,
    server: row.server,
    args: JSON.parse(row.args_json) as JsonValue,
    result: JSON.parse(row.result_json) as JsonValue,
    isError: row.is_error !== 0,
    startedAt: row.started_at,
    durationMs: row.duration_ms,
  };
}

function toDate(time: Time, field: string): Date {
  const date = typeof time === 'string' ? new Date(time) : time;
  // A string without a zone would be read as local time: refuse it rather than store a shifted time.
  if (Number.isNaN(date.getTime()) || (typeof time === 'string' && !/(Z|[+-]\d{2}:?\d{2})$/i.test(time))) {
    throw new RangeError(`${field} must be a valid time (a Date or an ISO 8601 string with a zone), got ${JSON.stringify(String(time))}`);
  }
  return date;
}

function isoTime(time: Time, field: string): string {
  return toDate(time, field).toISOString();
}

function toJsonText(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(`${what} is not JSON-serialisable: ${error instanceof Error ? error.message : String(error)}`);
  }
  // undefined, functions and symbols have no JSON text.
  return text ?? 'null';
}

/** At most `max` characters (code points, so a surrogate pair is never split); a cut text ends with '…'. */
function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : chars.slice(0, max - 1).join('') + '…';
}

function isCantOpen(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'SQLITE_CANTOPEN';
}
