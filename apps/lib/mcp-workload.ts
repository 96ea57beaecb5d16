// A workload whose whole job is one MCP endpoint at /mcp (the bank's tool servers and the vendor's).
import type { McpServer } from '@modelcontextprotocol/server';
import { rebindingPolicyFromEnv } from '../../src/core/dns-rebinding.ts';
import { requestTarget } from '../../src/core/request-guard.ts';
import { createMcpEndpoint } from './mcp-endpoint.ts';
import { createToolServerFactory, type ServerInfo, type ToolSpec } from './mcp-tools.ts';
import type { Workload, WorkloadContext } from './workload.ts';

export const MCP_PATH = '/mcp';

export function mcpToolWorkload(context: WorkloadContext, info: ServerInfo, tools: ToolSpec[], onClose?: () => void): Workload {
  const factory: () => McpServer = createToolServerFactory(info, tools, context);
  // MCP_ALLOWED_ORIGINS / MCP_ALLOWED_HOSTS widen the DNS-rebinding allow-lists (README, "DNS-rebinding protection").
  const endpoint = createMcpEndpoint(factory, { log: context.log, rebinding: rebindingPolicyFromEnv(context.env, 'MCP_') });
  return {
    handle: async (req, res) => {
      if (requestTarget(req).pathname !== MCP_PATH) return false;
      await endpoint.handle(req, res);
      return true;
    },
    health: () => ({ mcp_sessions: endpoint.sessionCount() }),
    errorShape: 'jsonrpc',
    close: async () => {
      await endpoint.close();
      onClose?.();
    },
  };
}
