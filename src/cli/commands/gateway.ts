// `trustusbank gateway tools|approve`: the agent gateway's tool pinning as an operator sees it — the
// fingerprints it pinned per MCP server, the drift since, and re-approval of a server's current tools.
import { UsageError } from '../../core/errors.ts';
import { dataDirHelp, printJson, stackCommand } from '../stack-command.ts';
import { formatTable } from '../table.ts';
import type { ApproveBodyInput } from '../../control-plane/admin-schemas.ts';

const usage = `Usage: trustusbank gateway tools [--server SERVER] [--json] [--data-dir DIR]
       trustusbank gateway approve SERVER [--tool NAME]... [--data-dir DIR]

tools:    for every MCP server the agent gateway has seen (SERVER is host:port/path, as listed), whether
          its tools still match the fingerprints pinned when the gateway first saw them, what changed
          (a changed description or input schema, an added or a removed tool), and the drift events.
approve:  accept the server's current tools as the new pins (all, or only the --tool ones), clearing
          their drift. Recorded as an approval event.

Options:
  --server SERVER  only this server
  --tool NAME      approve only this tool (repeatable)
  --json           print JSON
${dataDirHelp()}
  -h, --help       show this help`;

interface ToolsAnswer {
  gateways: {
    gateway: string;
    servers: { server: string; drifted: boolean; changes: { tool: string; kind: string; fields?: string[] }[]; pinnedAt: number; observedAt: number }[];
    pins: { server: string; tool: string; fingerprint: string; pinnedAt: number }[];
    events: { server: string; kind: string; detectedAt: number; changes: { tool: string; kind: string }[] }[];
  }[];
}

export const gatewayCommand = stackCommand({
  name: 'gateway',
  summary: 'tool pinning: pinned MCP tools, drift, re-approval',
  usage,
  options: { server: { type: 'string' }, tool: { type: 'string', multiple: true }, json: { type: 'boolean' } },
  maxPositionals: Infinity,
  async run({ values, positionals, stack }) {
    const [action, ...rest] = positionals;
    if (action === 'tools') {
      if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`, usage);
      const answer = await stack().call<ToolsAnswer>('GET', `/gateway/tools${values.server ? `?server=${encodeURIComponent(values.server)}` : ''}`);
      if (values.json) {
        printJson(answer);
        return 0;
      }
      // Waypoints that carry no MCP (the agents' own) would only add empty sections.
      const seen = answer.gateways.filter((g) => g.servers.length > 0);
      if (seen.length === 0) console.log('No agent gateway has seen an MCP server yet.');
      for (const gateway of seen) {
        console.log(`Gateway ${gateway.gateway}`);
        const rows = gateway.pins.map((pin) => {
          const report = gateway.servers.find((s) => s.server === pin.server);
          const change = report?.changes.find((c) => c.tool === pin.tool);
          return [pin.server, pin.tool, pin.fingerprint.slice(0, 16), change ? `DRIFT: ${change.kind}${change.fields ? ` (${change.fields.join(', ')})` : ''}` : 'pinned'];
        });
        for (const report of gateway.servers) for (const change of report.changes.filter((c) => c.kind === 'added')) rows.push([report.server, change.tool, '-', 'DRIFT: added']);
        console.log(formatTable(['SERVER', 'TOOL', 'PINNED FINGERPRINT', 'STATE'], rows));
        const drifted = gateway.servers.filter((s) => s.drifted).map((s) => s.server);
        if (drifted.length > 0) console.log(`\n  Drifted: ${drifted.join(', ')}. Review, then \`trustusbank gateway approve <server>\` to re-pin.`);
      }
      return 0;
    }
    if (action === 'approve') {
      const [server, ...extra] = rest;
      if (server === undefined) throw new UsageError('which server? (see `trustusbank gateway tools`)', usage);
      if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, usage);
      const tools = values.tool as string[] | undefined;
      const answer = await stack().call<{ approved: { gateway: string; pinned: { tool: string; fingerprint: string }[] }[] }>('POST', '/gateway/approve', { server, ...(tools ? { tools } : {}), by: process.env.USER ?? 'operator' } satisfies ApproveBodyInput);
      for (const { gateway, pinned } of answer.approved) console.log(`${gateway}: pinned ${pinned.map((p) => `${p.tool} (${p.fingerprint.slice(0, 16)})`).join(', ') || 'nothing'}`);
      return 0;
    }
    throw new UsageError(action === undefined ? 'tools or approve?' : `expected tools or approve, got "${action}"`, usage);
  },
});
