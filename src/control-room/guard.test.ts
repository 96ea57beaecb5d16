import { describe, expect, it } from 'vitest';
import { checkApiRequest, checkPageRequest, TOKEN_HEADER, type RequestFacts } from './guard.ts';

const PORT = 18000;
const TOKEN = Buffer.from('k3y-0f-this-stack-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
const good: RequestFacts = { method: 'POST', headers: { host: `127.0.0.1:${PORT}`, origin: `http://127.0.0.1:${PORT}`, 'sec-fetch-site': 'same-origin', [TOKEN_HEADER]: TOKEN.toString() } };
const withHeaders = (headers: RequestFacts['headers'], method = 'POST'): RequestFacts => ({ method, headers: { ...good.headers, ...headers } });

describe('the control room guard', () => {
  it("admits the control room's own page, with the token, for actions and the event stream", () => {
    expect(checkApiRequest(good, PORT, TOKEN, 'action')).toEqual({ ok: true });
    expect(checkApiRequest(withHeaders({}, 'GET'), PORT, TOKEN, 'read')).toEqual({ ok: true });
    // localhost and [::1] are the same loopback, and a client that is not a browser sends neither Origin nor Sec-Fetch-Site.
    expect(checkApiRequest({ method: 'POST', headers: { host: `localhost:${PORT}`, [TOKEN_HEADER]: TOKEN.toString() } }, PORT, TOKEN, 'action')).toEqual({ ok: true });
    expect(checkApiRequest({ method: 'POST', headers: { host: `[::1]:${PORT}`, origin: `http://[::1]:${PORT}`, [TOKEN_HEADER]: TOKEN.toString() } }, PORT, TOKEN, 'action')).toEqual({ ok: true });
    expect(checkPageRequest({ method: 'GET', headers: { host: `127.0.0.1:${PORT}` } }, PORT)).toEqual({ ok: true });
  });

  it.each([
    ['no token', { [TOKEN_HEADER]: undefined }],
    ['an empty token', { [TOKEN_HEADER]: '' }],
    ['a wrong token of the same length', { [TOKEN_HEADER]: TOKEN.toString().replace(/^k/, 'K') }],
    ['the token with a byte more', { [TOKEN_HEADER]: `${TOKEN.toString()}A` }],
    ['the token twice (a repeated header)', { [TOKEN_HEADER]: [TOKEN.toString(), TOKEN.toString()] }],
    ['another origin (CSRF)', { origin: 'http://evil.example' }],
    ['another loopback port (another local web app)', { origin: `http://127.0.0.1:${PORT + 1}` }],
    ['an opaque origin (sandboxed frame)', { origin: 'null' }],
    ['the same address over https (another origin)', { origin: `https://127.0.0.1:${PORT}` }],
    ['a cross-site request', { 'sec-fetch-site': 'cross-site' }],
    ['a same-site request from another port', { 'sec-fetch-site': 'same-site' }],
    ['a rebound DNS name as Host', { host: `evil.example:${PORT}`, origin: `http://evil.example:${PORT}` }],
    ['a single-label name as Host', { host: `intranet:${PORT}`, origin: `http://intranet:${PORT}` }],
    ['a loopback Host on another port', { host: `127.0.0.1:${PORT + 1}`, origin: `http://127.0.0.1:${PORT + 1}` }],
    ['no Host', { host: undefined }],
  ])('refuses an action with %s (403, with the reason)', (_what, headers) => {
    const verdict = checkApiRequest(withHeaders(headers as RequestFacts['headers']), PORT, TOKEN, 'action');
    expect(verdict).toMatchObject({ ok: false, status: 403 });
    expect(!verdict.ok && verdict.error).toMatch(/^forbidden: /);
  });

  it('takes actions only as POST and the event stream only as GET', () => {
    expect(checkApiRequest(withHeaders({}, 'GET'), PORT, TOKEN, 'action')).toMatchObject({ ok: false, status: 405 });
    expect(checkApiRequest(withHeaders({}, 'POST'), PORT, TOKEN, 'read')).toMatchObject({ ok: false, status: 405 });
  });

  it('refuses the event stream without the token too: it carries the loot and the SOC mail', () => {
    expect(checkApiRequest(withHeaders({ [TOKEN_HEADER]: undefined }, 'GET'), PORT, TOKEN, 'read')).toMatchObject({ ok: false, status: 403 });
  });

  it('serves the page only under a loopback Host at its port', () => {
    expect(checkPageRequest({ method: 'GET', headers: { host: `evil.example:${PORT}` } }, PORT)).toMatchObject({ ok: false, status: 403 });
    expect(checkPageRequest({ method: 'GET', headers: { host: `127.0.0.1.nip.io:${PORT}` } }, PORT)).toMatchObject({ ok: false, status: 403 });
    expect(checkPageRequest({ method: 'GET', headers: { host: '127.0.0.1' } }, PORT)).toMatchObject({ ok: false, status: 403 });
  });
});
