import { createHash, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.ts';
import {
  COSIGN_SIGNATURE_TYPE,
  KeyStore,
  SignatureStore,
  cosignDockerReference,
  generateSigningKey,
  keyIdOf,
  signImage,
  simpleSigningPayload,
  verifyImageSignature,
  type ImageSignature,
  type SigningKeyPair,
} from './signing.ts';

const VENDOR_IMAGE = 'acme-fx/currency-converter:1.0.0';
const CLEAN = `sha256:${'c'.repeat(64)}`;
const RUGPULL = `sha256:${'e'.repeat(64)}`;
const at = (digest: string) => ({ dockerReference: VENDOR_IMAGE, digest });

let bank: SigningKeyPair;
let attacker: SigningKeyPair;
beforeAll(() => {
  bank = generateSigningKey();
  attacker = generateSigningKey();
});

const directories: string[] = [];
function temporaryDirectory(): string {
  const dir = mkdtempSync(join(tmpdir(), 'trustusbank-signing-'));
  directories.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of directories.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const decoded = (sig: ImageSignature) => Buffer.from(sig.payload, 'base64').toString('utf8');
const reencoded = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const mode = (file: string) => statSync(file).mode & 0o777;

describe('simpleSigningPayload', () => {
  it("is cosign's payload byte for byte: Go's field order, no spaces, optional null", () => {
    expect(simpleSigningPayload(VENDOR_IMAGE, CLEAN)).toBe(
      `{"critical":{"identity":{"docker-reference":"index.docker.io/acme-fx/currency-converter"},"image":{"docker-manifest-digest":"${CLEAN}"},"type":"cosign container image signature"},"optional":null}`,
    );
  });

  it.each([
    ['acme-fx/currency-converter:1.0.0', 'index.docker.io/acme-fx/currency-converter'],
    ['acme-fx/currency-converter', 'index.docker.io/acme-fx/currency-converter'],
    [`acme-fx/currency-converter:1.0.0@${CLEAN}`, 'index.docker.io/acme-fx/currency-converter'],
    ['docker.io/acme-fx/currency-converter:1.0.0', 'index.docker.io/acme-fx/currency-converter'],
    ['index.docker.io/acme-fx/currency-converter', 'index.docker.io/acme-fx/currency-converter'],
    ['nginx:1.27', 'index.docker.io/library/nginx'],
    ['ghcr.io/trustusbank/account-mcp:1.0.0', 'ghcr.io/trustusbank/account-mcp'],
    ['localhost:5000/acme-fx/currency-converter:1.0.0', 'localhost:5000/acme-fx/currency-converter'],
    ['localhost/x', 'localhost/x'],
  ])('names %s as the repository %s (go-containerregistry Repository.Name, what cosign signs)', (reference, repository) => {
    expect(cosignDockerReference(reference)).toBe(repository);
    expect(JSON.parse(simpleSigningPayload(reference, CLEAN)).critical.identity['docker-reference']).toBe(repository);
  });

  it('refuses what is not a digest or not an image reference', () => {
    expect(() => simpleSigningPayload(VENDOR_IMAGE, 'sha256:abc')).toThrow(UserError);
    expect(() => simpleSigningPayload(VENDOR_IMAGE, CLEAN.toUpperCase())).toThrow('is not an image digest');
    expect(() => simpleSigningPayload('Acme/X', CLEAN)).toThrow(UserError);
  });
});

describe('keys', () => {
  it('are ECDSA P-256 in PEM: PKCS#8 private, SPKI public (cosign.pub)', () => {
    const pair = generateSigningKey();
    expect(pair.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
    expect(pair.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n$/);
    const key = createPublicKey(pair.publicKeyPem);
    expect(key.asymmetricKeyType).toBe('ec');
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('have an id: the first 16 hex digits of the sha256 of the public key DER, the same from either half', () => {
    const der = createPublicKey(bank.publicKeyPem).export({ type: 'spki', format: 'der' });
    const expected = createHash('sha256').update(der).digest('hex').slice(0, 16);
    expect(keyIdOf(bank.publicKeyPem)).toBe(expected);
    expect(keyIdOf(bank.privateKeyPem)).toBe(expected);
    expect(keyIdOf(attacker.publicKeyPem)).not.toBe(expected);
  });
});

describe('signImage and verifyImageSignature', () => {
  it('round-trip: the payload names the image, the key id is the signer', () => {
    const signedAt = new Date('2026-03-01T12:00:00Z');
    const sig = signImage(VENDOR_IMAGE, CLEAN, bank.privateKeyPem, signedAt);
    expect(sig).toEqual({ payload: expect.any(String), signature: expect.any(String), keyId: keyIdOf(bank.publicKeyPem), signedAt: '2026-03-01T12:00:00.000Z' });
    expect(decoded(sig)).toBe(simpleSigningPayload(VENDOR_IMAGE, CLEAN));
    expect(verifyImageSignature(sig, at(CLEAN), bank.publicKeyPem)).toEqual({ ok: true });
  });

  it('makes signatures any cosign-style verifier accepts: ECDSA over SHA-256 of the payload bytes, DER, base64', () => {
    const sig = signImage(VENDOR_IMAGE, CLEAN, bank.privateKeyPem);
    const payloadBytes = Buffer.from(sig.payload, 'base64');
    const signatureDer = Buffer.from(sig.signature, 'base64');
    expect(signatureDer[0]).toBe(0x30); // an ASN.1 SEQUENCE of r and s, not the raw 64-byte r||s
    expect(verify('sha256', payloadBytes, createPublicKey(bank.publicKeyPem), signatureDer)).toBe(true);
    expect(verify('sha256', payloadBytes, { key: createPublicKey(bank.publicKeyPem), dsaEncoding: 'der' }, signatureDer)).toBe(true);
    expect(verify('sha256', Buffer.from(simpleSigningPayload(VENDOR_IMAGE, RUGPULL)), createPublicKey(bank.publicKeyPem), signatureDer)).toBe(false);
  });

  it('verifies a signature made outside this module over the same payload bytes (as cosign would make it)', () => {
    const payload = Buffer.from(simpleSigningPayload(`docker.io/${VENDOR_IMAGE}`, CLEAN));
    const signature = sign('sha256', payload, bank.privateKeyPem);
    const sig = { payload: payload.toString('base64'), signature: signature.toString('base64'), keyId: keyIdOf(bank.publicKeyPem) };
    expect(verifyImageSignature(sig, at(CLEAN), bank.publicKeyPem)).toEqual({ ok: true });
  });

  it('accepts the repository however the image reference spells it', () => {
    const sig = signImage(VENDOR_IMAGE, CLEAN, bank.privateKeyPem);
    for (const dockerReference of ['acme-fx/currency-converter', 'docker.io/acme-fx/currency-converter:2.0.0', `index.docker.io/acme-fx/currency-converter@${CLEAN}`]) {
      expect(verifyImageSignature(sig, { dockerReference, digest: CLEAN }, bank.publicKeyPem)).toEqual({ ok: true });
    }
  });

  it('fails for another key, naming both keys', () => {
    const sig = signImage(VENDOR_IMAGE, CLEAN, bank.privateKeyPem);
    expect(verifyImageSignature(sig, at(CLEAN), attacker.publicKeyPem)).toEqual({
      ok: false,
      problem: 'bad-signature',
      reason: `signature does not verify with key ${keyIdOf(attacker.publicKeyPem)} (it names key ${keyIdOf(bank.publicKeyPem)})`,
    });
  });

  it('fails for a tampered payload, even one still naming the signer', () => {
    const sig = signImage(VENDOR_IMAGE, CLEAN, bank.privateKeyPem);
    const tampered = { ...sig, payload: reencoded(decoded(sig).replace(CLEAN, RUGPULL)) };
    expect(verifyImageSignature(tampered, at(RUGPULL), bank.publicKeyPem)).toEqual({
      ok: false,
      problem: 'bad-signature',
      reason: `signature does not verify with key ${keyIdOf(bank.publicKeyPem)} (it names this key, so its payload or signature was altered)`,
    });
    const respaced = { ...sig, payload: reencoded(JSON.stringify(JSON.parse(decoded(sig)), null, 1)) };
    expect(verifyImageSignature(respaced, at(CLEAN), bank.publicKeyPem)).toMatchObject({ ok: false, problem: 'bad-signature' });
  });

  it('fails for a tampered signature', () => {
    const sig = signImage(VENDOR_IMAGE, CLEAN, bank.privateKeyPem);
    const bytes = Buffer.from(sig.signature, 'base64');
    bytes[bytes.length - 1]! ^= 0x01;
    expect(verifyImageSignature({ ...sig, signature: bytes.toString('base64') }, at(CLEAN), bank.publicKeyPem)).toMatchObject({ ok: false, problem: 'bad-signature' });
  });

  describe('the rug-pull', () => {
    it("the attacker signs its own bytes: a real signature, but the bank's key does not verify it", () => {
      const sig = signImage(VENDOR_IMAGE, RUGPULL, attacker.privateKeyPem);
      expect(verifyImageSignature(sig, at(RUGPULL), attacker.publicKeyPem)).toEqual({ ok: true });
      expect(verifyImageSignature(sig, at(RUGPULL), bank.publicKeyPem)).toMatchObject({ ok: false, problem: 'bad-signature', reason: expect.stringContaining(`it names key ${keyIdOf(attacker.publicKeyPem)}`) });
    });

    it("the bank's signature copied from the clean digest onto the rug-pull fails on the digest", () => {
      const copied = signImage(VENDOR_IMAGE, CLEAN, bank.privateKeyPem);
      expect(verifyImageSignature(copied, at(RUGPULL), bank.publicKeyPem)).toEqual({ ok: false, problem: 'digest-mismatch', reason: `signature is for digest ${CLEAN}, image is ${RUGPULL}` });
    });
  });

  it('fails for a signature of the same digest under another repository', () => {
    const sig = signImage('evil-corp/currency-converter:1.0.0', CLEAN, bank.privateKeyPem);
    expect(verifyImageSignature(sig, at(CLEAN), bank.publicKeyPem)).toEqual({
      ok: false,
      problem: 'identity-mismatch',
      reason: 'signature is for repository index.docker.io/evil-corp/currency-converter, image is index.docker.io/acme-fx/currency-converter',
    });
  });

  it('fails for a signed payload of another type, or one that is not a simple signing document', () => {
    const signed = (text: string): ImageSignature => ({ payload: reencoded(text), signature: sign('sha256', Buffer.from(text), bank.privateKeyPem).toString('base64'), keyId: keyIdOf(bank.publicKeyPem) });
    const attestation = simpleSigningPayload(VENDOR_IMAGE, CLEAN).replace(COSIGN_SIGNATURE_TYPE, 'cosign container image attestation');
    expect(verifyImageSignature(signed(attestation), at(CLEAN), bank.publicKeyPem)).toEqual({
      ok: false,
      problem: 'wrong-type',
      reason: 'signature payload has type "cosign container image attestation", not "cosign container image signature"',
    });
    expect(verifyImageSignature(signed('hello'), at(CLEAN), bank.publicKeyPem)).toMatchObject({ ok: false, problem: 'malformed' });
    expect(verifyImageSignature(signed('{"critical":{"image":{}}}'), at(CLEAN), bank.publicKeyPem)).toMatchObject({ ok: false, problem: 'malformed' });
  });

  it('never throws: bad encodings and unusable keys are reasons', () => {
    const sig = signImage(VENDOR_IMAGE, CLEAN, bank.privateKeyPem);
    expect(verifyImageSignature({ ...sig, signature: 'not base64!' }, at(CLEAN), bank.publicKeyPem)).toMatchObject({ ok: false, problem: 'encoding' });
    expect(verifyImageSignature({ ...sig, payload: '' }, at(CLEAN), bank.publicKeyPem)).toMatchObject({ ok: false, problem: 'encoding' });
    expect(verifyImageSignature(sig, at(CLEAN), 'not a key')).toMatchObject({ ok: false, problem: 'bad-key' });
    const ed25519 = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(verifyImageSignature(sig, at(CLEAN), ed25519)).toMatchObject({ ok: false, problem: 'bad-signature' });
    expect(verifyImageSignature(sig, { dockerReference: 'Not A Reference', digest: CLEAN }, bank.publicKeyPem)).toMatchObject({ ok: false, problem: 'identity-mismatch' });
  });

  it('signs only with ECDSA P-256 keys, only digests, and only the digest the reference names', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => signImage(VENDOR_IMAGE, CLEAN, rsa)).toThrow("signing needs an ECDSA P-256 key (cosign's kind); got a key of type rsa");
    expect(() => signImage(VENDOR_IMAGE, CLEAN, bank.publicKeyPem)).toThrow('not a PEM private key');
    expect(() => signImage(VENDOR_IMAGE, 'latest', bank.privateKeyPem)).toThrow('"latest" is not an image digest');
    expect(() => signImage(`acme-fx/currency-converter@${CLEAN}`, RUGPULL, bank.privateKeyPem)).toThrow(`cannot sign ${RUGPULL} as acme-fx/currency-converter@${CLEAN}: the reference names another digest`);
    expect(verifyImageSignature(signImage(`acme-fx/currency-converter@${CLEAN}`, CLEAN, bank.privateKeyPem), at(CLEAN), bank.publicKeyPem)).toEqual({ ok: true });
  });
});

describe('KeyStore', () => {
  it('makes a key once, private 0600 and public 0644 in a 0700 directory, and reuses it', () => {
    const dir = join(temporaryDirectory(), 'keys');
    const store = KeyStore.open(dir);
    expect(store.has('trustusbank-bank')).toBe(false);
    const first = store.ensure('trustusbank-bank');
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, 'trustusbank-bank.key'))).toBe(0o600);
    expect(mode(join(dir, 'trustusbank-bank.pub'))).toBe(0o644);
    expect(readFileSync(join(dir, 'trustusbank-bank.key'), 'utf8')).toBe(first.privateKeyPem);
    expect(readFileSync(join(dir, 'trustusbank-bank.pub'), 'utf8')).toBe(first.publicKeyPem);
    expect(first.keyId).toBe(keyIdOf(first.publicKeyPem));
    expect(readdirSync(dir).sort()).toEqual(['trustusbank-bank.key', 'trustusbank-bank.pub']);

    expect(store.ensure('trustusbank-bank')).toEqual(first);
    expect(KeyStore.open(dir).ensure('trustusbank-bank')).toEqual(first);
    expect(store.publicKey('trustusbank-bank')).toBe(first.publicKeyPem);
    expect(store.privateKey('trustusbank-bank')).toBe(first.privateKeyPem);
    expect(store.ensure('attacker').keyId).not.toBe(first.keyId);
  });

  it('signs with a stored key and verifies with its public file', () => {
    const store = KeyStore.open(temporaryDirectory());
    store.ensure('trustusbank-bank');
    const sig = signImage(VENDOR_IMAGE, CLEAN, store.privateKey('trustusbank-bank'));
    expect(verifyImageSignature(sig, at(CLEAN), store.publicKey('trustusbank-bank'))).toEqual({ ok: true });
  });

  it('rewrites a missing public half from the private key', () => {
    const dir = temporaryDirectory();
    const store = KeyStore.open(dir);
    const first = store.ensure('bank');
    unlinkSync(join(dir, 'bank.pub'));
    expect(store.publicKey('bank')).toBe(first.publicKeyPem);
    expect(store.ensure('bank')).toEqual(first);
    expect(existsSync(join(dir, 'bank.pub'))).toBe(true);
  });

  it('refuses a private key others can read, as ssh does', () => {
    const dir = temporaryDirectory();
    const store = KeyStore.open(dir);
    store.ensure('bank');
    chmodSync(join(dir, 'bank.key'), 0o644);
    expect(() => store.privateKey('bank')).toThrow(`signing key ${join(dir, 'bank.key')} has permissions 0644, which let others read it; run chmod 600 ${join(dir, 'bank.key')}`);
    expect(() => store.ensure('bank')).toThrow(UserError);
  });

  it('refuses unknown keys and names that are not file names', () => {
    const store = KeyStore.open(temporaryDirectory());
    expect(() => store.privateKey('vendor')).toThrow(/^no signing key "vendor" in /);
    expect(() => store.publicKey('vendor')).toThrow(UserError);
    for (const name of ['../escape', 'Bank', '', '.hidden', 'a/b']) expect(() => store.ensure(name)).toThrow('is not a key name');
  });
});

describe('SignatureStore', () => {
  it('keeps signatures per digest, in <hex>.json, oldest first, each once', () => {
    const dir = temporaryDirectory();
    const store = SignatureStore.open(dir);
    const byBank = signImage(VENDOR_IMAGE, CLEAN, bank.privateKeyPem);
    const byAttacker = signImage(VENDOR_IMAGE, RUGPULL, attacker.privateKeyPem);
    expect(store.list(CLEAN)).toEqual([]);

    store.add(CLEAN, byBank);
    store.add(CLEAN, byBank);
    store.add(RUGPULL, byAttacker);
    expect(store.list(CLEAN)).toEqual([byBank]);
    expect(store.list(RUGPULL)).toEqual([byAttacker]);
    expect(readdirSync(dir).sort()).toEqual([`${'c'.repeat(64)}.json`, `${'e'.repeat(64)}.json`]);
    expect(JSON.parse(readFileSync(join(dir, `${'c'.repeat(64)}.json`), 'utf8'))).toEqual([byBank]);

    // The copied signature of the rug-pull scenario: the bank's signature of the clean bytes, attached to the other digest.
    store.add(RUGPULL, byBank);
    expect(store.list(RUGPULL)).toEqual([byAttacker, byBank]);
    expect(new SignatureStore(dir).list(RUGPULL)).toEqual([byAttacker, byBank]);

    expect(store.remove(RUGPULL)).toBe(true);
    expect(store.remove(RUGPULL)).toBe(false);
    expect(store.list(RUGPULL)).toEqual([]);
    expect(store.list(CLEAN)).toEqual([byBank]);
  });

  it('refuses what is not a digest, and says which file is damaged', () => {
    const dir = temporaryDirectory();
    const store = SignatureStore.open(dir);
    expect(() => store.list('sha256:../../etc')).toThrow('is not an image digest');
    expect(() => store.add('acme-fx/currency-converter:1.0.0', signImage(VENDOR_IMAGE, CLEAN, bank.privateKeyPem))).toThrow(UserError);
    writeFileSync(join(dir, `${'c'.repeat(64)}.json`), '{"payload":');
    expect(() => store.list(CLEAN)).toThrow(`signature file ${join(dir, `${'c'.repeat(64)}.json`)} is not JSON`);
    writeFileSync(join(dir, `${'c'.repeat(64)}.json`), '[{"payload":"x"}]');
    expect(() => store.list(CLEAN)).toThrow('is not a list of signatures');
  });
});
