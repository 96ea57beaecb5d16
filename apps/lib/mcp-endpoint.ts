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

export interface McpEndpoint {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Open 2025-11-25 sessions. */
  sessionCount(): number;
  close(): Promise<void>;
}

export interface McpEndpointOptions {
  log: Logger;
  /** A 2025-11-25 session unused for this long is closed. */
  idleSessionMs?: number;
  now?: () => number;
  /** DNS-rebinding protection (Origin and Host); loopback and cluster names only when absent. */
  rebinding?: RebindingPolicy;
}

interface LegacySession {
  transport: WebStandardStreamableHTTPServerTransport;
  server: McpServer;
  lastUsed: number;
}

export function createMcpEndpoint(factory: () => McpServer, options: McpEndpointOptions): McpEndpoint {
  const { log } = options;
  const idleSessionMs = options.idleSessionMs ?? 30 * 60_000;
  const now = options.now ?? Date.now;
  const onerror = (error: Error): void => log.warn('mcp request rejected', { error: error.message });
  const modern = createMcpHandler(() => factory(), { legacy: 'reject', onerror });
  const sessions = new Map<string, LegacySession>();

  const closeSession = async (id: string): Promise<void> => {
    const session = sessions.get(id);
    if (!session) return;
    sessions.delete(id);
    await session.transport.close();
    await session.server.close();
  };

  const sweep = setInterval(() => {
    const cutoff = now() - idleSessionMs;
    for (const [id, session] of sessions) {
      if (session.lastUsed < cutoff) {
        log.info('mcp session expired', { session: id });
        void closeSession(id);
      }
    }
  }, Math.min(idleSessionMs, 60_000));
  sweep.unref();

  const serveLegacy = async (request: Request): Promise<Response> => {
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId !== null) {
      const session = sessions.get(sessionId);
      if (!session) return jsonRpcError(404, -32001, 'Session not found');
      session.lastUsed = now();
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
    const server = factory();
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, server, lastUsed: now() });
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
      await Promise.all([...sessions.keys()].map(closeSession));
      await modern.close();
    },
  };
}

function jsonRpcError(status: number, code: number, message: string): Response {
  return Response.json({ jsonrpc: '2.0', error: { code, message }, id: null }, { status });
}
