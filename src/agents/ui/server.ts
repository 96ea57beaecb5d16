// The agents UI: every agent's sessions, read straight from the agents' own files (read-only, while the pods
// write them). A plain Node request handler; the `up` process mounts it on the agents UI port.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorMessage } from '../../core/errors.ts';
import { sendHtml } from '../../core/html.ts';
import { sendJson } from '../../core/http.ts';
import { silentLogger, type Logger } from '../../core/log.ts';
import { requestTarget } from '../../core/request-guard.ts';
import { SessionReader, type SessionDetail } from '../sessions.ts';
import { renderError, renderNotFound, renderSessionList, renderSessionPage, type AgentRef, type AgentStatus, type ListedSession } from './page.ts';

/** An agent's session file: `<data-dir>/volumes/<namespace>/<agent>/sessions.db`. */
export interface SessionSource extends AgentRef {
  file: string;
}

export interface AgentsUiOptions {
  /** Asked on every request, so agents that come and go show up without a restart. */
  sources: () => SessionSource[];
  /** Sessions read per agent for the list (newest first). Default 200. */
  limitPerAgent?: number;
  log?: Logger;
}

export interface AgentsUi {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Close every file the UI has open. */
  close(): void;
}

export interface SessionListing {
  sessions: ListedSession[];
  agents: AgentStatus[];
}


export function createAgentsUi(options: AgentsUiOptions): AgentsUi {
  const limitPerAgent = options.limitPerAgent ?? 200;
  const log = options.log ?? silentLogger;
  const readers = new Map<string, SessionReader>();

  const readerFor = (file: string): SessionReader => {
    let reader = readers.get(file);
    if (!reader) {
      reader = SessionReader.open(file);
      readers.set(file, reader);
    }
    return reader;
  };

  /** Run a read against one agent's file; a failure closes and forgets the reader so the next try reopens. */
  const read = <T>(source: SessionSource, fn: (reader: SessionReader) => T): { ok: true; value: T } | { ok: false; error: string } => {
    try {
      return { ok: true, value: fn(readerFor(source.file)) };
    } catch (error) {
      readers.get(source.file)?.close();
      readers.delete(source.file);
      log.warn('agent sessions unreadable', { namespace: source.namespace, agent: source.agent, file: source.file, error });
      return { ok: false, error: errorMessage(error) };
    }
  };

  const listing = (): SessionListing => {
    const sources = options.sources();
    // Agents that went away: release their files.
    const live = new Set(sources.map((source) => source.file));
    for (const [file, reader] of readers) {
      if (!live.has(file)) {
        reader.close();
        readers.delete(file);
      }
    }
    const sessions: ListedSession[] = [];
    const agents: AgentStatus[] = [];
    for (const source of sources) {
      const outcome = read(source, (reader) => reader.listSessions({ limit: limitPerAgent }));
      if (!outcome.ok) {
        agents.push({ namespace: source.namespace, agent: source.agent, sessionCount: 0, error: outcome.error });
        continue;
      }
      agents.push({ namespace: source.namespace, agent: source.agent, sessionCount: outcome.value.length });
      // The source names where the file is, which is the address of the session's page.
      for (const summary of outcome.value) sessions.push({ ...summary, namespace: source.namespace, agent: source.agent });
    }
    sessions.sort((a, b) => compareDesc(a.updatedAt, b.updatedAt) || compareDesc(a.createdAt, b.createdAt) || compareAsc(a.agent, b.agent));
    return { sessions, agents };
  };

  type Lookup = { status: 200; ref: AgentRef; session: SessionDetail } | { status: 404 | 500; error: string };

  const lookup = (namespace: string, agent: string, id: string): Lookup => {
    const source = options.sources().find((s) => s.namespace === namespace && s.agent === agent);
    if (!source) return { status: 404, error: `no agent ${agent} in namespace ${namespace}` };
    const outcome = read(source, (reader) => reader.getSession(id));
    if (!outcome.ok) return { status: 500, error: `could not read the sessions of ${agent} in ${namespace}: ${outcome.error}` };
    if (!outcome.value) return { status: 404, error: `no session ${id} for agent ${agent} in namespace ${namespace}` };
    return { status: 200, ref: { namespace: source.namespace, agent: source.agent }, session: outcome.value };
  };

  const route = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'GET') {
      sendJson(res, 405, { error: `method ${req.method ?? ''} not allowed; the agents UI is read-only` }, { allow: 'GET' });
      return;
    }
    const path = requestTarget(req).pathname;
    if (path === '/healthz') {
      sendJson(res, 200, { status: 'ok' });
      return;
    }
    if (path === '/') {
      sendHtml(res, 200, renderSessionList(listing()));
      return;
    }
    if (path === '/api/sessions') {
      sendJson(res, 200, listing());
      return;
    }
    const api = matchSessionPath(path, '/api/sessions/');
    if (api) {
      const found = lookup(api.namespace, api.agent, api.id);
      if (found.status === 200) sendJson(res, 200, found.session);
      else sendJson(res, found.status, { error: found.error });
      return;
    }
    const page = matchSessionPath(path, '/sessions/');
    if (page) {
      const found = lookup(page.namespace, page.agent, page.id);
      if (found.status === 200) sendHtml(res, 200, renderSessionPage({ ...found.ref, session: found.session }));
      else sendHtml(res, found.status, found.status === 404 ? renderNotFound(found.error) : renderError(found.error));
      return;
    }
    if (path.startsWith('/api/')) sendJson(res, 404, { error: `no such path: ${path}` });
    else sendHtml(res, 404, renderNotFound(`no such page: ${path}`));
  };

  return {
    handle: (req, res) => {
      try {
        route(req, res);
      } catch (error) {
        log.error('agents UI request failed', { path: req.url, error });
        if (!res.headersSent) sendJson(res, 500, { error: errorMessage(error) });
        else res.destroy();
      }
    },
    close: () => {
      for (const reader of readers.values()) reader.close();
      readers.clear();
    },
  };
}

/** `<prefix><namespace>/<agent>/<id>`, each segment percent-decoded; undefined when the path is not that. */
function matchSessionPath(path: string, prefix: string): { namespace: string; agent: string; id: string } | undefined {
  if (!path.startsWith(prefix)) return undefined;
  const parts = path.slice(prefix.length).split('/');
  if (parts.length !== 3 || parts.some((part) => part === '')) return undefined;
  try {
    const [namespace, agent, id] = parts.map((part) => decodeURIComponent(part)) as [string, string, string];
    return { namespace, agent, id };
  } catch {
    return undefined; // malformed percent-encoding
  }
}


function compareDesc(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}

function compareAsc(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
