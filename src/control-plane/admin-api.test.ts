import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_MAX_BODY_BYTES, adminTokenPath, callAdminApi, serveAdminApi } from './admin-api.ts';

describe('the admin API', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tub-admin-'));
  const socket = join(dir, 'admin.sock');
  let server: Server;
  beforeAll(async () => {
    server = await serveAdminApi(socket, {
      'GET /things': () => ({ all: true }),
      'GET /things/*': (_body, query) => ({ rest: query.get('rest') }),
      'POST /echo': (body) => ({ got: (body as { value?: unknown }).value ?? null }),
    });
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('prefers an exact route, and hands a `/*` route the rest of the path, decoded', async () => {
    expect(await callAdminApi(socket, 'GET', '/things')).toEqual({ all: true });
    expect(await callAdminApi(socket, 'GET', `/things/${encodeURIComponent('acme-fx/currency-converter')}`)).toEqual({ rest: 'acme-fx/currency-converter' });
  });

  it('answers a malformed path with 400 and an unknown one with 404, and keeps serving', async () => {
    await expect(callAdminApi(socket, 'GET', '/things/%E0%A4%A')).rejects.toThrow(/malformed percent-encoding/);
    await expect(callAdminApi(socket, 'GET', '/nothing')).rejects.toThrow(/no such admin route/);
    expect(await callAdminApi(socket, 'GET', '/things')).toEqual({ all: true });
  });

  /** A request as a process that found the socket but does not hold the token would make it. */
  const raw = (headers: Record<string, string>) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ socketPath: socket, method: 'GET', path: '/things', headers }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });

  /** A POST with the token, as the CLI makes it, but with any bytes as the body. */
  const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const token = readFileSync(adminTokenPath(socket), 'utf8');
      const req = request({ socketPath: socket, method: 'POST', path: '/echo', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers } }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      // The server may answer and close before the whole of an oversized body is written.
      req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
      req.end(body);
    });

  it.each([
    ['not JSON', '{"value":', /not acceptable JSON/],
    ['null', 'null', /must be a JSON object, got null/],
    ['an array', '[1]', /must be a JSON object, got an array/],
    ['a string', '"x"', /must be a JSON object, got string/],
    ['nested 10,000 levels', `{"value":${'['.repeat(10_000)}${']'.repeat(10_000)}}`, /nested deeper than 256 levels \(under value/],
  ])('answers a body that is %s with 400 and a JSON error naming it', async (_name, body, message) => {
    const answer = await post(body);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).error).toMatch(message);
  });

  it('answers an oversized body with 413, declared or streamed, and keeps serving', async () => {
    const big = Buffer.alloc(ADMIN_MAX_BODY_BYTES + 1, 0x20);
    const declared = await post(big);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body).error).toBe(`the request body is larger than ${ADMIN_MAX_BODY_BYTES} bytes`);
    // No content-length: the limit holds while reading, not on the client's word.
    const streamed = await post(big, { 'transfer-encoding': 'chunked' });
    expect(streamed.status).toBe(413);
    expect(await post('{"value":42}')).toEqual({ status: 200, body: JSON.stringify({ got: 42 }) });
  });

  it('answers only the holder of the token it wrote beside its socket, readable by its user alone', async () => {
    expect(statSync(adminTokenPath(socket)).mode & 0o777).toBe(0o600);
    const token = readFileSync(adminTokenPath(socket), 'utf8');
    expect((await raw({})).status).toBe(401);
    expect((await raw({ authorization: 'Bearer guessed-token' })).status).toBe(401);
    expect((await raw({ authorization: `Bearer ${token}x` })).status).toBe(401);
    expect(JSON.parse((await raw({})).body).error).toMatch(/not authorized/);
    expect(await raw({ authorization: `Bearer ${token}` })).toEqual({ status: 200, body: JSON.stringify({ all: true }) });
  });

  it('makes a new token at every start, so an old one opens nothing', async () => {
    const before = readFileSync(adminTokenPath(socket), 'utf8');
    const other = join(dir, 'other.sock');
    const second = await serveAdminApi(other, { 'GET /things': () => ({}) });
    try {
      expect(readFileSync(adminTokenPath(other), 'utf8')).not.toBe(before);
    } finally {
      await new Promise<void>((resolve) => second.close(() => resolve()));
    }
  });

  it('closes even while a connection that never sent a request is open', async () => {
    const other = join(dir, 'idle.sock');
    const idleServer = await serveAdminApi(other, { 'GET /things': () => ({}) });
    const idle = connect(other);
    await new Promise<void>((resolve) => idle.once('connect', () => resolve()));
    const closed = await Promise.race([
      new Promise<string>((resolve) => idleServer.close(() => resolve('closed'))),
      new Promise<string>((resolve) => setTimeout(() => resolve('still open'), 5_000)),
    ]);
    idle.destroy();
    expect(closed).toBe('closed');
  });
});
