// Pinning MCP tool definitions, the defence against a "rug-pull": an upstream server that is swapped for one whose
// tool keeps its name but gains a poisoned description or an extra argument. The first tools/list seen from a server
// is trusted and pinned (trust on first use); afterwards every changed, added or removed tool is drift, reported
// until the operator approves it. Observing never moves a pin: only `approve` does, so a rug-pull cannot
// launder itself by being observed often enough.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** A tool as an MCP server lists it (extra fields kept). */
export interface ToolDefinition {
  name: string;
  title?: string;
  description?: string;
  inputSchema?: unknown;
  outputSchema?: unknown;
  annotations?: unknown;
  [key: string]: unknown;
}

/** The parts of a tool that decide what a model reads and sends; `_meta` and other extras do not. */
export const FINGERPRINTED_FIELDS = ['name', 'title', 'description', 'inputSchema', 'outputSchema', 'annotations'] as const;
export type FingerprintedField = (typeof FINGERPRINTED_FIELDS)[number];

export interface ToolChange {
  tool: string;
  kind: 'changed' | 'added' | 'removed';
  /** which parts changed for 'changed': subset of name/title/description/inputSchema/outputSchema/annotations */
  fields?: string[];
  /** Fingerprint of the pin ('changed', 'removed'). */
  pinned?: string;
  /** Fingerprint of the observed tool ('changed', 'added'). */
  observed?: string;
}

export interface DriftReport {
  server: string;
  drifted: boolean;
  changes: ToolChange[];
  /** ms epoch of the observation */
  observedAt: number;
  /** ms epoch of the latest change to the server's pins (first sight or an approval). */
  pinnedAt: number;
  /** The observation reported on was the server's first, and pinned everything. */
  firstSeen: boolean;
}

export interface DriftEvent {
  id: number;
  server: string;
  /** 'drift': an observation differed from the pins in a new way; 'approved': an operator re-pinned. */
  kind: 'drift' | 'approved';
  detectedAt: number;
  /** For 'drift', the changes observed; for 'approved', the changes that the approval accepted. */
  changes: ToolChange[];
  approvedBy?: string;
  /** The tools named in the approval; absent when the whole server was approved. */
  approvedTools?: string[];
}

export interface PinnedTool {
  server: string;
  tool: string;
  fingerprint: string;
  pinnedAt: number;
  definition: ToolDefinition;
}

/** `approve` of a server this store has never observed (or has forgotten). */
export class UnknownServerError extends Error {
  override readonly name = 'UnknownServerError';
  constructor(readonly server: string) {
    super(`no tools/list has been observed for MCP server ${JSON.stringify(server)}`);
  }
}

/** `approve` named tools that the server neither lists nor has pinned (most likely a typo by the operator). */
export class UnknownToolError extends Error {
  override readonly name = 'UnknownToolError';
  constructor(
    readonly server: string,
    readonly tools: readonly string[],
  ) {
    super(`MCP server ${JSON.stringify(server)} has no observed or pinned tool named ${tools.map((tool) => JSON.stringify(tool)).join(', ')}`);
  }
}

/** A tools/list that cannot be pinned: a tool without a usable name. */
export class ToolListError extends Error {
  override readonly name = 'ToolListError';
  constructor(
    readonly server: string,
    readonly problem: string,
  ) {
    super(`tools/list of MCP server ${JSON.stringify(server)}: ${problem}`);
  }
}

/** The database file holds something this code cannot use (a newer schema). */
export class ToolPinStoreError extends Error {
  override readonly name = 'ToolPinStoreError';
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}

/**
 * JSON with object keys sorted recursively (by UTF-16 code unit) and no whitespace, so that two servers listing the
 * same schema with keys in a different order produce the same text. Otherwise as JSON.stringify: undefined,
 * functions and symbols are dropped from objects and become null in arrays (and at the top level), toJSON is
 * honoured, non-finite numbers become null. Cycles and bigints throw a TypeError, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, new Set()) ?? 'null';
}

function encode(value: unknown, ancestors: Set<object>): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  switch (typeof value) {
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'bigint':
      throw new TypeError('canonicalJson: a BigInt has no JSON form');
    case 'string':
    case 'number':
    case 'boolean':
      return JSON.stringify(value);
  }
  if (value === null) return 'null';
  const object = value as object;
  if (ancestors.has(object)) throw new TypeError('canonicalJson: the value is cyclic');
  ancestors.add(object);
  try {
    if (Array.isArray(object)) return `[${object.map((item) => encode(item, ancestors) ?? 'null').join(',')}]`;
    const members: string[] = [];
    for (const key of Object.keys(object).sort()) {
      const encoded = encode((object as Record<string, unknown>)[key], ancestors);
      if (encoded !== undefined) members.push(`${JSON.stringify(key)}:${encoded}`);
    }
    return `{${members.join(',')}}`;
  } finally {
    ancestors.delete(object);
  }
}

/** The fingerprinted fields of a tool; absent (or undefined) fields are left out, so `title: null` still counts. */
function fingerprintedParts(tool: ToolDefinition): Partial<Record<FingerprintedField, unknown>> {
  const parts: Partial<Record<FingerprintedField, unknown>> = {};
  for (const field of FINGERPRINTED_FIELDS) if (tool[field] !== undefined) parts[field] = tool[field];
  return parts;
}

/** sha256 (hex) over the canonical JSON of the tool's name, title, description, schemas and annotations. */
export function fingerprintTool(tool: ToolDefinition): string {
  return createHash('sha256').update(canonicalJson(fingerprintedParts(tool))).digest('hex');
}

/** The fingerprinted fields that differ between two definitions of one tool. */
function changedFields(pinned: ToolDefinition, observed: ToolDefinition): string[] {
  // encode, not canonicalJson, so that an absent field differs from one that is present and null.
  return FINGERPRINTED_FIELDS.filter((field) => encode(pinned[field], new Set()) !== encode(observed[field], new Set()));
}

interface StoredTool {
  tool: string;
  fingerprint: string;
  definition: ToolDefinition;
}

interface ServerRow {
  server: string;
  pinned_at: number;
  observed_at: number;
  observation_count: number;
  last_drift: string | null;
}

interface ToolRow {
  tool: string;
  fingerprint: string;
  definition: string;
}

interface PinRow extends ToolRow {
  server: string;
  pinned_at: number;
}

interface EventRow {
  id: number;
  server: string;
  kind: 'drift' | 'approved';
  detected_at: number;
  changes: string;
  approved_by: string | null;
  approved_tools: string | null;
}

// Each entry migrates the schema from version i to i + 1; the version lives in SQLite's user_version pragma
// (schema_version is SQLite's own counter and must not be written). Append, never edit, once released.
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE servers (
     server TEXT PRIMARY KEY,
     pinned_at INTEGER NOT NULL,
     observed_at INTEGER NOT NULL,
     observation_count INTEGER NOT NULL,
     -- canonical JSON of the changes in the last recorded drift event; NULL while the server matches its pins
     last_drift TEXT);
   CREATE TABLE pins (
     server TEXT NOT NULL REFERENCES servers(server) ON DELETE CASCADE,
     tool TEXT NOT NULL,
     fingerprint TEXT NOT NULL,
     pinned_at INTEGER NOT NULL,
     definition TEXT NOT NULL,
     PRIMARY KEY (server, tool));
   -- the latest tools/list of each server, which is what an approval pins
   CREATE TABLE observations (
     server TEXT NOT NULL REFERENCES servers(server) ON DELETE CASCADE,
     tool TEXT NOT NULL,
     fingerprint TEXT NOT NULL,
     definition TEXT NOT NULL,
     PRIMARY KEY (server, tool));
   -- no foreign key: events outlive a forgotten server, for audit
   CREATE TABLE events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     server TEXT NOT NULL,
     kind TEXT NOT NULL,
     detected_at INTEGER NOT NULL,
     changes TEXT NOT NULL,
     approved_by TEXT,
     approved_tools TEXT);
   CREATE INDEX events_by_server ON events (server, id);`,
];

function openDatabase(path: string): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  // WAL so that a CLI reading status never blocks the gateway writing observations; the busy timeout makes two
  // processes on one file wait for each other instead of failing.
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  return db;
}

function migrate(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new ToolPinStoreError(path, `schema version ${version} is newer than this code understands (${MIGRATIONS.length})`);
  }
  for (let next = version; next < MIGRATIONS.length; next++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[next]!);
      db.pragma(`user_version = ${next + 1}`);
    })();
  }
}

function byName(a: { tool: string }, b: { tool: string }): number {
  return a.tool < b.tool ? -1 : a.tool > b.tool ? 1 : 0;
}

/** Changes between pins and an observation, sorted by tool so that equal sets have equal canonical JSON. */
function diff(pins: ReadonlyMap<string, StoredTool>, observed: ReadonlyMap<string, StoredTool>): ToolChange[] {
  const changes: ToolChange[] = [];
  for (const [tool, pin] of pins) {
    const seen = observed.get(tool);
    if (seen === undefined) changes.push({ tool, kind: 'removed', pinned: pin.fingerprint });
    else if (seen.fingerprint !== pin.fingerprint) {
      changes.push({ tool, kind: 'changed', fields: changedFields(pin.definition, seen.definition), pinned: pin.fingerprint, observed: seen.fingerprint });
    }
  }
  for (const [tool, seen] of observed) if (!pins.has(tool)) changes.push({ tool, kind: 'added', observed: seen.fingerprint });
  return changes.sort(byName);
}

function storedTool(row: ToolRow): StoredTool {
  return { tool: row.tool, fingerprint: row.fingerprint, definition: JSON.parse(row.definition) as ToolDefinition };
}

function prepareStatements(db: Database.Database) {
  return {
    server: db.prepare('SELECT * FROM servers WHERE server = ?'),
    servers: db.prepare('SELECT * FROM servers ORDER BY server'),
    insertServer: db.prepare('INSERT INTO servers (server, pinned_at, observed_at, observation_count, last_drift) VALUES (?, ?, ?, 1, NULL)'),
    observed: db.prepare('UPDATE servers SET observed_at = ?, observation_count = observation_count + 1 WHERE server = ?'),
    setLastDrift: db.prepare('UPDATE servers SET last_drift = ? WHERE server = ?'),
    setPinnedAt: db.prepare('UPDATE servers SET pinned_at = ? WHERE server = ?'),
    deleteServer: db.prepare('DELETE FROM servers WHERE server = ?'),
    pinsOf: db.prepare('SELECT * FROM pins WHERE server = ? ORDER BY tool'),
    pinOf: db.prepare('SELECT * FROM pins WHERE server = ? AND tool = ?'),
    allPins: db.prepare('SELECT * FROM pins ORDER BY server, tool'),
    upsertPin: db.prepare(`INSERT INTO pins (server, tool, fingerprint, pinned_at, definition) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (server, tool) DO UPDATE SET fingerprint = excluded.fingerprint, pinned_at = excluded.pinned_at, definition = excluded.definition`),
    deletePin: db.prepare('DELETE FROM pins WHERE server = ? AND tool = ?'),
    observationsOf: db.prepare('SELECT * FROM observations WHERE server = ? ORDER BY tool'),
    clearObservations: db.prepare('DELETE FROM observations WHERE server = ?'),
    insertObservation: db.prepare('INSERT INTO observations (server, tool, fingerprint, definition) VALUES (?, ?, ?, ?)'),
    insertEvent: db.prepare(`INSERT INTO events (server, kind, detected_at, changes, approved_by, approved_tools)
      VALUES (?, ?, ?, ?, ?, ?)`),
    // The newest `limit` matching events; `events` returns them oldest first.
    events: db.prepare(`SELECT * FROM events WHERE (@server IS NULL OR server = @server) AND detected_at >= @since
      ORDER BY id DESC LIMIT @limit`),
  };
}

/**
 * Argument names a call sends that the tool's pinned input schema does not declare, as JSON paths (`customer_profile`,
 * `ctx.extra`, `rows[2].note`). The approved schema is taken as a closed world: an object's keys must be among its
 * `properties` (or those of its `allOf`/`anyOf`/`oneOf` branches, or match its `patternProperties`) unless it
 * says `additionalProperties: true` or gives additionalProperties a schema, whatever JSON Schema's open default is.
 * An object schema that names no members at all (no `properties`, no `patternProperties`) is free-form.
 * Declared members that are objects or arrays of objects are checked the same way; local `$ref`s (`#/$defs/...`,
 * `#/definitions/...`) are followed. A member whose schema cannot be read (a remote `$ref`) is not looked into.
 */
export function undeclaredArguments(inputSchema: unknown, args: unknown): string[] {
  const found: string[] = [];
  const root = isRecord(inputSchema) ? inputSchema : {};
  const resolve = (schema: unknown, seen = 0): Record<string, unknown> | undefined => {
    if (!isRecord(schema)) return undefined;
    const ref = schema.$ref;
    if (typeof ref !== 'string') return schema;
    const match = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref);
    if (!match || seen > 16) return undefined;
    const defs = root[match[1]!];
    return isRecord(defs) ? resolve(defs[decodeURIComponent(match[2]!)], seen + 1) : undefined;
  };
  const visit = (schemaValue: unknown, value: unknown, path: string, depth: number): void => {
    const schema = resolve(schemaValue);
    if (schema === undefined || depth > 64) return;
    if (Array.isArray(value)) {
      const items = schema.items;
      if (items !== undefined) value.forEach((element, i) => visit(items, element, `${path}[${i}]`, depth + 1));
      return;
    }
    if (!isRecord(value)) return;
    const branches = [schema, ...(['allOf', 'anyOf', 'oneOf'] as const).flatMap((k) => (Array.isArray(schema[k]) ? (schema[k] as unknown[]).map((b) => resolve(b)) : []))].filter(
      (branch): branch is Record<string, unknown> => branch !== undefined,
    );
    // An object schema that names no members at all (`{"type": "object"}`) is free-form, not empty.
    const freeForm = !branches.some((branch) => branch.properties !== undefined || branch.patternProperties !== undefined);
    const open = freeForm || branches.some((branch) => branch.additionalProperties === true || isRecord(branch.additionalProperties));
    const patterns = branches.flatMap((branch) => (isRecord(branch.patternProperties) ? Object.keys(branch.patternProperties) : [])).flatMap((source) => {
      try {
        return [new RegExp(source, 'u')];
      } catch {
        return [];
      }
    });
    for (const [key, member] of Object.entries(value)) {
      const memberPath = path === '' ? key : `${path}.${key}`;
      const declared = branches.find((branch) => isRecord(branch.properties) && Object.hasOwn(branch.properties, key));
      if (declared !== undefined) visit((declared.properties as Record<string, unknown>)[key], member, memberPath, depth + 1);
      else if (!open && !patterns.some((pattern) => pattern.test(key))) found.push(memberPath);
    }
  };
  visit(root, args, '', 0);
  return found;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class ToolPinStore {
  private readonly statements: ReturnType<typeof prepareStatements>;

  private constructor(
    private readonly db: Database.Database,
    private readonly now: () => number,
  ) {
    this.statements = prepareStatements(db);
  }

  /** `path` is a SQLite file (created with its directory) or ':memory:'. */
  static open(path: string, options: { now?: () => number } = {}): ToolPinStore {
    const db = openDatabase(path);
    try {
      migrate(db, path);
    } catch (error) {
      db.close();
      throw error;
    }
    return new ToolPinStore(db, options.now ?? Date.now);
  }

  /**
   * Compare a fresh tools/list of `server` with its pins. First sight pins everything (firstSeen, not drifted).
   * Otherwise the pins are not changed; a drift event is recorded only when the set of changes differs from the
   * server's last recorded drift, so polling a drifted server does not flood the events. The observed definitions
   * are kept for `approve`. Returning to the pinned set clears the current drift.
   */
  observe(server: string, tools: ToolDefinition[]): DriftReport {
    const observedAt = this.now();
    return this.db.transaction((): DriftReport => {
      const row = this.serverRow(server);
      const observed = this.collect(server, tools, row === undefined ? new Map() : this.pinMap(server));
      if (row === undefined) {
        this.statements.insertServer.run(server, observedAt, observedAt);
        for (const tool of observed.values()) this.writePin(server, tool, observedAt);
        this.writeObservations(server, observed);
        return { server, drifted: false, changes: [], observedAt, pinnedAt: observedAt, firstSeen: true };
      }
      this.statements.observed.run(observedAt, server);
      this.writeObservations(server, observed);
      const changes = diff(this.pinMap(server), observed);
      const signature = changes.length === 0 ? null : canonicalJson(changes);
      if (signature !== null && signature !== row.last_drift) {
        this.statements.insertEvent.run(server, 'drift', observedAt, signature, null, null);
      }
      if (signature !== row.last_drift) this.statements.setLastDrift.run(signature, server);
      return { server, drifted: changes.length > 0, changes, observedAt, pinnedAt: row.pinned_at, firstSeen: false };
    })();
  }

  /** Per-tool view for filtering: the names of tools currently drifted (changed or added) for a server. */
  driftedTools(server: string): Set<string> {
    const report = this.status(server)[0];
    // A removed tool is not listed, so there is nothing of it to filter out.
    return new Set(report?.changes.filter((change) => change.kind !== 'removed').map((change) => change.tool) ?? []);
  }

  /** Current state of one server (empty when never observed) or of all, sorted by server. */
  status(server?: string): DriftReport[] {
    const rows = server === undefined ? (this.statements.servers.all() as ServerRow[]) : [this.serverRow(server)].filter((row) => row !== undefined);
    return rows.map((row) => {
      const changes = diff(this.pinMap(row.server), this.observationMap(row.server));
      return {
        server: row.server,
        drifted: changes.length > 0,
        changes,
        observedAt: row.observed_at,
        pinnedAt: row.pinned_at,
        firstSeen: row.observation_count === 1,
      };
    });
  }

  pins(server?: string): PinnedTool[] {
    const rows = (server === undefined ? this.statements.allPins.all() : this.statements.pinsOf.all(server)) as PinRow[];
    return rows.map((row) => ({ server: row.server, ...storedTool(row), pinnedAt: row.pinned_at }));
  }

  /** The pinned (approved) definition of one tool, or undefined when it has no pin. */
  pinnedDefinition(server: string, tool: string): ToolDefinition | undefined {
    const row = this.statements.pinOf.get(server, tool) as PinRow | undefined;
    return row === undefined ? undefined : storedTool(row).definition;
  }

  /** Events oldest first: those at or after `since` (ms epoch), of one server or all, the newest `limit` of them. */
  events(options: { server?: string; since?: number; limit?: number } = {}): DriftEvent[] {
    const rows = this.statements.events.all({
      server: options.server ?? null,
      since: options.since ?? Number.MIN_SAFE_INTEGER,
      limit: options.limit ?? -1,
    }) as EventRow[];
    return rows.reverse().map((row) => {
      const event: DriftEvent = { id: row.id, server: row.server, kind: row.kind, detectedAt: row.detected_at, changes: JSON.parse(row.changes) as ToolChange[] };
      if (row.approved_by !== null) event.approvedBy = row.approved_by;
      if (row.approved_tools !== null) event.approvedTools = JSON.parse(row.approved_tools) as string[];
      return event;
    });
  }

  /**
   * The operator re-approves: pin the last observed definitions of `server` (all tools, or just `tools`), clearing
   * their drift; approving a removed tool unpins it. Returns the pins of the approved tools as they now stand (a
   * pin whose definition did not change keeps its pinnedAt). Records an 'approved' event.
   */
  approve(server: string, options: { tools?: string[]; by?: string } = {}): PinnedTool[] {
    const approvedAt = this.now();
    return this.db.transaction((): PinnedTool[] => {
      const row = this.serverRow(server);
      if (row === undefined) throw new UnknownServerError(server);
      const pins = this.pinMap(server);
      const observed = this.observationMap(server);
      const selection = options.tools === undefined ? undefined : [...new Set(options.tools)].sort();
      const unknown = selection?.filter((tool) => !pins.has(tool) && !observed.has(tool)) ?? [];
      if (unknown.length > 0) throw new UnknownToolError(server, unknown);
      const approved = new Set(selection ?? [...pins.keys(), ...observed.keys()]);

      const accepted = diff(pins, observed).filter((change) => approved.has(change.tool));
      for (const change of accepted) {
        const tool = observed.get(change.tool);
        if (tool === undefined) this.statements.deletePin.run(server, change.tool);
        else this.writePin(server, tool, approvedAt);
      }
      if (accepted.length > 0) this.statements.setPinnedAt.run(approvedAt, server);
      // What is still drifted was already reported; remember it so that the next poll does not report it again.
      const remaining = diff(this.pinMap(server), observed);
      this.statements.setLastDrift.run(remaining.length === 0 ? null : canonicalJson(remaining), server);
      this.statements.insertEvent.run(server, 'approved', approvedAt, canonicalJson(accepted), options.by ?? null, selection === undefined ? null : JSON.stringify(selection));
      return this.pins(server).filter((pin) => approved.has(pin.tool));
    })();
  }

  /** Forget a server entirely: its pins and observations go (the next tools/list is a first sight); events stay for audit. */
  forget(server: string): void {
    // The pins and observations go with the server row (ON DELETE CASCADE).
    this.statements.deleteServer.run(server);
  }

  close(): void {
    this.db.close();
  }

  private serverRow(server: string): ServerRow | undefined {
    return this.statements.server.get(server) as ServerRow | undefined;
  }

  private pinMap(server: string): Map<string, StoredTool> {
    return new Map((this.statements.pinsOf.all(server) as PinRow[]).map((row) => [row.tool, storedTool(row)]));
  }

  private observationMap(server: string): Map<string, StoredTool> {
    return new Map((this.statements.observationsOf.all(server) as ToolRow[]).map((row) => [row.tool, storedTool(row)]));
  }

  /**
   * The observed tools by name. A list naming one tool twice is ambiguous (a client may use either), so a copy
   * that differs from the pin is the one kept: a poisoned twin cannot hide behind a clean one.
   */
  private collect(server: string, tools: readonly ToolDefinition[], pins: ReadonlyMap<string, StoredTool>): Map<string, StoredTool> {
    if (!Array.isArray(tools)) throw new ToolListError(server, 'tools is not an array');
    const observed = new Map<string, StoredTool>();
    tools.forEach((definition, index) => {
      if (definition === null || typeof definition !== 'object' || typeof definition.name !== 'string' || definition.name === '') {
        throw new ToolListError(server, `tool #${index} has no name`);
      }
      const tool = { tool: definition.name, fingerprint: fingerprintTool(definition), definition };
      const kept = observed.get(tool.tool);
      if (kept === undefined || kept.fingerprint === pins.get(tool.tool)?.fingerprint) observed.set(tool.tool, tool);
    });
    return observed;
  }

  private writePin(server: string, tool: StoredTool, pinnedAt: number): void {
    this.statements.upsertPin.run(server, tool.tool, tool.fingerprint, pinnedAt, canonicalJson(tool.definition));
  }

  private writeObservations(server: string, observed: ReadonlyMap<string, StoredTool>): void {
    this.statements.clearObservations.run(server);
    for (const tool of observed.values()) this.statements.insertObservation.run(server, tool.tool, tool.fingerprint, canonicalJson(tool.definition));
  }
}
