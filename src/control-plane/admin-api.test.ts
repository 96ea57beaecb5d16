import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAdminApi, serveAdminApi } from './admin-api.ts';

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
});
