import { describe, expect, it } from 'vitest';
import { base64url, createLocalJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { JWT_REJECTIONS, JwtAuthenticator, type JwtProviderSpec } from './jwt.ts';
import {
  GRANT_TYPE_TOKEN_EXCHANGE,
  TOKEN_TYPE_ACCESS_TOKEN,
  TOKEN_TYPE_JWT,
  TokenExchangeConfigError,
  TokenExchangeService,
  type TokenExchangeSpec,
} from './token-exchange.ts';

// The seed's LAB 6: the user IdP is LAB 5's (issuer http://lab6, audience lab6); the STS has its own issuer.
const IDP_ISSUER = 'http://lab6';
const IDP_AUDIENCE = 'lab6';
const STS_ISSUER = 'enterprise-agentgateway.agentgateway-system.svc.cluster.local:7777';
const CALLER = 'spiffe://cluster.local/ns/ai-agents/sa/dev-ui';
const NOW = Date.UTC(2030, 0, 1);
const NOW_S = NOW / 1000;

const idp = await generateKeyPair('ES256');
const idpJwks = { keys: [{ ...(await exportJWK(idp.publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' }] };
const forger = await generateKeyPair('ES256');

async function userToken(claims: JWTPayload = {}, key: CryptoKey = idp.privateKey, kid = 'idp-1'): Promise<string> {
  return new SignJWT({ sub: 'alice', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setIssuer(typeof claims.iss === 'string' ? claims.iss : IDP_ISSUER)
    .setAudience(IDP_AUDIENCE)
    .setIssuedAt(NOW_S)
    .setExpirationTime(typeof claims.exp === 'number' ? claims.exp : NOW_S + 3600)
    .sign(key);
}

const alice = await userToken();
const bob = await userToken({ sub: 'bob' });

const subjectValidator: JwtProviderSpec = { issuer: IDP_ISSUER, audiences: [IDP_AUDIENCE], jwks: { inline: JSON.stringify(idpJwks) } };
const noFetch = () => Promise.reject(new Error('inline providers never fetch'));

function sts(spec: Partial<TokenExchangeSpec> = {}, now = () => NOW, signingKey?: JsonWebKey): Promise<TokenExchangeService> {
  return TokenExchangeService.create({ issuer: STS_ISSUER, subjectValidator, ...spec }, { fetchJwks: noFetch, now, ...(signingKey ? { signingKey } : {}) });
}

function form(fields: Record<string, string | string[]>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) for (const one of [value].flat()) params.append(name, one);
  return params.toString();
}

const exchangeOf = (subjectToken: string, extra: Record<string, string | string[]> = {}) =>
  form({ grant_type: GRANT_TYPE_TOKEN_EXCHANGE, subject_token: subjectToken, subject_token_type: TOKEN_TYPE_JWT, ...extra });

async function verifyMinted(service: TokenExchangeService, token: string, at = NOW) {
  return jwtVerify(token, createLocalJWKSet(service.jwks()), { issuer: STS_ISSUER, currentDate: new Date(at), algorithms: ['ES256'] });
}

describe('exchanging a user token', () => {
  it("mints an on-behalf-of token for alice, signed by the STS, naming the caller as actor", async () => {
    const service = await sts();
    const response = await service.exchange(exchangeOf(alice), CALLER);
    expect(response.status).toBe(200);
    expect(response.headers).toMatchObject({ 'content-type': 'application/json', 'cache-control': 'no-store' });
    expect(response.body).toEqual({
      access_token: expect.any(String),
      issued_token_type: TOKEN_TYPE_JWT,
      token_type: 'Bearer',
      expires_in: 300,
    });

    const token = response.body.access_token as string;
    const { payload, protectedHeader } = await verifyMinted(service, token);
    expect(protectedHeader).toMatchObject({ alg: 'ES256', kid: service.jwks().keys[0]!.kid });
    expect(payload).toEqual({
      iss: STS_ISSUER,
      sub: 'alice',
      aud: STS_ISSUER,
      iat: NOW_S,
      exp: NOW_S + 300,
      jti: expect.any(String),
      act: { sub: CALLER },
    });
  });

  it('expires after the ttl', async () => {
    const service = await sts({ tokenTtlMs: 60_000 });
    const token = (await service.exchange(exchangeOf(alice), CALLER)).body.access_token as string;
    expect((await verifyMinted(service, token, NOW + 59_000)).payload.sub).toBe('alice');
    await expect(verifyMinted(service, token, NOW + 60_000)).rejects.toThrow(/exp/);
  });

  it('is accepted by an upstream that trusts only the STS issuer, which refuses the original IdP token', async () => {
    const service = await sts();
    const minted = (await service.exchange(exchangeOf(alice), CALLER)).body.access_token as string;
    const upstream = new JwtAuthenticator(
      { mode: 'Strict', providers: [{ issuer: STS_ISSUER, audiences: [STS_ISSUER], jwks: { inline: JSON.stringify(service.jwks()) } }] },
      { fetchJwks: noFetch, now: () => NOW },
    );
    expect(await upstream.authenticate(`Bearer ${minted}`)).toMatchObject({ ok: true, issuer: STS_ISSUER, claims: { sub: 'alice', act: { sub: CALLER } } });
    expect(await upstream.authenticate(`Bearer ${alice}`)).toEqual({ ok: false, status: 401, reason: JWT_REJECTIONS.unknownIssuer });
  });

  it('serves its keys to an upstream fetching /.well-known/jwks.json', async () => {
    const service = await sts();
    let fetched = 0;
    const upstream = new JwtAuthenticator(
      { providers: [{ issuer: STS_ISSUER, jwks: { remote: { url: `http://${STS_ISSUER}/.well-known/jwks.json` } } }] },
      { fetchJwks: async () => (fetched++, service.jwks()), now: () => NOW },
    );
    const minted = (await service.exchange(exchangeOf(bob), CALLER)).body.access_token as string;
    expect(await upstream.authenticate(`Bearer ${minted}`)).toMatchObject({ ok: true, claims: { sub: 'bob' } });
    expect(fetched).toBe(1);
  });

  it('publishes only the public key', async () => {
    const service = await sts();
    const [published] = service.jwks().keys;
    expect(published).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(published).not.toHaveProperty('d');
    expect(service.privateJwk()).toHaveProperty('d');
    expect(service.privateJwk().kid).toBe(published!.kid);
  });

  it('sets the requested audience and scope, and accepts access_token as the subject type', async () => {
    const service = await sts({ audiences: ['mcp-gateway'] });
    const response = await service.exchange(
      exchangeOf(alice, { subject_token_type: TOKEN_TYPE_ACCESS_TOKEN, audience: 'mcp-gateway', scope: 'tools:read tools:call', requested_token_type: TOKEN_TYPE_JWT }),
      CALLER,
    );
    expect(response.status).toBe(200);
    const { payload } = await verifyMinted(service, response.body.access_token as string);
    expect(payload).toMatchObject({ aud: 'mcp-gateway', scope: 'tools:read tools:call', sub: 'alice' });
  });

  it('allows the STS issuer as audience even with an allowlist', async () => {
    const service = await sts({ audiences: ['mcp-gateway'] });
    expect((await service.exchange(exchangeOf(alice, { audience: STS_ISSUER }), CALLER)).status).toBe(200);
  });

  it('omits act when the gateway knows no caller', async () => {
    const service = await sts();
    for (const caller of [undefined, '']) {
      const { payload } = await verifyMinted(service, (await service.exchange(exchangeOf(alice), caller)).body.access_token as string);
      expect(payload).not.toHaveProperty('act');
    }
  });

  it('nests an earlier actor beneath the caller (RFC 8693 §4.1)', async () => {
    const service = await sts();
    const delegated = await userToken({ act: { sub: 'spiffe://cluster.local/ns/ai-agents/sa/planner' } });
    const { payload } = await verifyMinted(service, (await service.exchange(exchangeOf(delegated), CALLER)).body.access_token as string);
    expect(payload.act).toEqual({ sub: CALLER, act: { sub: 'spiffe://cluster.local/ns/ai-agents/sa/planner' } });
  });

  it('honours may_act (RFC 8693 §4.4)', async () => {
    const service = await sts();
    const onlyDevUi = await userToken({ may_act: { sub: CALLER } });
    expect((await service.exchange(exchangeOf(onlyDevUi), CALLER)).status).toBe(200);
    const refused = await service.exchange(exchangeOf(onlyDevUi), 'spiffe://cluster.local/ns/ai-agents/sa/other');
    expect(refused).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect((await service.exchange(exchangeOf(onlyDevUi))).body.error).toBe('invalid_grant');
  });

  it('never outlives the subject token', async () => {
    const service = await sts();
    const shortLived = await userToken({ exp: NOW_S + 60 });
    const response = await service.exchange(exchangeOf(shortLived), CALLER);
    expect(response.body.expires_in).toBe(60);
    expect((await verifyMinted(service, response.body.access_token as string)).payload.exp).toBe(NOW_S + 60);
    // Within the validator's clock-skew window the subject is still valid, but there is no lifetime left to give.
    const justExpired = await userToken({ exp: NOW_S - 5 });
    expect((await service.exchange(exchangeOf(justExpired), CALLER)).body).toMatchObject({ error: 'invalid_grant' });
  });

  it('mints a fresh jti each time', async () => {
    const service = await sts();
    const jtis = new Set<unknown>();
    for (let i = 0; i < 3; i++) {
      jtis.add((await verifyMinted(service, (await service.exchange(exchangeOf(alice), CALLER)).body.access_token as string)).payload.jti);
    }
    expect(jtis.size).toBe(3);
  });
});

describe('errors', () => {
  const unsigned = `${base64url.encode('{"alg":"none"}')}.${base64url.encode(JSON.stringify({ sub: 'alice', iss: IDP_ISSUER, aud: IDP_AUDIENCE, exp: NOW_S + 60 }))}.`;
  const cases = async () => [
    { name: 'wrong grant type', form: form({ grant_type: 'authorization_code', code: 'x' }), error: 'unsupported_grant_type' },
    { name: 'empty body', form: '', error: 'invalid_request' },
    { name: 'missing grant_type', form: form({ subject_token: alice, subject_token_type: TOKEN_TYPE_JWT }), error: 'invalid_request' },
    { name: 'missing subject_token', form: form({ grant_type: GRANT_TYPE_TOKEN_EXCHANGE, subject_token_type: TOKEN_TYPE_JWT }), error: 'invalid_request' },
    { name: 'missing subject_token_type', form: form({ grant_type: GRANT_TYPE_TOKEN_EXCHANGE, subject_token: alice }), error: 'invalid_request' },
    { name: 'SAML subject_token_type', form: exchangeOf(alice, { subject_token_type: 'urn:ietf:params:oauth:token-type:saml2' }), error: 'invalid_request' },
    { name: 'id_token requested', form: exchangeOf(alice, { requested_token_type: 'urn:ietf:params:oauth:token-type:id_token' }), error: 'invalid_request' },
    { name: 'duplicate subject_token', form: form({ grant_type: GRANT_TYPE_TOKEN_EXCHANGE, subject_token: [alice, bob], subject_token_type: TOKEN_TYPE_JWT }), error: 'invalid_request' },
    { name: 'duplicate grant_type', form: `grant_type=${encodeURIComponent(GRANT_TYPE_TOKEN_EXCHANGE)}&${exchangeOf(alice)}`, error: 'invalid_request' },
    { name: 'duplicate audience', form: exchangeOf(alice, { audience: ['mcp-gateway', 'other'] }), error: 'invalid_request' },
    { name: 'empty audience', form: exchangeOf(alice, { audience: '' }), error: 'invalid_request' },
    { name: 'actor_token', form: exchangeOf(alice, { actor_token: bob, actor_token_type: TOKEN_TYPE_JWT }), error: 'invalid_request' },
    { name: 'audience outside the allowlist', form: exchangeOf(alice, { audience: 'payments' }), error: 'invalid_target' },
    { name: 'resource', form: exchangeOf(alice, { resource: 'https://payments.example/' }), error: 'invalid_target' },
    { name: 'malformed scope', form: exchangeOf(alice, { scope: 'tools:"all"' }), error: 'invalid_scope' },
    { name: 'forged subject token', form: exchangeOf(await userToken({}, forger.privateKey)), error: 'invalid_grant', why: JWT_REJECTIONS.badSignature },
    { name: 'expired subject token', form: exchangeOf(await userToken({ exp: NOW_S - 60 })), error: 'invalid_grant', why: JWT_REJECTIONS.expired },
    { name: 'subject from another issuer', form: exchangeOf(await userToken({ iss: 'http://evil' })), error: 'invalid_grant', why: JWT_REJECTIONS.unknownIssuer },
    { name: 'unsigned subject token', form: exchangeOf(unsigned), error: 'invalid_grant', why: JWT_REJECTIONS.algorithmNotAllowed },
    { name: 'garbage subject token', form: exchangeOf('garbage'), error: 'invalid_grant', why: JWT_REJECTIONS.malformed },
    { name: 'subject token without sub', form: exchangeOf(await userToken({ sub: '' })), error: 'invalid_grant' },
  ];

  it('answers every malformed or refused request with an RFC 6749 error', async () => {
    const service = await sts({ audiences: ['mcp-gateway'] });
    for (const { name, form: body, error, why } of await cases()) {
      const response = await service.exchange(body, CALLER);
      expect({ name, status: response.status, error: response.body.error }).toEqual({ name, status: 400, error });
      expect(response.headers['cache-control']).toBe('no-store');
      const description = response.body.error_description as string;
      expect(typeof description).toBe('string');
      if (why !== undefined) expect(description).toContain(why);
      // Never echo the subject token (or any part of it) back.
      const subject = new URLSearchParams(body).get('subject_token') ?? '';
      for (const segment of subject.split('.').filter((s) => s.length > 4)) expect(description).not.toContain(segment);
    }
  });

  it('says temporarily_unavailable, not invalid_grant, when the IdP keys cannot be fetched', async () => {
    const service = await TokenExchangeService.create(
      { issuer: STS_ISSUER, subjectValidator: { issuer: IDP_ISSUER, jwks: { remote: { url: 'http://mock-idp/.well-known/jwks.json' } } } },
      { fetchJwks: () => Promise.reject(new Error('connection refused')), now: () => NOW },
    );
    const response = await service.exchange(exchangeOf(alice), CALLER);
    expect(response).toMatchObject({ status: 503, body: { error: 'temporarily_unavailable' } });
  });
});

describe('the signing key', () => {
  it('keeps tokens valid across a restart when the private JWK is handed back', async () => {
    const first = await sts();
    const token = (await first.exchange(exchangeOf(alice), CALLER)).body.access_token as string;
    const second = await sts({}, () => NOW, first.privateJwk());
    expect(second.jwks()).toEqual(first.jwks());
    expect((await verifyMinted(second, token)).payload.sub).toBe('alice');
    const again = (await second.exchange(exchangeOf(alice), CALLER)).body.access_token as string;
    expect(decodeProtectedHeader(again).kid).toBe(first.jwks().keys[0]!.kid);
    expect((await verifyMinted(first, again)).payload.sub).toBe('alice');
  });

  it('derives a kid when the JWK has none', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const service = await sts({}, () => NOW, await exportJWK(privateKey));
    expect(service.jwks().keys[0]!.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it.each([
    { name: 'an RSA key', key: async () => exportJWK((await generateKeyPair('RS256', { extractable: true })).privateKey) },
    { name: 'a public key', key: async () => exportJWK((await generateKeyPair('ES256')).publicKey) },
    { name: 'a P-384 key', key: async () => exportJWK((await generateKeyPair('ES384', { extractable: true })).privateKey) },
    {
      name: 'mismatched halves',
      key: async () => {
        const a = await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey);
        const b = await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey);
        return { ...a, d: b.d };
      },
    },
  ])('refuses $name', async ({ key }) => {
    await expect(sts({}, () => NOW, (await key()) as JsonWebKey)).rejects.toThrow(TokenExchangeConfigError);
  });

  it.each([
    { name: 'an empty issuer', spec: { issuer: '' } },
    { name: 'a sub-second ttl', spec: { tokenTtlMs: 500 } },
  ])('refuses $name', async ({ spec }) => {
    await expect(sts(spec)).rejects.toThrow(TokenExchangeConfigError);
  });
});
