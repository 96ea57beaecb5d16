// tools/call latency of the bank's MCP servers at both revisions, against a bare HTTP JSON round trip on the
// same loopback (the floor any HTTP-based protocol pays). This is the number the gateway's overhead will be
// measured against later.
import { createServer } from 'node:http';
import { accountMcp } from '../apps/account-mcp/server.ts';
import { listen, closeServer } from '../src/core/http.ts';
import { callTool, connectClient, startTestWorkload } from '../testing/workloads.ts';
import { report, time } from './stats.ts';

export async function run(): Promise<void> {
  const bare = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"account_id":"12345","balance":4287.55,"currency":"GBP"}');
    });
  });
  const bareUrl = (await listen(bare, { host: '127.0.0.1', port: 0, portHint: '' })).url;
  const workload = await startTestWorkload('account-mcp', accountMcp);
  const legacy = await connectClient(workload.url, '2025-11-25');
  const modern = await connectClient(workload.url, '2026-07-28');
  try {
    const options = { n: 2000, warmup: 50, maxMs: 15_000 };
    const baseline = await time(
      'bare HTTP JSON POST (baseline)',
      async () => {
        const response = await fetch(bareUrl, { method: 'POST', body: '{"account_id":"12345"}', headers: { 'content-type': 'application/json' } });
        await response.json();
      },
      options,
    );
    const sessionful = await time('MCP 2025-11-25 tools/call get_balance', () => callTool(legacy, 'get_balance', { account_id: '12345' }), options);
    const stateless = await time('MCP 2026-07-28 tools/call get_balance', () => callTool(modern, 'get_balance', { account_id: '12345' }), options);
    report('MCP tools/call through the official client, loopback', baseline, [sessionful, stateless]);
  } finally {
    await legacy.close();
    await modern.close();
    await workload.close();
    await closeServer(bare);
  }
}
