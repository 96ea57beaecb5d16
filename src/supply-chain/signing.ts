// Image signatures as cosign makes them, with node:crypto only: a "simple signing" JSON payload naming the
// image's repository and content digest, signed with ECDSA P-256 over SHA-256, the signature DER-encoded and
// base64 (what cosign stores in the `dev.cosignproject.cosign/signature` annotation of the signature layer whose
// bytes are the payload). Keys are PEM: the private key PKCS#8, the public key SPKI (what `cosign.pub` holds and
// Kyverno's `keys.publicKeys` takes). cosign encrypts its private keys with a password ("ENCRYPTED SIGSTORE
// PRIVATE KEY"); ours are unencrypted PKCS#8 files readable by their owner only (0600), like an SSH key.
//
// Signatures belong to a digest, not a tag (cosign attaches them to `sha256-<hex>.sig`): a rug-pull retags the
// vendor's reference to other bytes, and the signature of the old bytes does not follow the tag.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError, errorMessage } from '../core/errors.ts';
import { parseImageReference } from '../manifests/image-reference.ts';

/** `critical.type` of every cosign image signature payload (sigstore's `payload.CosignSignatureType`). */
export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';
/** The annotation cosign stores the signature in, on the layer holding the payload. */
export const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** One signature of one image digest, as stored beside the image. */
export interface ImageSignature {
  /** Base64 of the exact payload bytes that were signed (the simple signing JSON). */
  payload: string;
  /** Base64 of the DER-encoded ECDSA signature over the payload bytes. */
  signature: string;
  /** Which key signed, as the signer says: the first 16 hex digits of the sha256 of the public key's DER. A
   *  hint for messages only; verification never trusts it. */
  keyId: string;
  /** ISO 8601 time of signing; informational (cosign keeps it out of the signed payload too). */
  signedAt?: string;
}

export type SignatureVerification = { ok: true } | { ok: false; reason: string; problem: SignatureProblem };

/**
 * Why a signature was refused, in the order checks run: the key is unusable; the signature or payload is not
 * base64; the signature is not one of the payload by this key (another key, or altered bytes); the signed payload
 * is not a simple signing document; it signs another digest (the signature was copied from other bytes); another
 * repository; another type.
 */
export type SignatureProblem = 'bad-key' | 'encoding' | 'bad-signature' | 'malformed' | 'digest-mismatch' | 'identity-mismatch' | 'wrong-type';

export interface SigningKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

// --- The payload ------------------------------------------------------------------------------------------

/**
 * The repository as cosign names it in `docker-reference`: go-containerregistry's `Repository.Name()`, the
 * registry and the repository without tag or digest, with Docker Hub's defaults filled in (registry
 * `index.docker.io`, which `docker.io` is rewritten to, and `library/` before one-component names). So
 * `acme-fx/currency-converter:1.0.0` signs as `index.docker.io/acme-fx/currency-converter`, byte for byte what
 * `cosign sign` writes for that image; `localhost:5000/x:1` stays `localhost:5000/x`.
 */
export function cosignDockerReference(reference: string): string {
  const parsed = parseImageReference(reference);
  if (parsed.problem !== undefined) throw new UserError(`"${reference}" ${parsed.problem}`);
  const repository = parsed.reference.repository;
  const slash = repository.indexOf('/');
  const first = slash === -1 ? '' : repository.slice(0, slash);
  const hasRegistry = first.includes('.') || first.includes(':') || first === 'localhost';
  const registry = hasRegistry ? (first === 'docker.io' ? 'index.docker.io' : first) : 'index.docker.io';
  const path = hasRegistry ? repository.slice(slash + 1) : repository;
  return `${registry}/${registry === 'index.docker.io' && !path.includes('/') ? `library/${path}` : path}`;
}

/**
 * The cosign simple signing payload for an image (containers-signature(5) JSON, as sigstore's
 * `payload.SimpleContainerImage`): fields in Go's struct order, no whitespace, `optional` null when there are no
 * annotations — the exact bytes `cosign sign` signs. `dockerReference` may carry a tag or digest; they are dropped.
 */
export function simpleSigningPayload(dockerReference: string, digest: string): string {
  checkDigest(digest);
  const payload = {
    critical: {
      identity: { 'docker-reference': cosignDockerReference(dockerReference) },
      image: { 'docker-manifest-digest': digest },
      type: COSIGN_SIGNATURE_TYPE,
    },
    optional: null,
  };
  // JSON.stringify differs from Go's json.Marshal only in escaping <, > and &, which image references cannot hold.
  return JSON.stringify(payload);
}

// --- Keys -------------------------------------------------------------------------------------------------

/** A new ECDSA P-256 key pair (cosign generate-key-pair's algorithm), PEM-encoded. */
export function generateSigningKey(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKeyPemOf(publicKey),
  };
}

/** The first 16 hex digits of the sha256 of a public key's SPKI DER: short enough to read, stable per key. */
export function keyIdOf(key: string | KeyObject): string {
  const object = typeof key === 'string' ? createPublicKey(key) : key.type === 'private' ? createPublicKey(key) : key;
  const der = object.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

/** SPKI PEM, `-----BEGIN PUBLIC KEY-----`: what cosign.pub holds. */
function publicKeyPemOf(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

function loadPrivateKey(privateKeyPem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (error) {
    throw new UserError(`not a PEM private key: ${errorMessage(error)}`);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new UserError(`signing needs an ECDSA P-256 key (cosign's kind); got ${describeKey(key)}`);
  }
  return key;
}

function describeKey(key: KeyObject): string {
  const type = key.asymmetricKeyType ?? 'unknown';
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return `a key of type ${type}${curve === undefined ? '' : ` on curve ${curve}`}`;
}

// --- Sign and verify --------------------------------------------------------------------------------------

/** Signs an image digest as cosign does; `dockerReference` names the image (tag or digest allowed, ignored). */
export function signImage(dockerReference: string, digest: string, privateKeyPem: string, signedAt: Date = new Date()): ImageSignature {
  checkDigest(digest);
  const written = parseImageReference(dockerReference).reference?.digest;
  if (written !== undefined && written !== digest) throw new UserError(`cannot sign ${digest} as ${dockerReference}: the reference names another digest`);
  const key = loadPrivateKey(privateKeyPem);
  const payload = Buffer.from(simpleSigningPayload(dockerReference, digest), 'utf8');
  const signature = sign('sha256', payload, { key, dsaEncoding: 'der' });
  return { payload: payload.toString('base64'), signature: signature.toString('base64'), keyId: keyIdOf(key), signedAt: signedAt.toISOString() };
}

/**
 * Checks, in this order, that `sig` is a signature by `publicKeyPem` over its exact payload bytes, that the payload
 * is a simple signing document for `image.digest` (a valid signature of other bytes says which digest it is for),
 * for the image's repository (compared in cosign's normal form, so `docker.io/x/y` and `x/y` are one repository),
 * and of cosign's type. Never throws: anything wrong is a reason.
 */
export function verifyImageSignature(sig: ImageSignature, image: { dockerReference: string; digest: string }, publicKeyPem: string): SignatureVerification {
  const fail = (problem: SignatureProblem, reason: string): SignatureVerification => ({ ok: false, problem, reason });
  let key: KeyObject;
  let keyId: string;
  try {
    key = createPublicKey(publicKeyPem);
    keyId = keyIdOf(key);
  } catch (error) {
    return fail('bad-key', `the public key does not load: ${errorMessage(error)}`);
  }

  const payload = decodeBase64(sig.payload);
  const signature = decodeBase64(sig.signature);
  if (payload === undefined || signature === undefined) return fail('encoding', `signature${sig.keyId ? ` naming key ${sig.keyId}` : ''} is not base64-encoded`);
  let valid = false;
  try {
    valid = verify('sha256', payload, { key, dsaEncoding: 'der' }, signature);
  } catch {
    valid = false;
  }
  if (!valid) {
    const claimed = sig.keyId === keyId ? 'it names this key, so its payload or signature was altered' : `it names key ${sig.keyId || '(none)'}`;
    return fail('bad-signature', `signature does not verify with key ${keyId} (${claimed})`);
  }

  const critical = parsePayload(payload);
  if (critical === undefined) return fail('malformed', `signed payload by key ${keyId} is not a cosign simple signing document`);
  if (critical.image['docker-manifest-digest'] !== image.digest) {
    return fail('digest-mismatch', `signature is for digest ${critical.image['docker-manifest-digest']}, image is ${image.digest}`);
  }
  const signedRepository = critical.identity['docker-reference'];
  const expected = normalRepository(image.dockerReference);
  if (expected === undefined) return fail('identity-mismatch', `image reference "${image.dockerReference}" is not valid, so no signature can be for it`);
  if (normalRepository(signedRepository) !== expected) return fail('identity-mismatch', `signature is for repository ${signedRepository}, image is ${expected}`);
  if (critical.type !== COSIGN_SIGNATURE_TYPE) return fail('wrong-type', `signature payload has type "${critical.type}", not "${COSIGN_SIGNATURE_TYPE}"`);
  return { ok: true };
}

function normalRepository(reference: string): string | undefined {
  try {
    return cosignDockerReference(reference);
  } catch {
    return undefined;
  }
}

const criticalSchema = z.object({
  identity: z.object({ 'docker-reference': z.string() }),
  image: z.object({ 'docker-manifest-digest': z.string() }),
  type: z.string(),
});

function parsePayload(bytes: Buffer): z.output<typeof criticalSchema> | undefined {
  let document: unknown;
  try {
    document = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = z.object({ critical: criticalSchema }).safeParse(document);
  return parsed.success ? parsed.data.critical : undefined;
}

/** Strict base64: Buffer.from would silently skip characters that are not base64. */
function decodeBase64(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || value === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(value) || value.length % 4 !== 0) return undefined;
  return Buffer.from(value, 'base64');
}

function checkDigest(digest: string): void {
  if (!DIGEST.test(digest)) throw new UserError(`"${digest}" is not an image digest (sha256: followed by 64 lower-case hex digits)`);
}

// --- Stores -----------------------------------------------------------------------------------------------

const KEY_NAME = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/;

/**
 * Named signing keys in a directory: `<name>.key` (PKCS#8 PEM, 0600) and `<name>.pub` (SPKI PEM, 0644). A key is
 * made once and then reused, so signatures made before a restart still verify after it.
 */
export class KeyStore {
  private constructor(readonly dir: string) {}

  static open(dir: string): KeyStore {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return new KeyStore(dir);
  }

  /** The key called `name`, made now if there is none. Safe against a concurrent `ensure` of the same name. */
  ensure(name: string): SigningKeyPair & { keyId: string } {
    const privateFile = this.privateFile(name);
    if (!existsSync(privateFile)) {
      const pair = generateSigningKey();
      // Written aside, then hard-linked into place: the link fails if another writer got there first, and a reader
      // never sees half a key.
      const temporary = `${privateFile}.${process.pid}.${Date.now()}.tmp`;
      writeFileSync(temporary, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
      try {
        linkSync(temporary, privateFile);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      } finally {
        unlinkSync(temporary);
      }
    }
    const privateKeyPem = this.privateKey(name);
    const publicKeyPem = publicKeyPemOf(createPublicKey(privateKeyPem));
    // The public half is derived from the private key each time, so a missing or stale .pub is rewritten.
    const publicFile = this.publicFile(name);
    if (!existsSync(publicFile) || readFileSync(publicFile, 'utf8') !== publicKeyPem) {
      writeFileSync(`${publicFile}.tmp`, publicKeyPem, { mode: 0o644 });
      chmodSync(`${publicFile}.tmp`, 0o644);
      renameSync(`${publicFile}.tmp`, publicFile);
    }
    return { privateKeyPem, publicKeyPem, keyId: keyIdOf(publicKeyPem) };
  }

  has(name: string): boolean {
    return existsSync(this.privateFile(name));
  }

  /** The public key PEM of `name` (its .pub, else derived from the private key). */
  publicKey(name: string): string {
    const publicFile = this.publicFile(name);
    if (existsSync(publicFile)) return readFileSync(publicFile, 'utf8');
    return publicKeyPemOf(createPublicKey(this.privateKey(name)));
  }

  /** The private key PEM of `name`. Refused, as ssh refuses, when the file is readable by others. */
  privateKey(name: string): string {
    const privateFile = this.privateFile(name);
    if (!existsSync(privateFile)) throw new UserError(`no signing key "${name}" in ${this.dir}`);
    const mode = statSync(privateFile).mode & 0o777;
    if ((mode & 0o077) !== 0) throw new UserError(`signing key ${privateFile} has permissions ${mode.toString(8).padStart(4, '0')}, which let others read it; run chmod 600 ${privateFile}`);
    return readFileSync(privateFile, 'utf8');
  }

  private privateFile(name: string): string {
    return join(this.dir, `${checkKeyName(name)}.key`);
  }

  private publicFile(name: string): string {
    return join(this.dir, `${checkKeyName(name)}.pub`);
  }
}

function checkKeyName(name: string): string {
  if (!KEY_NAME.test(name)) throw new UserError(`"${name}" is not a key name: lower-case letters, digits, '.', '_' and '-', starting and ending with a letter or digit`);
  return name;
}

const storedSignatures = z.array(
  z.object({ payload: z.string(), signature: z.string(), keyId: z.string(), signedAt: z.string().optional() }).transform((sig): ImageSignature => ({ payload: sig.payload, signature: sig.signature, keyId: sig.keyId, ...(sig.signedAt === undefined ? {} : { signedAt: sig.signedAt }) })),
);

/**
 * The signatures of each image digest, one JSON list per digest in `<dir>/<hex>.json`. Keyed by digest as cosign
 * attaches them: retagging a reference never carries a signature along.
 */
export class SignatureStore {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  static open(dir: string): SignatureStore {
    return new SignatureStore(dir);
  }

  /** Attaches a signature to a digest; the same signature twice is kept once. */
  add(digest: string, sig: ImageSignature): void {
    const existing = this.list(digest);
    if (existing.some((other) => other.payload === sig.payload && other.signature === sig.signature)) return;
    this.write(digest, [...existing, sig]);
  }

  /** The signatures attached to a digest, oldest first; none when nothing was attached. */
  list(digest: string): ImageSignature[] {
    const file = this.file(digest);
    if (!existsSync(file)) return [];
    let document: unknown;
    try {
      document = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new UserError(`signature file ${file} is not JSON: ${errorMessage(error)}`);
    }
    const parsed = storedSignatures.safeParse(document);
    if (!parsed.success) throw new UserError(`signature file ${file} is not a list of signatures {payload, signature, keyId, signedAt}`);
    return parsed.data;
  }

  /** Removes every signature of a digest; true when there were any. */
  remove(digest: string): boolean {
    const file = this.file(digest);
    if (!existsSync(file)) return false;
    rmSync(file);
    return true;
  }

  private write(digest: string, signatures: ImageSignature[]): void {
    // Atomic replace; concurrent writers of one digest could still lose an add (one control plane writes here).
    const file = this.file(digest);
    writeFileSync(`${file}.tmp`, `${JSON.stringify(signatures, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
  }

  private file(digest: string): string {
    checkDigest(digest);
    return join(this.dir, `${digest.slice('sha256:'.length)}.json`);
  }
}
