import { describe, expect, it } from 'vitest';
import { base64url, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import {
  bearerToken,
  JWT_REJECTIONS,
  JwtAuthenticator,
  JwtConfigError,
  type JwtAuthenticationSpec,
  type JwtOutcome,
  type JwtProviderSpec,
} from './jwt.ts';

// The seed's LAB 5 provider: issuer http://lab6, audience lab6, alice and bob as subjects.
const ISSUER = 'http://lab6';
const AUDIENCE = 'lab6';
const NOW = Date.UTC(2030, 0, 1);
const NOW_S = NOW / 1000;

interface Signer {
  readonly kid: string;
  readonly alg: 'ES256' | 'RS256';
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

async function signer(kid: string, alg: 'ES256' | 'RS256'): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

const es = await signer('es-1', 'ES256');
const rs = await signer('rs-1', 'RS256');
const impostor = await signer('es-1', 'ES256'); // same kid as `es`, different key
const JWKS = JSON.stringify({ keys: [es.publicJwk, rs.publicJwk] });

async function sign(by: Signer, claims: JWTPayload = {}, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ sub: 'alice', ...claims })
    .setProtectedHeader({ alg: by.alg, kid: by.kid, typ: 'JWT', ...header })
    .setIssuer(typeof claims.iss === 'string' ? claims.iss : ISSUER)
    .setAudience(claims.aud ?? AUDIENCE)
    .setIssuedAt(NOW_S)
    .setExpirationTime(typeof claims.exp === 'number' ? claims.exp : NOW_S + 3600)
    .sign(by.privateKey);
}

function unsigned(claims: JWTPayload): string {
  const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
  return `${header}.${base64url.encode(JSON.stringify(claims))}.`;
}

async function hs256(claims: JWTPayload): Promise<string> {
  // The attack HMAC invites: use a published public key as the shared secret.
  const secret = new TextEncoder().encode(JSON.stringify(es.publicJwk));
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: es.kid }).sign(secret);
}

const aliceClaims = { sub: 'alice', iss: ISSUER, aud: AUDIENCE, iat: NOW_S, exp: NOW_S + 3600 };

const tokens = {
  alice: await sign(es, { sub: 'alice' }),
  bob: await sign(rs, { sub: 'bob' }),
  expired: await sign(es, { exp: NOW_S - 31 }),
  wrongIssuer: await sign(es, { iss: 'http://evil' }),
  wrongAudience: await sign(es, { aud: 'other' }),
  badSignature: await sign(impostor),
  algNone: unsigned(aliceClaims),
  hs256: await hs256(aliceClaims),
  unknownKid: await sign(es, {}, { kid: 'nobody' }),
  malformed: 'not.a-jwt',
};

const inlineProvider: JwtProviderSpec = { issuer: ISSUER, audiences: [AUDIENCE], jwks: { inline: JWKS } };
const noFetch = () => Promise.reject(new Error('inline providers never fetch'));

function authenticator(spec: Partial<JwtAuthenticationSpec> = {}, now = () => NOW): JwtAuthenticator {
  return new JwtAuthenticator({ providers: [inlineProvider], ...spec }, { fetchJwks: noFetch, now });
}

const bearer = (token: string) => `Bearer ${token}`;

describe('bearerToken', () => {
  it.each([
    { header: undefined, token: undefined },
    { header: '', token: undefined },
    { header: 'Bearer abc', token: 'abc' },
    { header: 'bearer abc', token: 'abc' },
    { header: 'Bearer   abc  ', token: 'abc' },
    { header: 'Bearer ', token: undefined },
    { header: 'Basic dXNlcjpwYXNz', token: undefined },
    { header: 'abc', token: undefined },
  ])('$header → $token', ({ header, token }) => {
    expect(bearerToken(header)).toBe(token);
  });
});

describe('modes', () => {
  type Case = { name: string; header: string | undefined; reason?: string };
  const invalid: Case[] = [
    { name: 'expired', header: bearer(tokens.expired), reason: JWT_REJECTIONS.expired },
    { name: 'wrong issuer', header: bearer(tokens.wrongIssuer), reason: JWT_REJECTIONS.unknownIssuer },
    { name: 'wrong audience', header: bearer(tokens.wrongAudience), reason: JWT_REJECTIONS.wrongAudience },
    { name: 'bad signature', header: bearer(tokens.badSignature), reason: JWT_REJECTIONS.badSignature },
    { name: 'alg none', header: bearer(tokens.algNone), reason: JWT_REJECTIONS.algorithmNotAllowed },
    { name: 'HS256', header: bearer(tokens.hs256), reason: JWT_REJECTIONS.algorithmNotAllowed },
    { name: 'unknown kid', header: bearer(tokens.unknownKid), reason: JWT_REJECTIONS.unknownKey },
    { name: 'malformed', header: bearer(tokens.malformed), reason: JWT_REJECTIONS.malformed },
  ];
  const matrix = (['Strict', 'Optional', 'Permissive'] as const).flatMap((mode) => [
    { mode, name: 'no token', header: undefined, expected: mode === 'Strict' ? JWT_REJECTIONS.missingToken : 'ok without claims' },
    { mode, name: 'non-bearer scheme', header: 'Basic dXNlcjpwYXNz', expected: mode === 'Strict' ? JWT_REJECTIONS.missingToken : 'ok without claims' },
    { mode, name: 'valid (alice, ES256)', header: bearer(tokens.alice), expected: 'alice' },
    { mode, name: 'valid (bob, RS256)', header: bearer(tokens.bob), expected: 'bob' },
    ...invalid.map(({ name, header, reason }) => ({ mode, name, header, expected: mode === 'Permissive' ? 'ok without claims' : reason! })),
  ]);

  function summary(outcome: JwtOutcome): string {
    if (!outcome.ok) return outcome.reason;
    return outcome.claims === undefined ? 'ok without claims' : String(outcome.claims.sub);
  }

  it.each(matrix)('$mode, $name → $expected', async ({ mode, header, expected }) => {
    const outcome = await authenticator({ mode }).authenticate(header);
    expect(summary(outcome)).toBe(expected);
    if (!outcome.ok) {
      expect(outcome.status).toBe(401);
      // The reason is for logs and responses: no part of the token may leak into it.
      const segments = (header ?? '').replace(/^\S+\s+/, '').split('.').filter((segment) => segment.length > 4);
      for (const segment of segments) expect(outcome.reason).not.toContain(segment);
    } else if (outcome.claims !== undefined) {
      expect(outcome.issuer).toBe(ISSUER);
      expect(outcome.claims.iss).toBe(ISSUER);
    }
  });

  it('defaults to Strict, as the CRD does', async () => {
    expect(await authenticator().authenticate(undefined)).toEqual({ ok: false, status: 401, reason: JWT_REJECTIONS.missingToken });
  });
});

describe('validation details', () => {
  it('tolerates 30 s of clock skew on exp and nbf, and no more', async () => {
    const justExpired = await sign(es, { exp: NOW_S - 29 });
    const notYet = await sign(es, { nbf: NOW_S + 29 });
    const tooEarly = await sign(es, { nbf: NOW_S + 31 });
    const auth = authenticator();
    expect((await auth.authenticate(bearer(justExpired))).ok).toBe(true);
    expect((await auth.authenticate(bearer(notYet))).ok).toBe(true);
    expect(await auth.authenticate(bearer(tooEarly))).toMatchObject({ ok: false, reason: JWT_REJECTIONS.notYetValid });
  });

  it('follows the injected clock', async () => {
    let now = NOW;
    const auth = authenticator({}, () => now);
    expect((await auth.authenticate(bearer(tokens.alice))).ok).toBe(true);
    now += 3600_000 + 31_000;
    expect(await auth.authenticate(bearer(tokens.alice))).toMatchObject({ ok: false, reason: JWT_REJECTIONS.expired });
  });

  it('accepts an aud list containing a configured audience', async () => {
    const token = await sign(es, { aud: ['someone-else', AUDIENCE] });
    expect((await authenticator().authenticate(bearer(token))).ok).toBe(true);
  });

  it('accepts any audience when none is configured', async () => {
    const auth = authenticator({ providers: [{ issuer: ISSUER, jwks: { inline: JWKS } }] });
    expect((await auth.authenticate(bearer(tokens.wrongAudience))).ok).toBe(true);
  });

  it('requires exp and iss', async () => {
    const noExp = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'ES256', kid: es.kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .sign(es.privateKey);
    const noIss = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'ES256', kid: es.kid })
      .setAudience(AUDIENCE)
      .setExpirationTime(NOW_S + 60)
      .sign(es.privateKey);
    expect(await authenticator().authenticate(bearer(noExp))).toMatchObject({ ok: false, reason: 'missing exp claim' });
    expect(await authenticator().authenticate(bearer(noIss))).toMatchObject({ ok: false, reason: 'missing iss claim' });
  });

  it('matches a token without kid only when exactly one key fits', async () => {
    const other = await signer('es-2', 'ES256');
    const kidless = await sign(es, {}, { kid: undefined });
    const single = authenticator({ providers: [{ ...inlineProvider, jwks: { inline: JSON.stringify({ keys: [es.publicJwk, rs.publicJwk] }) } }] });
    expect((await single.authenticate(bearer(kidless))).ok).toBe(true);
    const two = authenticator({ providers: [{ ...inlineProvider, jwks: { inline: JSON.stringify({ keys: [es.publicJwk, other.publicJwk] }) } }] });
    expect(await two.authenticate(bearer(kidless))).toMatchObject({ ok: false, reason: JWT_REJECTIONS.ambiguousKey });
  });

  it('refuses a tampered payload', async () => {
    const [header, , signature] = tokens.alice.split('.');
    const payload = base64url.encode(JSON.stringify({ ...aliceClaims, sub: 'admin' }));
    const outcome = await authenticator().authenticate(bearer(`${header}.${payload}.${signature}`));
    expect(outcome).toMatchObject({ ok: false, reason: JWT_REJECTIONS.badSignature });
  });

  it('chooses the provider by the token issuer', async () => {
    const other = await signer('other-1', 'ES256');
    const auth = authenticator({
      providers: [inlineProvider, { issuer: 'http://other', audiences: ['x'], jwks: { inline: JSON.stringify({ keys: [other.publicJwk] }) } }],
    });
    const fromOther = await sign(other, { iss: 'http://other', aud: 'x', sub: 'carol' });
    expect(await auth.authenticate(bearer(fromOther))).toMatchObject({ ok: true, issuer: 'http://other', claims: { sub: 'carol' } });
    // Signed by lab6's key but claiming the other issuer: that provider's keys do not know it.
    const crossed = await sign(es, { iss: 'http://other', aud: 'x' });
    expect(await auth.authenticate(bearer(crossed))).toMatchObject({ ok: false, reason: JWT_REJECTIONS.unknownKey });
    expect(await auth.authenticate(bearer(tokens.alice))).toMatchObject({ ok: true, issuer: ISSUER });
  });
});

describe('configuration errors', () => {
  it.each([
    { name: 'inline jwks that is not JSON', spec: { providers: [{ issuer: ISSUER, jwks: { inline: '{nope' } }] } },
    { name: 'inline jwks without keys', spec: { providers: [{ issuer: ISSUER, jwks: { inline: '{"keys":[]}' } }] } },
    { name: 'inline jwks that is not a JWKS', spec: { providers: [{ issuer: ISSUER, jwks: { inline: '[1]' } }] } },
    { name: 'no providers', spec: { providers: [] } },
    { name: 'a duplicated issuer', spec: { providers: [inlineProvider, inlineProvider] } },
    { name: 'an empty audience list', spec: { providers: [{ ...inlineProvider, audiences: [] }] } },
    { name: 'a bad cacheDuration', spec: { providers: [{ issuer: ISSUER, jwks: { remote: { url: 'http://idp/jwks', cacheDuration: '5 minutes' } } }] } },
    { name: 'a negative cacheDuration', spec: { providers: [{ issuer: ISSUER, jwks: { remote: { url: 'http://idp/jwks', cacheDuration: '-5m' } } }] } },
    { name: 'a jwks url that is not http', spec: { providers: [{ issuer: ISSUER, jwks: { remote: { url: 'file:///etc/jwks' } } }] } },
  ])('$name throws JwtConfigError', ({ spec }) => {
    expect(() => new JwtAuthenticator(spec as JwtAuthenticationSpec, { fetchJwks: noFetch })).toThrow(JwtConfigError);
  });
});

describe('remote JWKS', () => {
  const URL_ = 'http://mock-idp.tokenexchange-test.svc.cluster.local/.well-known/jwks.json';

  /** A fake IdP behind the injected fetcher: what it publishes, whether it is up, and how often it was asked. */
  function idp(initial: Signer[]) {
    const state = { published: initial.map((s) => s.publicJwk) as unknown[], up: true, calls: 0, now: NOW };
    const fetchJwks = async (url: string): Promise<unknown> => {
      state.calls++;
      expect(url).toBe(URL_);
      if (!state.up) throw new Error('connection refused');
      return { keys: state.published };
    };
    const make = (cacheDuration?: string, mode: JwtAuthenticationSpec['mode'] = 'Strict') =>
      new JwtAuthenticator(
        { mode, providers: [{ issuer: ISSUER, audiences: [AUDIENCE], jwks: { remote: { url: URL_, ...(cacheDuration ? { cacheDuration } : {}) } } }] },
        { fetchJwks, now: () => state.now },
      );
    return { state, make };
  }

  it('fetches lazily and caches for the default 5 minutes', async () => {
    const { state, make } = idp([es, rs]);
    const auth = make();
    expect(state.calls).toBe(0);
    expect((await auth.authenticate(bearer(tokens.alice))).ok).toBe(true);
    expect((await auth.authenticate(bearer(tokens.bob))).ok).toBe(true);
    expect(state.calls).toBe(1);
    state.now += 5 * 60_000 - 1;
    await auth.authenticate(bearer(tokens.alice));
    expect(state.calls).toBe(1);
    state.now += 1;
    expect((await auth.authenticate(bearer(tokens.alice))).ok).toBe(true);
    expect(state.calls).toBe(2);
  });

  it('honours cacheDuration', async () => {
    const { state, make } = idp([es]);
    const auth = make('1m30s');
    await auth.authenticate(bearer(tokens.alice));
    state.now += 89_000;
    await auth.authenticate(bearer(tokens.alice));
    expect(state.calls).toBe(1);
    state.now += 1000;
    await auth.authenticate(bearer(tokens.alice));
    expect(state.calls).toBe(2);
  });

  it('shares one fetch between concurrent requests', async () => {
    const { state, make } = idp([es, rs]);
    const auth = make();
    const outcomes = await Promise.all([tokens.alice, tokens.bob, tokens.alice].map((t) => auth.authenticate(bearer(t))));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(state.calls).toBe(1);
  });

  it('refetches once for an unknown kid, at most once per 10 s', async () => {
    const { state, make } = idp([es]);
    const auth = make();
    expect((await auth.authenticate(bearer(tokens.alice))).ok).toBe(true);
    expect(state.calls).toBe(1);

    // The IdP rotates to a new key; a token signed with it arrives while the cache is still fresh.
    const rotated = await signer('es-2', 'ES256');
    state.published = [es.publicJwk, rotated.publicJwk];
    const rotatedToken = await sign(rotated);
    state.now += 11_000;
    expect(await auth.authenticate(bearer(rotatedToken))).toMatchObject({ ok: true, claims: { sub: 'alice' } });
    expect(state.calls).toBe(2);

    // Garbage kids cannot turn every request into a fetch.
    state.now += 1000;
    expect(await auth.authenticate(bearer(tokens.unknownKid))).toMatchObject({ ok: false, reason: JWT_REJECTIONS.unknownKey });
    expect(await auth.authenticate(bearer(tokens.unknownKid))).toMatchObject({ ok: false, reason: JWT_REJECTIONS.unknownKey });
    expect(state.calls).toBe(2);
    state.now += 10_000;
    expect(await auth.authenticate(bearer(tokens.unknownKid))).toMatchObject({ ok: false, reason: JWT_REJECTIONS.unknownKey });
    expect(state.calls).toBe(3);
    // Known kids keep working from the cache meanwhile.
    expect((await auth.authenticate(bearer(rotatedToken))).ok).toBe(true);
    expect(state.calls).toBe(3);
  });

  it('does not refetch for an unknown kid right after fetching', async () => {
    const { state, make } = idp([es]);
    expect(await make().authenticate(bearer(tokens.unknownKid))).toMatchObject({ ok: false, reason: JWT_REJECTIONS.unknownKey });
    expect(state.calls).toBe(1);
  });

  it('turns a fetch failure into 401 "jwks unavailable", backs off, and recovers', async () => {
    const { state, make } = idp([es]);
    state.up = false;
    const auth = make();
    expect(await auth.authenticate(bearer(tokens.alice))).toEqual({ ok: false, status: 401, reason: JWT_REJECTIONS.jwksUnavailable });
    expect(state.calls).toBe(1);
    state.now += 5000;
    expect(await auth.authenticate(bearer(tokens.alice))).toMatchObject({ ok: false, reason: JWT_REJECTIONS.jwksUnavailable });
    expect(state.calls).toBe(1);
    state.up = true;
    state.now += 5000;
    expect((await auth.authenticate(bearer(tokens.alice))).ok).toBe(true);
    expect(state.calls).toBe(2);
  });

  it('does not use expired keys when the refetch fails', async () => {
    const { state, make } = idp([es]);
    const auth = make('1m');
    expect((await auth.authenticate(bearer(tokens.alice))).ok).toBe(true);
    state.up = false;
    state.now += 60_000;
    expect(await auth.authenticate(bearer(tokens.alice))).toMatchObject({ ok: false, reason: JWT_REJECTIONS.jwksUnavailable });
  });

  it('keeps fresh keys when an unknown-kid refetch fails', async () => {
    const { state, make } = idp([es]);
    const auth = make();
    await auth.authenticate(bearer(tokens.alice));
    state.up = false;
    state.now += 11_000;
    expect(await auth.authenticate(bearer(tokens.unknownKid))).toMatchObject({ ok: false, reason: JWT_REJECTIONS.jwksUnavailable });
    expect((await auth.authenticate(bearer(tokens.alice))).ok).toBe(true);
    expect(state.calls).toBe(2);
  });

  it('lets Permissive through when the JWKS is unavailable, and Optional only without a token', async () => {
    const { state, make } = idp([es]);
    state.up = false;
    expect(await make(undefined, 'Permissive').authenticate(bearer(tokens.alice))).toEqual({ ok: true });
    expect(await make(undefined, 'Optional').authenticate(undefined)).toEqual({ ok: true });
    expect(await make(undefined, 'Optional').authenticate(bearer(tokens.alice))).toMatchObject({ ok: false, reason: JWT_REJECTIONS.jwksUnavailable });
  });

  it.each([
    { name: 'throws synchronously', fetchJwks: () => { throw new Error('boom'); } },
    { name: 'returns something that is not a JWKS', fetchJwks: () => Promise.resolve({ hello: 'world' }) },
    { name: 'returns an empty JWKS', fetchJwks: () => Promise.resolve({ keys: [] }) },
    { name: 'returns null', fetchJwks: () => Promise.resolve(null) },
  ])('a fetcher that $name gives "jwks unavailable"', async ({ fetchJwks }) => {
    const auth = new JwtAuthenticator(
      { providers: [{ issuer: ISSUER, jwks: { remote: { url: URL_ } } }] },
      { fetchJwks: fetchJwks as () => Promise<unknown>, now: () => NOW },
    );
    expect(await auth.authenticate(bearer(tokens.alice))).toMatchObject({ ok: false, reason: JWT_REJECTIONS.jwksUnavailable });
  });
});
