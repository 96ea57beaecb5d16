// agentgateway's `jwtAuthentication` traffic policy: validate the bearer JWT of a request against the configured
// providers and decide, per mode, whether the request may continue and with which claims. Keys come inline (parsed
// once, at construction) or from a remote JWKS fetched through an injected fetcher, so this module does no I/O of its
// own and its clock is injectable.
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWSAlgorithm, type JWTPayload } from 'jose';
import { parseGoDuration } from '../../manifests/duration.ts';
import type { JwtAuthentication, JwtProvider } from '../../manifests/types.ts';

/** The policy fields, as the manifest defines them. */
export type JwtProviderSpec = JwtProvider;
export type JwtAuthenticationSpec = JwtAuthentication;

export type JwtOutcome =
  /** `claims` is absent when there was no (valid) token and the mode allows that. */
  | { ok: true; claims?: Record<string, unknown>; issuer?: string }
  /** `reason` is safe to log and to return to the client: it never contains the token or its contents. */
  | { ok: false; status: 401; reason: string };

/** Returns the parsed JWKS JSON; the gateway's fetcher goes through the service mesh. */
export interface JwksFetcher {
  (url: string): Promise<unknown>;
}

export interface JwtAuthenticatorOptions {
  fetchJwks: JwksFetcher;
  /** Milliseconds since the epoch. */
  now?: () => number;
}

/** A policy that can never work as written; thrown at construction so a bad policy fails when applied, not per request. */
export class JwtConfigError extends Error {
  override readonly name = 'JwtConfigError';
}

/**
 * Why a token was refused. Fixed texts (plus `missing <claim> claim`, where the claim name comes from our own
 * validation options), so nothing the client sent is ever echoed.
 */
export const JWT_REJECTIONS = {
  missingToken: 'missing bearer token',
  malformed: 'malformed token',
  algorithmNotAllowed: 'algorithm not allowed',
  unknownIssuer: 'unknown issuer',
  unknownKey: 'unknown signing key',
  ambiguousKey: 'ambiguous signing key',
  unusableKey: 'unusable signing key',
  badSignature: 'invalid signature',
  expired: 'token expired',
  notYetValid: 'token not yet valid',
  wrongAudience: 'audience not allowed',
  invalidClaims: 'invalid claims',
  jwksUnavailable: 'jwks unavailable',
  unverifiable: 'token could not be verified',
} as const;

/**
 * Asymmetric signatures only: with HMAC the verification key is the signing key, and an RSA public key must never be
 * usable as an HMAC secret; `none` is no signature at all. Ed25519 is the fully specified name of EdDSA (RFC 9864).
 */
export const ALLOWED_ALGORITHMS: readonly JWSAlgorithm[] = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
];

/** Seconds of clock skew tolerated on exp / nbf, for clocks that differ between the IdP and the gateway. */
const CLOCK_SKEW_SECONDS = 30;
const DEFAULT_CACHE_MS = 5 * 60_000;
/** The least time between two fetches of a JWKS outside its normal expiry (unknown kid, or after a failure). */
export const MIN_REFETCH_INTERVAL_MS = 10_000;

/** The token of a `Bearer` Authorization header; any other scheme, or an empty token, is no token (as agentgateway). */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const trimmed = authorization.trim();
  const space = trimmed.indexOf(' ');
  if (space < 0 || trimmed.slice(0, space).toLowerCase() !== 'bearer') return undefined;
  const token = trimmed.slice(space + 1).trim();
  return token === '' ? undefined : token;
}

interface KeySet {
  readonly resolve: ReturnType<typeof createLocalJWKSet>;
  readonly kids: ReadonlySet<string>;
}

/** A key set from parsed JWKS JSON, or why it is not one. */
function keySetFrom(jwks: unknown): KeySet | string {
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) {
    return 'is not a JWKS (an object with a "keys" array)';
  }
  const keys = (jwks as { keys: unknown[] }).keys;
  if (keys.length === 0) return 'has no keys';
  try {
    const resolve = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
    const kids = new Set<string>();
    for (const key of keys) {
      const kid = (key as { kid?: unknown }).kid;
      if (typeof kid === 'string') kids.add(kid);
    }
    return { resolve, kids };
  } catch {
    return 'is malformed';
  }
}

/** Where a provider's keys come from; `undefined` means the keys cannot be had right now. */
interface KeySource {
  current(): Promise<KeySet | undefined>;
  /** Fresh keys after a token named a kid the current set lacks; 'throttled' when it is too soon to ask again. */
  refetch(): Promise<KeySet | undefined | 'throttled'>;
}

function inlineSource(issuer: string, text: string): KeySource {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new JwtConfigError(`provider ${issuer}: inline jwks is not valid JSON`);
  }
  const keys = keySetFrom(parsed);
  if (typeof keys === 'string') throw new JwtConfigError(`provider ${issuer}: inline jwks ${keys}`);
  return { current: () => Promise.resolve(keys), refetch: () => Promise.resolve('throttled') };
}

/**
 * A remote JWKS cached for its cache duration. Outside that schedule it is fetched again at most once per
 * MIN_REFETCH_INTERVAL_MS: when a token names an unknown kid (the IdP rotated keys), and after a failed fetch (so a
 * down IdP does not get one fetch per request). Stale keys are never used once expired: a rotation may have removed
 * a compromised key.
 */
class RemoteSource implements KeySource {
  private keys: KeySet | undefined;
  private fetchedAt = 0;
  private attemptedAt = Number.NEGATIVE_INFINITY;
  private lastFailed = false;
  private inflight: Promise<KeySet | undefined> | undefined;

  constructor(
    private readonly url: string,
    private readonly cacheMs: number,
    private readonly fetchJwks: JwksFetcher,
    private readonly now: () => number,
  ) {}

  current(): Promise<KeySet | undefined> {
    const now = this.now();
    if (this.keys !== undefined && now - this.fetchedAt < this.cacheMs) return Promise.resolve(this.keys);
    if (this.lastFailed && now - this.attemptedAt < MIN_REFETCH_INTERVAL_MS) return Promise.resolve(undefined);
    return this.fetch();
  }

  refetch(): Promise<KeySet | undefined | 'throttled'> {
    if (this.inflight !== undefined) return this.inflight;
    if (this.now() - this.attemptedAt < MIN_REFETCH_INTERVAL_MS) return Promise.resolve('throttled');
    return this.fetch();
  }

  /** One fetch at a time: concurrent requests share it. */
  private fetch(): Promise<KeySet | undefined> {
    if (this.inflight !== undefined) return this.inflight;
    const pending = this.load().finally(() => {
      this.inflight = undefined;
    });
    this.inflight = pending;
    return pending;
  }

  /** A failure (thrown, rejected, or not a JWKS) is a value, and keeps any still-fresh keys. */
  private async load(): Promise<KeySet | undefined> {
    this.attemptedAt = this.now();
    let keys: KeySet | string;
    try {
      keys = keySetFrom(await this.fetchJwks(this.url));
    } catch {
      keys = 'could not be fetched';
    }
    if (typeof keys === 'string') {
      this.lastFailed = true;
      return undefined;
    }
    this.lastFailed = false;
    this.keys = keys;
    this.fetchedAt = this.attemptedAt;
    return keys;
  }
}

interface Provider {
  readonly issuer: string;
  readonly audiences: string[] | undefined;
  readonly keys: KeySource;
}

function compileProvider(spec: JwtProviderSpec, options: Required<JwtAuthenticatorOptions>): Provider {
  const { issuer } = spec;
  if (typeof issuer !== 'string' || issuer === '') throw new JwtConfigError('provider issuer is empty');
  // The CRD requires at least one audience when the field is set; an empty list would refuse every token.
  if (spec.audiences !== undefined && spec.audiences.length === 0) {
    throw new JwtConfigError(`provider ${issuer}: audiences is empty; omit it to accept any audience`);
  }
  if ('inline' in spec.jwks) return { issuer, audiences: spec.audiences, keys: inlineSource(issuer, spec.jwks.inline) };
  const { url, cacheDuration } = spec.jwks.remote;
  let parsedUrl: URL;
  try {
    parsedUrl = new URL(url);
  } catch {
    throw new JwtConfigError(`provider ${issuer}: jwks url is not a URL`);
  }
  if (parsedUrl.protocol !== 'http:' && parsedUrl.protocol !== 'https:') {
    throw new JwtConfigError(`provider ${issuer}: jwks url must be http or https`);
  }
  const cacheMs = cacheDuration === undefined ? DEFAULT_CACHE_MS : parseGoDuration(cacheDuration);
  if (cacheMs === undefined || cacheMs < 0) {
    throw new JwtConfigError(`provider ${issuer}: cacheDuration "${cacheDuration}" is not a duration like "5m"`);
  }
  return { issuer, audiences: spec.audiences, keys: new RemoteSource(url, cacheMs, options.fetchJwks, options.now) };
}

function reject(reason: string): JwtOutcome {
  return { ok: false, status: 401, reason };
}

/** The reason for a failed jose verification. */
function describeFailure(error: unknown): string {
  if (!(error instanceof errors.JOSEError)) return JWT_REJECTIONS.unverifiable;
  switch (error.code) {
    case 'ERR_JWT_EXPIRED':
      return JWT_REJECTIONS.expired;
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const { claim, reason } = error as errors.JWTClaimValidationFailed;
      if (reason === 'missing') return `missing ${claim} claim`;
      if (claim === 'aud') return JWT_REJECTIONS.wrongAudience;
      if (claim === 'iss') return JWT_REJECTIONS.unknownIssuer;
      if (claim === 'nbf') return JWT_REJECTIONS.notYetValid;
      return JWT_REJECTIONS.invalidClaims;
    }
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return JWT_REJECTIONS.badSignature;
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return JWT_REJECTIONS.unknownKey;
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return JWT_REJECTIONS.ambiguousKey;
    case 'ERR_JWKS_INVALID':
    case 'ERR_JWK_INVALID':
      return JWT_REJECTIONS.unusableKey;
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return JWT_REJECTIONS.algorithmNotAllowed;
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return JWT_REJECTIONS.malformed;
    default:
      return JWT_REJECTIONS.unverifiable;
  }
}

/** What routing needs from a token before any signature is checked; none of it is trusted until verification. */
interface Unverified {
  readonly issuer: string | undefined;
  readonly kid: string | undefined;
}

function inspect(token: string): Unverified | { rejection: string } {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let payload: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
    payload = decodeJwt(token);
  } catch {
    return { rejection: JWT_REJECTIONS.malformed };
  }
  if (typeof header.alg !== 'string') return { rejection: JWT_REJECTIONS.malformed };
  // Checked before any key lookup so `none` and HMAC fail for what they are, whatever keys are configured.
  if (!(ALLOWED_ALGORITHMS as readonly string[]).includes(header.alg)) return { rejection: JWT_REJECTIONS.algorithmNotAllowed };
  return {
    issuer: typeof payload.iss === 'string' ? payload.iss : undefined,
    kid: typeof header.kid === 'string' ? header.kid : undefined,
  };
}

export class JwtAuthenticator {
  private readonly mode: 'Strict' | 'Optional' | 'Permissive';
  private readonly providers = new Map<string, Provider>();
  private readonly now: () => number;

  constructor(spec: JwtAuthenticationSpec, options: JwtAuthenticatorOptions) {
    // The CRD defaults mode to Strict (agentgateway's own config defaults to Optional; the policy is what we mirror).
    this.mode = spec.mode ?? 'Strict';
    if (!['Strict', 'Optional', 'Permissive'].includes(this.mode)) throw new JwtConfigError(`mode "${String(this.mode)}" is not Strict, Optional or Permissive`);
    if (spec.providers.length === 0) throw new JwtConfigError('no providers');
    this.now = options.now ?? Date.now;
    const resolved = { fetchJwks: options.fetchJwks, now: this.now };
    for (const providerSpec of spec.providers) {
      // Providers are chosen by the token's iss: two with one issuer would make that choice ambiguous.
      if (this.providers.has(providerSpec.issuer)) throw new JwtConfigError(`provider ${providerSpec.issuer} is listed twice`);
      this.providers.set(providerSpec.issuer, compileProvider(providerSpec, resolved));
    }
  }

  /** `authorization` is the raw Authorization header value (or undefined). */
  async authenticate(authorization: string | undefined): Promise<JwtOutcome> {
    const token = bearerToken(authorization);
    if (token === undefined) return this.mode === 'Strict' ? reject(JWT_REJECTIONS.missingToken) : { ok: true };
    const outcome = await this.verifyToken(token);
    // Permissive never refuses: an invalid token counts as no token, so later policy sees no claims.
    if (!outcome.ok && this.mode === 'Permissive') return { ok: true };
    return outcome;
  }

  /** Validates one token whatever the mode (the token endpoint validates subject tokens this way). */
  async verifyToken(token: string): Promise<JwtOutcome> {
    const unverified = inspect(token);
    if ('rejection' in unverified) return reject(unverified.rejection);
    if (unverified.issuer === undefined) return reject('missing iss claim');
    const provider = this.providers.get(unverified.issuer);
    if (provider === undefined) return reject(JWT_REJECTIONS.unknownIssuer);

    const keys = await provider.keys.current();
    if (keys === undefined) return reject(JWT_REJECTIONS.jwksUnavailable);
    let result = await this.verifyWith(token, provider, keys);
    // A kid the cached set lacks usually means the IdP rotated keys since we fetched: look once more.
    if (!result.ok && result.reason === JWT_REJECTIONS.unknownKey && unverified.kid !== undefined && !keys.kids.has(unverified.kid)) {
      const fresh = await provider.keys.refetch();
      if (fresh === undefined) return reject(JWT_REJECTIONS.jwksUnavailable);
      if (fresh !== 'throttled') result = await this.verifyWith(token, provider, fresh);
    }
    return result;
  }

  private async verifyWith(token: string, provider: Provider, keys: KeySet): Promise<JwtOutcome> {
    try {
      const { payload } = await jwtVerify(token, keys.resolve, {
        algorithms: [...ALLOWED_ALGORITHMS],
        issuer: provider.issuer,
        ...(provider.audiences === undefined ? {} : { audience: provider.audiences }),
        clockTolerance: CLOCK_SKEW_SECONDS,
        currentDate: new Date(this.now()),
        // A token without an expiry would be valid forever, and a stolen one with it.
        requiredClaims: ['exp'],
      });
      return { ok: true, claims: payload as Record<string, unknown>, issuer: provider.issuer };
    } catch (error) {
      return reject(describeFailure(error));
    }
  }
}
