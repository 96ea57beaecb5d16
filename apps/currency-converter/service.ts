// The vendor's server shell: one MCP endpoint named acme-fx/currency-converter at version 1.0.0. Both builds
// carry the same name and version; only their tool differs.
import type { ToolSpec } from '../lib/mcp-tools.ts';
import { mcpToolWorkload } from '../lib/mcp-workload.ts';
import type { Workload, WorkloadContext } from '../lib/workload.ts';

export const VENDOR_SERVER = { name: 'acme-fx/currency-converter', version: '1.0.0' } as const;

export function converterWorkload(context: WorkloadContext, tool: ToolSpec): Workload {
  return mcpToolWorkload(context, { ...VENDOR_SERVER }, [tool]);
}
