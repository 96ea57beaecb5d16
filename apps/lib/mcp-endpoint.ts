// One MCP endpoint serving both protocol revisions in use, from one server factory:
// - 2026-07-28 (per-request `_meta` envelope, stateless, Mcp-Method/Mcp-Name headers): the SDK's strict
//   modern handler answers it.
// - 2025-11-25 (initialize handshake, Mcp-Session-Id): a session per initialize, kept until DELETE or
//   until it idles out. The SDK's own classifier decides which leg a request belongs to, so the two can
//   never disagree about a request.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import {
  WebStandardStreamableHTTPServerTransport,
  createMcpHandler,
  isInitializeRequest,
  isLegacyRequest,
  type McpServer,
} from '@modelcontextprotocol/server';
import { checkRebinding, rebindingErrorBody, type RebindingPolicy } from '../../src/core/dns-rebinding.ts';
import type { Logger } from '../../src/core/log.ts';
import { DEFAULT_SESSION_LIMITS, SessionTable, type SessionLimits } from '../../src/core/session-table.ts';

export interface McpEndpoint {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Open 2025-11-25 sessions. */
  sessionCount(): number;
  close(): Promise<void>;
}

export interface McpEndpointOptions {
  log: Logger;
  /** 2025-11-25 sessions: how many, and how long one may idle before it is closed. */
  sessionLimits?: Partial<SessionLimits>;
  now?: () => number;
  /** DNS-rebinding protection (Origin and Host); loopback and cluster names only when absent. */
  rebinding?: RebindingPolicy;
}

interface LegacySession {
  id: string;
  /** One caller for all: a workload does not know who calls it, so the per-caller bound is the whole table. */
  caller: '';
  transport: WebStandardStreamableHTTPServerTransport;
  server: McpServer;
  lastUsed: number;
}

export function createMcpEndpoint(factory: () => McpServer, options: McpEndpointOptions): McpEndpoint {
  const { log } = options;
  const limits = { ...DEFAULT_SESSION_LIMITS, maxPerCaller: Infinity, ...options.sessionLimits };
  const onerror = (error: Error): void => log.warn('mcp request rejected', { error: error.message });
  const modern = createMcpHandler(() => factory(), { legacy: 'reject', onerror });
  const sessions = new SessionTable<LegacySession>(limits, options.now);

  const closeSession = async (session: LegacySession): Promise<void> => {
    sessions.delete(session.id);
    await session.transport.close();
    await session.server.close();
  };

  const sweep = setInterval(() => {
    for (const session of sessions.expire()) {
      log.info('mcp session expired', { session: session.id });
      void closeSession(session);
    }
  }, Math.min(limits.idleMs, 60_000));
  sweep.unref();

  const serveLegacy = async (request: Request): Promise<Response> => {
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId !== null) {
      const session = sessions.get(sessionId);
      if (!session) return jsonRpcError(404, -32001, 'Session not found');
      sessions.touch(session);
      return session.transport.handleRequest(request);
    }
    if (request.method !== 'POST') return jsonRpcError(400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    let body: unknown;
    try {
      body = await request.clone().json();
    } catch {
      return jsonRpcError(400, -32700, 'Parse error: the request body is not valid JSON');
    }
    // Only an initialize opens a session; anything else without one is refused before any state is made.
    if (!isInitializeRequest(body)) return jsonRpcError(400, -32000, 'Bad Request: Server not initialized');
    const full = sessions.refusal('');
    if (full) return jsonRpcError(503, -32000, `Service unavailable: ${full}`);
    const server = factory();
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (id) => {
        const admitted = sessions.add({ id, caller: '', transport, server, lastUsed: 0 });
        for (const evicted of admitted.evicted) void closeSession(evicted);
        // Only when another initialize took the last room since the check above: the client's next request gets 404.
        if (!admitted.ok) void Promise.all([transport.close(), server.close()]);
      },
      onsessionclosed: (id) => {
        sessions.delete(id);
      },
    });
    await server.connect(transport);
    return transport.handleRequest(request);
  };

  const rebinding = options.rebinding ?? { allowedOrigins: [], allowedHosts: [] };
  const nodeHandler = toNodeHandler({
    fetch: async (request: Request) => {
      // Before anything reads the body or touches a session: a rebound page learns nothing, not even whether a session exists.
      const verdict = checkRebinding({ origin: request.headers.get('origin') ?? undefined, host: request.headers.get('host') ?? undefined }, rebinding);
      if (!verdict.ok) {
        log.warn('mcp request refused', { header: verdict.header, error: verdict.message });
        return Response.json(rebindingErrorBody(verdict), { status: 403 });
      }
      return (await isLegacyRequest(request)) ? serveLegacy(request) : modern.fetch(request);
    },
  });

  return {
    handle: (req, res) => nodeHandler(req, res),
    sessionCount: () => sessions.size,
    close: async () => {
      clearInterval(sweep);
      await Promise.all(sessions.values().map(closeSession));
      await modern.close();
    },
  };
}

function jsonRpcError(status: number, code: number, message: string): Response {
  return Response.json({ jsonrpc: '2.0', error: { code, message }, id: null }, { status });
}
