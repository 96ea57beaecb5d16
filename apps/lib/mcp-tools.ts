// Tools as data: each tool is a name, a schema and a function from arguments to a JSON outcome. This module
// turns a list of them into an MCP server factory, with one log line and one counter increment per call.
// The arguments themselves are never logged: in a bank they are customer data.
import { McpServer, type CallToolResult, type ToolAnnotations } from '@modelcontextprotocol/server';
import { Counter, type Registry } from 'prom-client';
import type { z } from 'zod';
import type { Logger } from '../../src/core/log.ts';
import { inSpan } from '../../src/core/tracing.ts';

export type JsonObject = Record<string, unknown>;

/** What a tool returns: a JSON object, marked as an error when the call could not do what was asked. */
export interface ToolOutcome {
  value: JsonObject;
  isError: boolean;
}

export const ok = (value: JsonObject): ToolOutcome => ({ value, isError: false });
export const failed = (value: JsonObject): ToolOutcome => ({ value, isError: true });

export interface ToolSpec<Schema extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  inputSchema: Schema;
  annotations?: ToolAnnotations;
  run(args: z.infer<Schema>): ToolOutcome | Promise<ToolOutcome>;
}

/** Identity function that lets TypeScript infer a tool's argument type from its schema. */
export function defineTool<Schema extends z.ZodObject>(spec: ToolSpec<Schema>): ToolSpec<Schema> {
  return spec;
}

export interface ServerInfo {
  name: string;
  version: string;
  instructions?: string;
}

export interface ToolInstrumentation {
  log: Logger;
  metrics: Registry;
}

export function createToolServerFactory(info: ServerInfo, tools: ToolSpec[], instrumentation: ToolInstrumentation): () => McpServer {
  const { log, metrics } = instrumentation;
  const calls = new Counter({
    name: 'mcp_tool_calls_total',
    help: 'MCP tools/call requests served, by tool and outcome (ok, error, exception).',
    labelNames: ['tool', 'outcome'],
    registers: [metrics],
  });

  const invoke = async (tool: ToolSpec, args: unknown): Promise<CallToolResult> => {
    const started = performance.now();
    let outcome: ToolOutcome;
    let label: 'ok' | 'error' | 'exception';
    try {
      // The tool's name, never its arguments (customer data), on the span of the request it serves.
      outcome = await inSpan(info.name, `execute_tool ${tool.name}`, { attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': tool.name } }, async () => tool.run(args as z.infer<typeof tool.inputSchema>));
      label = outcome.isError ? 'error' : 'ok';
    } catch (error) {
      log.error('tool failed', { tool: tool.name, error });
      outcome = failed({ error: 'internal error' });
      label = 'exception';
    }
    calls.inc({ tool: tool.name, outcome: label });
    log.info('tool call', { tool: tool.name, outcome: label, duration_ms: round(performance.now() - started) });
    return {
      content: [{ type: 'text', text: JSON.stringify(outcome.value) }],
      structuredContent: outcome.value,
      ...(outcome.isError ? { isError: true } : {}),
    };
  };

  return () => {
    const server = new McpServer(
      { name: info.name, version: info.version },
      info.instructions ? { instructions: info.instructions } : {},
    );
    for (const tool of tools) {
      server.registerTool(
        tool.name,
        { title: tool.title, description: tool.description, inputSchema: tool.inputSchema, ...(tool.annotations ? { annotations: tool.annotations } : {}) },
        (args: unknown) => invoke(tool, args),
      );
    }
    return server;
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
