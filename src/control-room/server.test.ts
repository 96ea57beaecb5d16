// The control room's HTTP surface with a stand-in stack: every refusal (no token, wrong token, another origin,
// a cross-site request, a rebound Host, the wrong method) and the right request, which runs the action and is
// told on the event stream; one action at a time.
import type { AddressInfo } from 'node:net';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer } from '../core/http.ts';
import { silentLogger } from '../core/log.ts';
import { createGuardedServer } from '../core/request-guard.ts';
import type { Denies } from '../demo/demo.ts';
import type { ActionRequest, ActionRunner } from './actions.ts';
import { BusyError, describeAction } from './actions.ts';
import { TOKEN_HEADER } from './guard.ts';
import { CONTROL_ROOM_CSP, createControlRoom } from './server.ts';
import type { Snapshot } from './snapshot.ts';

const TOKEN = 'dGVzdC10b2tlbi1mb3ItdGhlLWNvbnRyb2wtcm9vbQ';
const zero: Denies = { mesh: 0, meshOnConverter: 0, gateway: 0, admission: 0, accessPolicy: 0, gatewayAuthorization: 0, gatewayDlp: 0, egressOnConverter: 0, listeningPost: 0, attemptsToAttacker: 0 };
let loot = 0;
const ran: ActionRequest[] = [];
let release: (() => void) | undefined;
let current: string | undefined;

const runner: ActionRunner = {
  busy: () => current,
  async run(req, progress) {
    if (current) throw new BusyError(`busy: "${current}" is still running`);
    current = describeAction(req);
    try {
      ran.push(req);
      progress(`doing ${current}`);
      if (req.action === 'demo') await new Promise<void>((resolve) => (release = resolve));
      if (req.action === 'rugpull') loot += 1;
      return { action: current, ok: true, message: `${current} done <b>as text</b>` };
    } finally {
      current = undefined;
    }
  },
};

const snapshot = async (): Promise<Snapshot> => ({ loot, denies: zero, layers: [], registry: [], alerts: [], mail: { count: 0 }, links: [] });

let base: string;
let port: number;
let server: ReturnType<typeof createGuardedServer>;
let room: ReturnType<typeof createControlRoom>;

beforeAll(async () => {
  room = createControlRoom({ token: Buffer.from(TOKEN), script: Buffer.from('/* app */'), port: () => port, actions: runner, snapshot, log: silentLogger, pollMs: 50 });
  server = createGuardedServer({ shape: 'json' }, (req, res) => room.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  room.close();
  await closeServer(server);
});

/** A raw request, so that Host, Origin and Sec-Fetch-Site are exactly what a browser (or an attacker) would send. */
function send(method: string, path: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
const browserHeaders = (): Record<string, string> => ({ origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin', [TOKEN_HEADER]: TOKEN });

describe('the control room over HTTP', () => {
  it('serves its page with a strict CSP and no token in it', async () => {
    const page = await send('GET', '/', {});
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe(CONTROL_ROOM_CSP);
    expect(CONTROL_ROOM_CSP).toContain("script-src 'self'");
    expect(CONTROL_ROOM_CSP).not.toContain('unsafe-inline');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.body).toContain('<script type="module" src="app.js"></script>');
    expect(page.body).not.toMatch(/<script>|<style>| on\w+=/);
    expect(page.body).not.toContain(TOKEN);
    expect((await send('GET', '/app.js', {})).headers['content-type']).toMatch(/^text\/javascript/);
  });

  it.each([
    ['without the token', (h: Record<string, string>) => ({ ...h, [TOKEN_HEADER]: '' })],
    ['with a wrong token', (h: Record<string, string>) => ({ ...h, [TOKEN_HEADER]: TOKEN.replace(/^d/, 'e') })],
    ['from another origin (CSRF), even with the token', (h: Record<string, string>) => ({ ...h, origin: 'http://evil.example' })],
    ['marked cross-site by the browser', (h: Record<string, string>) => ({ ...h, 'sec-fetch-site': 'cross-site' })],
    ['under a rebound DNS name', (h: Record<string, string>) => ({ ...h, host: `attacker.example:${port}`, origin: `http://attacker.example:${port}` })],
  ])('refuses an action %s: 403 with a JSON error, and nothing runs', async (_what, alter) => {
    const before = ran.length;
    const answer = await send('POST', '/api/actions/reset', alter(browserHeaders()));
    expect(answer.status).toBe(403);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(answer.body)).toEqual({ error: expect.stringMatching(/^forbidden: /) });
    expect(ran.length).toBe(before);
  });

  it('refuses an action as GET (405) and an unknown action or layer (404)', async () => {
    expect((await send('GET', '/api/actions/reset', browserHeaders())).status).toBe(405);
    expect((await send('POST', '/api/actions/format-disk', browserHeaders())).status).toBe(404);
    expect((await send('POST', '/api/layers/firewall/on', browserHeaders())).status).toBe(404);
  });

  it('refuses the event stream without the token', async () => {
    const answer = await send('GET', '/api/events', { ...browserHeaders(), [TOKEN_HEADER]: 'nope' });
    expect(answer.status).toBe(403);
    expect(answer.body).not.toContain('"loot"');
  });

  it('runs the right request and tells the event stream: progress, the result, a new snapshot', async () => {
    const events = await openStream();
    try {
      await events.next('snapshot');
      const answer = await send('POST', '/api/actions/rugpull', browserHeaders());
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ action: 'rugpull', ok: true, message: 'rugpull done <b>as text</b>' });
      expect(ran.at(-1)).toEqual({ action: 'rugpull' });
      expect(await events.next('progress')).toEqual({ line: 'doing rugpull' });
      expect(await events.next('action', (d) => (d as { done: boolean }).done)).toMatchObject({ action: 'rugpull', ok: true, done: true });
      expect(await events.next('snapshot', (d) => (d as Snapshot).loot === loot)).toMatchObject({ loot });
      // A layer switch names its layer and state.
      expect((await send('POST', '/api/layers/mesh/on', browserHeaders())).status).toBe(200);
      expect(ran.at(-1)).toEqual({ action: 'layer', layer: 'mesh', on: true });
    } finally {
      events.close();
    }
  });

  it('runs one action at a time: a second one while the demo runs is refused with 409', async () => {
    const demo = send('POST', '/api/actions/demo', browserHeaders());
    await expect.poll(() => release !== undefined).toBe(true);
    const second = await send('POST', '/api/actions/reset', browserHeaders());
    expect(second.status).toBe(409);
    expect(JSON.parse(second.body).error).toMatch(/busy: "demo"/);
    release!();
    expect((await demo).status).toBe(200);
    expect((await send('POST', '/api/actions/reset', browserHeaders())).status).toBe(200);
  });
});

async function openStream(): Promise<{ next(event: string, where?: (data: unknown) => boolean): Promise<unknown>; close(): void }> {
  const controller = new AbortController();
  const response = await fetch(`${base}/api/events`, { headers: { [TOKEN_HEADER]: TOKEN }, signal: controller.signal });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const seen: { event: string; data: unknown }[] = [];
  let buffer = '';
  void (async () => {
    try {
      for await (const chunk of response.body!.pipeThrough(new TextDecoderStream())) {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) seen.push({ event, data: JSON.parse(data) });
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    async next(event, where = () => true) {
      await expect.poll(() => seen.some((e) => e.event === event && where(e.data)), { timeout: 5_000 }).toBe(true);
      return seen.find((e) => e.event === event && where(e.data))!.data;
    },
    close: () => controller.abort(),
  };
}
