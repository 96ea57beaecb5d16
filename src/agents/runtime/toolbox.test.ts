// The toolbox's retry policy: a read may be sent again after a connection failure, a tools/call only when the
// server cannot have run it. A minimal Streamable HTTP MCP server counts what it ran.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/log.ts';
import { Toolbox, type ToolBinding } from './toolbox.ts';

type Behaviour = (call: number, req: IncomingMessage, res: ServerResponse) => boolean;

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** An MCP server with one tool; `onCall` may take over a tools/call (return true) instead of answering it. */
async function fakeMcp(onCall: Behaviour): Promise<{ url: string; ran: () => number; sessions: () => number }> {
  let ran = 0;
  let calls = 0;
  let sessions = 0;
  const server = createServer((req, res) => {
    if (req.method !== 'POST') return void res.writeHead(405).end();
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk));
    req.on('end', () => {
      const message = JSON.parse(body) as { id?: number; method: string; params?: { protocolVersion?: string } };
      const answer = (result: unknown, headers: Record<string, string> = {}) => res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result }));
      if (message.method === 'initialize') {
        sessions++;
        return answer({ protocolVersion: message.params?.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'fake', version: '1' } }, { 'mcp-session-id': `s${sessions}` });
      }
      if (message.id === undefined) return void res.writeHead(202).end();
      if (message.method === 'tools/call') {
        if (onCall(++calls, req, res)) return;
        ran++;
        return answer({ content: [{ type: 'text', text: 'done' }] });
      }
      return answer({});
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/mcp`, ran: () => ran, sessions: () => sessions };
}

const binding: ToolBinding = { tool: { name: 'pay', description: '', inputSchema: { type: 'object' } }, kind: 'mcp', server: 'bank', remoteName: 'pay' };
const toolbox = (url: string) => new Toolbox([{ name: 'bank', url, protocol: 'STREAMABLE_HTTP', headers: {} }], [], createLogger('test', { write: () => undefined }), { name: 'agent', namespace: 'bank' });

describe('the toolbox calling a tool', () => {
  it('does not send a tools/call again when the connection dies after the server got it', async () => {
    const server = await fakeMcp((call, _req, res) => {
      if (call > 1) return false;
      res.socket?.destroy();
      return true;
    });
    const tools = toolbox(server.url);
    const outcome = await tools.call(binding, {}, { contextId: 'c' });
    await tools.close();
    expect(outcome.isError).toBe(true);
    expect(server.ran()).toBe(0);
  });

  it('sends it again on a new session when the server did not know the session (it ran nothing)', async () => {
    const server = await fakeMcp((call, _req, res) => {
      if (call > 1) return false;
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
      return true;
    });
    const tools = toolbox(server.url);
    const outcome = await tools.call(binding, {}, { contextId: 'c' });
    await tools.close();
    expect(outcome).toMatchObject({ isError: false, content: 'done' });
    expect(server.ran()).toBe(1);
    expect(server.sessions()).toBe(2);
  });
});
