// The gateway's security token service (RFC 8693 token exchange, the seed's LAB 6): a workload presents a user's IdP
// token and gets back a short-lived on-behalf-of token signed by the STS, keeping the user's `sub` and naming the
// workload as the actor. Upstreams then trust one issuer (the STS) instead of every user IdP, and see who acted for
// whom. The HTTP layer is the gateway's: this takes the form body and the caller's mesh identity and returns a response
// as data.
import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK } from 'jose';
import { JWT_REJECTIONS, JwtAuthenticator, type JwksFetcher, type JwtProviderSpec } from './jwt.ts';

export const GRANT_TYPE_TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const TOKEN_TYPE_JWT = 'urn:ietf:params:oauth:token-type:jwt';
export const TOKEN_TYPE_ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

/** A JWT is also an access token, so either type names what this STS reads and issues. */
const JWT_TOKEN_TYPES: readonly string[] = [TOKEN_TYPE_JWT, TOKEN_TYPE_ACCESS_TOKEN];
const SIGNING_ALG = 'ES256';
const DEFAULT_TTL_MS = 5 * 60_000;
/** Far above any real token request; a bigger body is not one, and parsing it would only cost us. */
const MAX_FORM_LENGTH = 64 * 1024;
/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), separated by single spaces. */
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+(?: [\x21\x23-\x5B\x5D-\x7E]+)*$/;
/**
 * The parameters this endpoint reads. RFC 6749 §3.2 forbids repeating a parameter; only these are checked, because
 * unrecognised parameters must be ignored. (RFC 8693 lets `audience` repeat; one audience per token is a narrower
 * grant, so it is refused here too.)
 */
const KNOWN_PARAMETERS = [
  'grant_type', 'subject_token', 'subject_token_type', 'requested_token_type', 'audience', 'scope', 'resource', 'actor_token', 'actor_token_type',
] as const;

export interface TokenExchangeSpec {
  issuer: string;
  tokenTtlMs?: number;
  subjectValidator: JwtProviderSpec;
  /** Audiences a token may be requested for; absent means any. The STS issuer itself is always allowed. */
  audiences?: string[];
}

export interface TokenExchangeOptions {
  fetchJwks: JwksFetcher;
  /** Milliseconds since the epoch. */
  now?: () => number;
  /** An existing private JWK (ES256), to keep tokens valid across restarts. */
  signingKey?: JsonWebKey;
}

export interface TokenEndpointResponse {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** A JWK as this STS publishes it: always with its key id, so upstreams can pick it out of a rotated set. */
export type SigningJwk = JsonWebKey & { kid: string };

export class TokenExchangeConfigError extends Error {
  override readonly name = 'TokenExchangeConfigError';
}

/** RFC 6749 §5.2 error codes (plus RFC 8693's invalid_target, and temporarily_unavailable for an IdP outage). */
export type TokenErrorCode =
  | 'invalid_request'
  | 'unsupported_grant_type'
  | 'invalid_grant'
  | 'invalid_target'
  | 'invalid_scope'
  | 'temporarily_unavailable'
  | 'server_error';

interface TokenError {
  readonly error: TokenErrorCode;
  readonly description: string;
}

/** The request once it is well formed; the subject token is still unverified. */
interface ExchangeRequest {
  readonly subjectToken: string;
  readonly audience: string | undefined;
  readonly scope: string | undefined;
}

// RFC 6749 §5.1: token responses, including errors, must not be cached anywhere.
const NO_STORE = { 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache' } as const;

function failure(error: TokenErrorCode, description: string): TokenError {
  return { error, description };
}

function errorResponse({ error, description }: TokenError): TokenEndpointResponse {
  const status = error === 'temporarily_unavailable' ? 503 : error === 'server_error' ? 500 : 400;
  return { status, headers: { ...NO_STORE }, body: { error, error_description: description } };
}

/**
 * The exchange request in a form body, or what is wrong with it. Descriptions name parameters, never their values:
 * the subject token is a credential and the rest is the client's own input.
 */
export function parseExchangeRequest(form: string, allowedAudiences: readonly string[] | undefined, issuer: string): ExchangeRequest | TokenError {
  if (form.length > MAX_FORM_LENGTH) return failure('invalid_request', 'request body is too large');
  const params = new URLSearchParams(form);
  for (const name of KNOWN_PARAMETERS) {
    if (params.getAll(name).length > 1) return failure('invalid_request', `parameter ${name} is repeated`);
  }
  const grantType = params.get('grant_type');
  if (grantType === null || grantType === '') return failure('invalid_request', 'missing grant_type');
  if (grantType !== GRANT_TYPE_TOKEN_EXCHANGE) return failure('unsupported_grant_type', `grant_type must be ${GRANT_TYPE_TOKEN_EXCHANGE}`);

  const subjectToken = params.get('subject_token');
  if (subjectToken === null || subjectToken === '') return failure('invalid_request', 'missing subject_token');
  const subjectTokenType = params.get('subject_token_type');
  if (subjectTokenType === null || subjectTokenType === '') return failure('invalid_request', 'missing subject_token_type');
  if (!JWT_TOKEN_TYPES.includes(subjectTokenType)) return failure('invalid_request', `subject_token_type must be ${TOKEN_TYPE_JWT} or ${TOKEN_TYPE_ACCESS_TOKEN}`);
  const requested = params.get('requested_token_type');
  if (requested !== null && !JWT_TOKEN_TYPES.includes(requested)) return failure('invalid_request', `requested_token_type must be ${TOKEN_TYPE_JWT} or ${TOKEN_TYPE_ACCESS_TOKEN}`);
  // The actor is the mesh identity the gateway authenticated; a self-asserted actor token could only contradict it.
  if (params.has('actor_token') || params.has('actor_token_type')) {
    return failure('invalid_request', 'actor_token is not supported: the caller is identified by its mesh identity');
  }
  if (params.has('resource')) return failure('invalid_target', 'resource is not supported; use audience');

  const audience = params.get('audience') ?? undefined;
  if (audience === '') return failure('invalid_request', 'audience is empty');
  if (audience !== undefined && audience !== issuer && allowedAudiences !== undefined && !allowedAudiences.includes(audience)) {
    return failure('invalid_target', 'audience is not allowed');
  }
  const scope = params.get('scope') ?? undefined;
  if (scope !== undefined && !SCOPE.test(scope)) return failure('invalid_scope', 'scope is malformed');
  return { subjectToken, audience, scope };
}

/** What the minted token says, from the verified subject claims; or why the subject may not be exchanged. */
function delegatedClaims(subject: Record<string, unknown>, caller: string | undefined): { sub: string; exp: number; act?: Record<string, unknown> } | TokenError {
  const { sub, exp } = subject;
  if (typeof sub !== 'string' || sub === '') return failure('invalid_grant', 'subject token has no sub claim');
  if (typeof exp !== 'number') return failure('invalid_grant', 'subject token has no exp claim');
  // RFC 8693 §4.4: a subject token naming who may act for it binds the exchange to that actor.
  const mayAct = subject.may_act;
  if (typeof mayAct === 'object' && mayAct !== null && typeof (mayAct as { sub?: unknown }).sub === 'string') {
    if (caller !== (mayAct as { sub: string }).sub) return failure('invalid_grant', 'the caller may not act for this subject');
  }
  if (caller === undefined) return { sub, exp };
  // RFC 8693 §4.1: the current actor at the top, earlier actors nested beneath it.
  const prior = subject.act;
  const act = typeof prior === 'object' && prior !== null && !Array.isArray(prior) ? { sub: caller, act: prior as Record<string, unknown> } : { sub: caller };
  return { sub, exp, act };
}

interface SigningKey {
  readonly privateKey: CryptoKey;
  readonly privateJwk: SigningJwk;
  readonly publicJwk: SigningJwk;
}

function describeKey(jwk: JWK, kid: string): SigningJwk {
  return { ...jwk, kid, alg: SIGNING_ALG, use: 'sig' } as SigningJwk;
}

async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  // The RFC 7638 thumbprint: a stable kid derived from the key itself, so a reloaded key keeps it.
  const kid = await calculateJwkThumbprint(publicJwk);
  return { privateKey, privateJwk: describeKey(await exportJWK(privateKey), kid), publicJwk: describeKey(publicJwk, kid) };
}

async function importSigningKey(jwk: JsonWebKey & { kid?: unknown }): Promise<SigningKey> {
  const { kty, crv, x, y, d, alg } = jwk;
  if (kty !== 'EC' || crv !== 'P-256' || typeof x !== 'string' || typeof y !== 'string') {
    throw new TokenExchangeConfigError('signingKey must be an EC P-256 JWK (ES256)');
  }
  if (typeof d !== 'string') throw new TokenExchangeConfigError('signingKey must be a private JWK (it has no "d")');
  if (alg !== undefined && alg !== SIGNING_ALG) throw new TokenExchangeConfigError(`signingKey is for ${alg}, not ${SIGNING_ALG}`);
  const publicJwk: JWK = { kty, crv, x, y };
  let privateKey: CryptoKey;
  let publicKey: CryptoKey;
  try {
    privateKey = (await importJWK({ ...publicJwk, d }, SIGNING_ALG)) as CryptoKey;
    publicKey = (await importJWK(publicJwk, SIGNING_ALG)) as CryptoKey;
  } catch {
    throw new TokenExchangeConfigError('signingKey is not a valid EC P-256 key');
  }
  // A private half that does not match its public half would mint tokens nobody can verify: find out now.
  try {
    await jwtVerify(await new SignJWT({}).setProtectedHeader({ alg: SIGNING_ALG }).sign(privateKey), publicKey);
  } catch {
    throw new TokenExchangeConfigError('signingKey private and public parts do not match');
  }
  const kid = typeof jwk.kid === 'string' && jwk.kid !== '' ? jwk.kid : await calculateJwkThumbprint(publicJwk);
  return { privateKey, privateJwk: describeKey({ ...publicJwk, d }, kid), publicJwk: describeKey(publicJwk, kid) };
}

export class TokenExchangeService {
  private constructor(
    private readonly spec: TokenExchangeSpec,
    private readonly ttlSeconds: number,
    private readonly validator: JwtAuthenticator,
    private readonly key: SigningKey,
    private readonly now: () => number,
  ) {}

  static async create(spec: TokenExchangeSpec, options: TokenExchangeOptions): Promise<TokenExchangeService> {
    if (typeof spec.issuer !== 'string' || spec.issuer === '') throw new TokenExchangeConfigError('issuer is empty');
    const ttlMs = spec.tokenTtlMs ?? DEFAULT_TTL_MS;
    // Whole seconds, because exp is; a sub-second ttl would mint tokens that are already expired.
    if (!Number.isFinite(ttlMs) || ttlMs < 1000) throw new TokenExchangeConfigError('tokenTtlMs must be at least 1000');
    if (spec.audiences !== undefined && spec.audiences.some((audience) => audience === '')) {
      throw new TokenExchangeConfigError('audiences contains an empty audience');
    }
    const now = options.now ?? Date.now;
    // Subject tokens must be valid, always: an exchange without one has nothing to exchange.
    const validator = new JwtAuthenticator({ mode: 'Strict', providers: [spec.subjectValidator] }, { fetchJwks: options.fetchJwks, now });
    const key = options.signingKey === undefined ? await generateSigningKey() : await importSigningKey(options.signingKey);
    return new TokenExchangeService(spec, Math.floor(ttlMs / 1000), validator, key, now);
  }

  /** The public JWKS upstreams use to verify minted tokens (serve at /.well-known/jwks.json). */
  jwks(): { keys: SigningJwk[] } {
    return { keys: [{ ...this.key.publicJwk }] };
  }

  /** The signing key, for whoever persists it across restarts. Never serve this. */
  privateJwk(): SigningJwk {
    return { ...this.key.privateJwk };
  }

  /**
   * Handles one token request. `form` is the application/x-www-form-urlencoded body; `caller` is the mesh identity
   * (SPIFFE id) of the workload that sent it, as the gateway authenticated it.
   */
  async exchange(form: string, caller?: string): Promise<TokenEndpointResponse> {
    const request = parseExchangeRequest(form, this.spec.audiences, this.spec.issuer);
    if ('error' in request) return errorResponse(request);

    const verified = await this.validator.verifyToken(request.subjectToken);
    if (!verified.ok) {
      // The IdP being unreachable says nothing about the user's token: tell the client to retry, not to re-login.
      if (verified.reason === JWT_REJECTIONS.jwksUnavailable) {
        return errorResponse(failure('temporarily_unavailable', 'the subject token issuer keys are unavailable; retry later'));
      }
      return errorResponse(failure('invalid_grant', `subject token rejected: ${verified.reason}`));
    }
    const delegated = delegatedClaims(verified.claims ?? {}, caller === '' ? undefined : caller);
    if ('error' in delegated) return errorResponse(delegated);

    const issuedAt = Math.floor(this.now() / 1000);
    // An exchanged token never outlives the token it came from: exchange must not extend a session.
    const expiresAt = Math.min(issuedAt + this.ttlSeconds, delegated.exp);
    if (expiresAt <= issuedAt) return errorResponse(failure('invalid_grant', `subject token rejected: ${JWT_REJECTIONS.expired}`));

    let accessToken: string;
    try {
      accessToken = await new SignJWT({
        ...(request.scope === undefined ? {} : { scope: request.scope }),
        ...(delegated.act === undefined ? {} : { act: delegated.act }),
      })
        .setProtectedHeader({ alg: SIGNING_ALG, kid: this.key.publicJwk.kid, typ: 'JWT' })
        .setIssuer(this.spec.issuer)
        .setSubject(delegated.sub)
        .setAudience(request.audience ?? this.spec.issuer)
        .setIssuedAt(issuedAt)
        .setExpirationTime(expiresAt)
        .setJti(randomUUID())
        .sign(this.key.privateKey);
    } catch {
      return errorResponse(failure('server_error', 'the token could not be signed'));
    }
    return {
      status: 200,
      headers: { ...NO_STORE },
      body: { access_token: accessToken, issued_token_type: TOKEN_TYPE_JWT, token_type: 'Bearer', expires_in: expiresAt - issuedAt },
    };
  }
}
