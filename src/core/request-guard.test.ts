// The attack: one request whose target `new URL()` cannot parse (`//%5B`, `//x:99999`) used to end the
// process that served it. The clean path: ordinary targets reach the handler as before, parsed as paths.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closeServer, listen, readBody } from './http.ts';
import { BadRequestTargetError, createGuardedServer, parseRequestTarget, readJsonBody, refuseBody, requestTarget, type ErrorShape } from './request-guard.ts';

describe('parseRequestTarget', () => {
  it.each([
    ['/', '/', ''],
    ['/api/entries?x=1', '/api/entries', '?x=1'],
    ['//%5B', '//%5B', ''],
    ['//x:99999', '//x:99999', ''],
    ['//evil.example/steal', '//evil.example/steal', ''],
    ['/a/../b', '/b', ''],
    ['/%zz?q=%zz', '/%zz', '?q=%zz'],
  ])('%s is the path %s', (raw, pathname, search) => {
    const url = parseRequestTarget(raw);
    expect(url).toBeInstanceOf(URL);
    expect((url as URL).pathname).toBe(pathname);
    expect((url as URL).search).toBe(search);
  });

  it.each([
    ['*', /asterisk-form/],
    ['http://evil.example/x', /absolute-form/],
    ['x', /must be a path/],
    ['', /must be a path/],
    [undefined, /must be a path/],
  ])('%s is refused', (raw, reason) => {
    const outcome = parseRequestTarget(raw);
    expect(outcome).toBeInstanceOf(BadRequestTargetError);
    expect((outcome as BadRequestTargetError).message).toMatch(reason);
  });
});

/** Send raw bytes and read the whole answer (the guard closes after an error). */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.end(bytes);
  });
}

function parse(answer: string): { status: number; headers: string; body: string } {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), headers: head.toLowerCase(), body };
}

describe('a guarded server', () => {
  const servers: ReturnType<typeof createGuardedServer>[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => closeServer(s)));
  });

  async function serve(shape: ErrorShape, handler: Parameters<typeof createGuardedServer>[1]): Promise<number> {
    const server = createGuardedServer({ shape }, handler);
    servers.push(server);
    return (await listen(server, { host: '127.0.0.1', port: 0, portHint: '-' })).port;
  }

  const echoPath: Parameters<typeof createGuardedServer>[1] = (req, res) => {
    const path = requestTarget(req).pathname;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(path) });
    res.end(path);
  };

  it('hands the handler the targets new URL(target, base) threw on, as paths', async () => {
    const port = await serve('json', echoPath);
    for (const target of ['//%5B', '//x:99999', '//evil.example/steal']) {
      const answer = parse(await raw(port, `GET ${target} HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n`));
      expect(answer.status).toBe(200);
      expect(answer.body).toBe(target);
    }
  });

  it('answers a target that is not a path with a JSON 400, and keeps serving', async () => {
    const port = await serve('json', echoPath);
    for (const target of ['*', 'http://evil.example/', 'x']) {
      const answer = parse(await raw(port, `GET ${target} HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n`));
      expect(answer.status).toBe(400);
      // Node's parser refuses some of these itself; either way the answer is a 400 in the server's shape.
      expect(JSON.parse(answer.body)).toEqual({ error: expect.stringMatching(/bad request-target|malformed HTTP request/) });
    }
    expect(await (await fetch(`http://127.0.0.1:${port}/still/here`)).text()).toBe('/still/here');
  });

  it('speaks JSON-RPC on an MCP or A2A server, and plain text on the waypoint', async () => {
    const rpc = await serve('jsonrpc', echoPath);
    const answer = parse(await raw(rpc, 'POST * HTTP/1.1\r\nhost: a\r\ncontent-length: 0\r\n\r\n'));
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32600, message: expect.stringMatching(/bad request-target/) } });
    const text = await serve('text', echoPath);
    const plain = parse(await raw(text, 'GET http://x:99999/ HTTP/1.1\r\nhost: a\r\n\r\n'));
    expect(plain.status).toBe(400);
    expect(plain.headers).toContain('content-type: text/plain');
  });

  it('turns a handler that throws, at once or later, into a 500 in its shape', async () => {
    const port = await serve('jsonrpc', (req) => {
      if (requestTarget(req).pathname === '/sync') throw new Error('boom');
      return Promise.reject(new Error('later'));
    });
    for (const path of ['/sync', '/async']) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      expect(response.status).toBe(500);
      expect(await response.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32603 } });
    }
  });

  it('answers what the HTTP parser refuses in its shape too', async () => {
    const port = await serve('json', echoPath);
    const cases = [
      ['GET / HTTP/1.1\r\nbad header\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nhost: a\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n', 400],
      [`GET / HTTP/1.1\r\nhost: a\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
      ['NOT HTTP AT ALL\r\n\r\n', 400],
    ] as const;
    for (const [bytes, status] of cases) {
      const answer = parse(await raw(port, bytes));
      expect(answer.status).toBe(status);
      expect(JSON.parse(answer.body)).toEqual({ error: expect.any(String) });
    }
  });

  it('reads JSON bodies within limits: 413 too large, 400 not JSON or too deep, in the server shape', async () => {
    const port = await serve('jsonrpc', async (req, res) => {
      const body = await readJsonBody(req, { maxBytes: 64, maxDepth: 3 });
      if (!body.ok) return refuseBody(res, 'jsonrpc', body);
      res.end(JSON.stringify(body.value ?? 'empty'));
    });
    const post = async (body: string) => {
      const response = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body });
      return { status: response.status, body: (await response.json()) as { error?: { code: number; message: string } } };
    };
    expect(await post('{"a":[1]}')).toEqual({ status: 200, body: { a: [1] } });
    expect(await post('')).toEqual({ status: 200, body: 'empty' });
    const large = await post(JSON.stringify({ a: 'x'.repeat(100) }));
    expect(large).toEqual({ status: 413, body: { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'the request body is larger than 64 bytes' } } });
    expect((await post('{"a":')).body.error?.message).toMatch(/not acceptable JSON/);
    const deep = await post('{"a":[[[1]]]}');
    expect(deep.status).toBe(400);
    expect(deep.body.error?.message).toMatch(/nested deeper than 3 levels \(under a\[0\]\[0\]\)/);
  });

  it('answers a body a handler let through too large with 413, not 500', async () => {
    const port = await serve('json', async (req, res) => {
      await readBody(req, 10);
      res.end('read');
    });
    const response = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'x'.repeat(11) });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error: 'request body exceeds 10 bytes' });
  });
});
