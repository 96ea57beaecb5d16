// The tools an agent offers its model, and what happens when the model calls one. MCP tools come from each
// RemoteMCPServer's tools/list, filtered by the Agent's toolNames, with the description exactly as the server
// sent it: whatever a server says about its tool reaches the model (which is how a rug-pulled description
// steers it). An Agent tool is a hand-off: the model's message goes to the peer agent over A2A, and the peer's
// reply (its final text, and its own tool chain) comes back as the result.
import { Client, SSEClientTransport, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createPooledFetch } from '../../core/http-pool.ts';
import type { Logger } from '../../core/log.ts';
import type { ModelTool } from '../models/types.ts';
import type { McpServerConfig, PeerAgentConfig } from './config.ts';
import { sendA2aMessage, type ChainEntry } from './a2a-client.ts';
import { inSpan, SpanKind, SpanStatusCode, traceHeaders } from '../../core/tracing.ts';

export interface ToolBinding {
  /** As the model sees it. */
  tool: ModelTool;
  kind: 'mcp' | 'agent';
  /** The RemoteMCPServer or the peer agent. */
  server: string;
  /** The tool's name on its server (the model's name differs only when two servers list the same name). */
  remoteName: string;
}

export interface ToolOutcome {
  /** What the model is shown. */
  content: string;
  isError: boolean;
  /** The result as data: the tool's JSON when it answered JSON, else its text. */
  value: unknown;
  /** A hand-off's own tool chain, to show the whole flow in the reply. */
  chain?: ChainEntry[];
}

export interface CallContext {
  contextId: string;
  signal?: AbortSignal;
}

const CLIENT_INFO = { name: 'trustusbank-agent', version: '1.0.0' };
const DEFAULT_TIMEOUT_MS = 30_000;

/** One MCP client per RemoteMCPServer, connected on first use and re-connected after a failure. */
class McpConnection {
  private client: Promise<Client> | undefined;

  constructor(
    readonly config: McpServerConfig,
    private readonly log: Logger,
    private readonly fetch: typeof globalThis.fetch,
  ) {}

  private connect(): Promise<Client> {
    this.client ??= (async () => {
      const client = new Client(CLIENT_INFO);
      const url = new URL(this.config.url);
      const options = { requestInit: { headers: this.config.headers }, fetch: this.fetch };
      const transport = this.config.protocol === 'SSE' ? new SSEClientTransport(url, options) : new StreamableHTTPClientTransport(url, options);
      await client.connect(transport);
      return client;
    })();
    this.client.catch(() => (this.client = undefined));
    return this.client;
  }

  /**
   * Run an operation; a dead session is dropped and the operation tried once more on a new one. A read may be
   * tried again after any connection failure; a tools/call only when the server cannot have run it (it never
   * got the request, or answered that it does not know the session): a tool may move money.
   */
  private async withClient<T>(operation: (client: Client) => Promise<T>, retry: 'read' | 'call' = 'read'): Promise<T> {
    const client = await this.connect();
    try {
      return await operation(client);
    } catch (error) {
      if (!(retry === 'read' ? isConnectionFailure(error) : wasNotRun(error))) throw error;
      this.log.warn('MCP connection failed; reconnecting', { server: this.config.name, error: (error as Error).message });
      await this.reset();
      return operation(await this.connect());
    }
  }

  async listTools(): Promise<ModelTool[]> {
    const timeout = this.config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return this.withClient(async (client) => {
      const tools: ModelTool[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor ? { cursor } : {}, { timeout });
        for (const tool of page.tools) tools.push({ name: tool.name, description: tool.description ?? '', inputSchema: tool.inputSchema as Record<string, unknown> });
        cursor = page.nextCursor;
      } while (cursor);
      return tools;
    });
  }

  async callTool(name: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<ToolOutcome> {
    const timeout = this.config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const result = await this.withClient((client) => client.callTool({ name, arguments: args }, { timeout, ...(signal ? { signal } : {}) }), 'call');
    const text = (result.content as Array<{ type: string; text?: string }> | undefined)?.filter((c) => c.type === 'text').map((c) => c.text ?? '').join('\n') ?? '';
    const structured = (result as { structuredContent?: unknown }).structuredContent;
    const content = text !== '' ? text : structured !== undefined ? JSON.stringify(structured) : '';
    return { content, isError: result.isError === true, value: structured ?? parseJson(content) };
  }

  async reset(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.then((c) => c.close()).catch(() => undefined);
  }
}

/** HTTP-level failures that a new session may cure (the server restarted, the connection was reset). */
function isConnectionFailure(error: unknown): boolean {
  const message = (error as Error)?.message ?? '';
  return /fetch failed|ECONNRESET|ECONNREFUSED|socket hang up|session not found|404|terminated/i.test(message);
}

/** Failures that prove the request was not run: nothing was connected, or the server did not know the session. */
function wasNotRun(error: unknown): boolean {
  const message = (error as Error)?.message ?? '';
  return /ECONNREFUSED|session not found|\b404\b/i.test(message);
}

export class Toolbox {
  private readonly connections: McpConnection[];
  // Keep-alive connections that are never handed out as their server closes them (see core/http-pool.ts):
  // fetch's own pool would, after a pause as long as a server's keep-alive timeout.
  private readonly fetch: typeof globalThis.fetch & { close(): void };

  constructor(
    mcpServers: McpServerConfig[],
    private readonly agents: PeerAgentConfig[],
    private readonly log: Logger,
    private readonly self: { name: string; namespace: string },
  ) {
    this.fetch = withTraceContext(createPooledFetch());
    this.connections = mcpServers.map((server) => new McpConnection(server, log, this.fetch));
  }

  /**
   * The catalogue for one task, listed fresh (a server's tools can change between tasks, and the model must see
   * what the server says now). A server that cannot be listed is left out and reported in `problems`; the
   * agent still answers with the rest.
   */
  async catalogue(): Promise<{ bindings: ToolBinding[]; problems: string[] }> {
    const problems: string[] = [];
    const listed = await Promise.all(
      this.connections.map(async (connection) => {
        try {
          return { connection, tools: await connection.listTools() };
        } catch (error) {
          const message = `MCP server ${connection.config.name} could not be listed: ${(error as Error).message}`;
          this.log.warn('tools/list failed', { server: connection.config.name, error: (error as Error).message });
          problems.push(message);
          return { connection, tools: [] as ModelTool[] };
        }
      }),
    );
    const bindings: ToolBinding[] = [];
    const taken = new Set<string>();
    for (const { connection, tools } of listed) {
      const wanted = connection.config.toolNames;
      for (const tool of tools) {
        if (wanted && !wanted.includes(tool.name)) continue;
        // Two servers may list the same name; the second is offered under its server's prefix.
        const name = taken.has(tool.name) ? `${connection.config.name}_${tool.name}`.slice(0, 64) : tool.name;
        taken.add(name);
        bindings.push({ tool: { ...tool, name }, kind: 'mcp', server: connection.config.name, remoteName: tool.name });
      }
    }
    for (const peer of this.agents) {
      const name = handOffToolName(peer, this.self.namespace);
      taken.add(name);
      bindings.push({
        tool: {
          name,
          description: `Hand off to the ${peer.name} agent: ${peer.description || 'another agent'}. Send it a message saying what you need; it answers with its findings.`,
          inputSchema: { type: 'object', properties: { message: { type: 'string', description: `What to ask ${peer.name}` } }, required: ['message'] },
        },
        kind: 'agent',
        server: peer.name,
        remoteName: peer.name,
      });
    }
    return { bindings, problems };
  }

  /**
   * Call a tool. Failures become error results for the model to read, never exceptions. One span per call
   * (GenAI's `execute_tool`, or `invoke_agent` for a hand-off) with the tool and server, never the arguments.
   */
  call(binding: ToolBinding, args: Record<string, unknown>, context: CallContext): Promise<ToolOutcome> {
    const handOff = binding.kind === 'agent';
    const attributes = handOff
      ? { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': binding.server, 'gen_ai.tool.name': binding.tool.name }
      : { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': binding.remoteName, 'mcp.server': binding.server };
    return inSpan(this.self.name, handOff ? `invoke_agent ${binding.server}` : `execute_tool ${binding.remoteName}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
      const outcome = await this.callUntraced(binding, args, context);
      if (outcome.isError) span.setStatus({ code: SpanStatusCode.ERROR, message: 'the tool answered an error' });
      return outcome;
    });
  }

  private async callUntraced(binding: ToolBinding, args: Record<string, unknown>, context: CallContext): Promise<ToolOutcome> {
    try {
      if (binding.kind === 'agent') {
        const peer = this.agents.find((a) => a.name === binding.server)!;
        const message = typeof args.message === 'string' ? args.message : JSON.stringify(args);
        const reply = await sendA2aMessage(peer.url, message, { fetch: this.fetch, ...(context.signal ? { signal: context.signal } : {}) });
        return { content: reply.text, isError: reply.failed, value: reply.text, chain: reply.chain };
      }
      const connection = this.connections.find((c) => c.config.name === binding.server)!;
      return await connection.callTool(binding.remoteName, args, context.signal);
    } catch (error) {
      const message = (error as Error).message;
      this.log.warn('tool call failed', { tool: binding.tool.name, server: binding.server, error: message });
      return { content: JSON.stringify({ error: message }), isError: true, value: { error: message } };
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.reset()));
    this.fetch.close();
  }
}

/** Every request carries the active trace context (the task's), so the gateway and peers continue its trace. */
function withTraceContext<F extends typeof globalThis.fetch & { close(): void }>(fetch: F): F {
  const traced = (input: Parameters<typeof globalThis.fetch>[0], init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    for (const [name, value] of Object.entries(traceHeaders())) headers.set(name, value);
    return fetch(input, { ...init, headers });
  };
  return Object.assign(traced, { close: () => fetch.close() }) as F;
}

/** A peer agent as a tool name: its name, qualified by namespace when it lives elsewhere (names allow [A-Za-z0-9_-]). */
export function handOffToolName(peer: { name: string; namespace: string }, ownNamespace: string): string {
  const name = peer.namespace === ownNamespace ? peer.name : `${peer.namespace}__${peer.name}`;
  return name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
