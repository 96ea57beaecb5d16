import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminTokenPath, callAdminApi, serveAdminApi } from './admin-api.ts';

describe('the admin API', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tub-admin-'));
  const socket = join(dir, 'admin.sock');
  let server: Server;
  beforeAll(async () => {
    server = await serveAdminApi(socket, {
      'GET /things': () => ({ all: true }),
      'GET /things/*': (_body, query) => ({ rest: query.get('rest') }),
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
