import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../../testing/workloads.ts';
import { CertificateAuthority, SVID_BACKDATE_MS, SvidRequestError } from './authority.ts';
import { CA_FILES, CaStoreError } from './ca-store.ts';
import { UserError } from '../../core/errors.ts';
import { spiffeIdOfPeerCertificate } from './peer-identity.ts';
import { SpiffeIdError } from './spiffe-id.ts';
import { x509 } from './x509.ts';

const certificatesOf = (chainPem: string): X509Certificate[] =>
  chainPem.split(/(?<=-----END CERTIFICATE-----)\s*/).filter((pem) => pem.trim()).map((pem) => new X509Certificate(pem));

describe('CertificateAuthority', () => {
  const dirs: { remove(): void }[] = [];
  afterEach(() => dirs.splice(0).forEach((dir) => dir.remove()));

  it('issues an SVID whose chain verifies leaf → intermediate → root', async () => {
    const ca = await CertificateAuthority.open();
    const svid = await ca.issueSvid({ namespace: 'trustusbank-bank-mcp', serviceAccount: 'account-mcp' });
    const [leaf, intermediate, ...rest] = certificatesOf(svid.certificateChainPem);
    const root = new X509Certificate(ca.trustBundlePem());
    expect(rest).toEqual([]);
    // Two PEM blocks on their own lines, as TLS libraries read a chain.
    expect(svid.certificateChainPem).toMatch(/^-----BEGIN CERTIFICATE-----\n[^]+\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\n[^]+\n-----END CERTIFICATE-----\n$/);
    expect(leaf!.checkIssued(intermediate!)).toBe(true);
    expect(leaf!.verify(intermediate!.publicKey)).toBe(true);
    expect(intermediate!.checkIssued(root)).toBe(true);
    expect(intermediate!.verify(root.publicKey)).toBe(true);
    expect(root.verify(root.publicKey)).toBe(true);
    // The leaf does not verify against the root directly: the intermediate is really in the path.
    expect(leaf!.verify(root.publicKey)).toBe(false);
    expect(leaf!.checkPrivateKey((await import('node:crypto')).createPrivateKey(svid.privateKeyPem))).toBe(true);
  });

  it('marks the root and intermediate as CAs (intermediate pathLen 0) and the leaf as an end entity', async () => {
    const ca = await CertificateAuthority.open();
    const svid = await ca.issueSvid({ namespace: 'ns1', serviceAccount: 'sa1' });
    const [leafPem, intermediatePem] = svid.certificateChainPem.split(/(?<=-----END CERTIFICATE-----)\s*/);
    const parse = (pem: string) => new x509.X509Certificate(pem);
    const root = parse(ca.trustBundlePem());
    const intermediate = parse(intermediatePem!);
    const leaf = parse(leafPem!);

    const rootConstraints = root.getExtension(x509.BasicConstraintsExtension)!;
    expect([rootConstraints.ca, rootConstraints.critical]).toEqual([true, true]);
    expect(root.getExtension(x509.KeyUsagesExtension)!.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    const intermediateConstraints = intermediate.getExtension(x509.BasicConstraintsExtension)!;
    expect([intermediateConstraints.ca, intermediateConstraints.pathLength]).toEqual([true, 0]);
    expect(intermediate.getExtension(x509.KeyUsagesExtension)!.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);

    expect(leaf.getExtension(x509.BasicConstraintsExtension)!.ca).toBe(false);
    expect(leaf.getExtension(x509.KeyUsagesExtension)!.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    expect(leaf.getExtension(x509.ExtendedKeyUsageExtension)!.usages).toEqual([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]);
    const san = leaf.getExtension(x509.SubjectAlternativeNameExtension)!;
    expect(san.critical).toBe(true);
    expect(san.names.toJSON()).toEqual([{ type: 'url', value: 'spiffe://cluster.local/ns/ns1/sa/sa1' }]);
    // No common name carries the identity: the subject is empty.
    expect(leaf.subject).toBe('');
    expect((await leaf.publicKey.export()).algorithm).toMatchObject({ name: 'ECDSA', namedCurve: 'P-256' });
  });

  it('gives the requested lifetime with a small backdate, and reports it in the SVID', async () => {
    const issuedAt = Date.parse('2030-01-01T00:00:00Z');
    const ca = await CertificateAuthority.open({ now: () => issuedAt });
    const svid = await ca.issueSvid({ namespace: 'a', serviceAccount: 'b', ttlMs: 5000 });
    expect(svid.spiffeId).toBe('spiffe://cluster.local/ns/a/sa/b');
    expect(svid.notBefore.getTime()).toBe(issuedAt - SVID_BACKDATE_MS);
    expect(svid.notAfter.getTime()).toBe(issuedAt + 5000);
    const leaf = certificatesOf(svid.certificateChainPem)[0]!;
    expect(Date.parse(leaf.validFrom)).toBe(svid.notBefore.getTime());
    expect(Date.parse(leaf.validTo)).toBe(svid.notAfter.getTime());
    expect(leaf.serialNumber.toLowerCase()).toBe(svid.serialNumber);

    const defaultLifetime = await ca.issueSvid({ namespace: 'a', serviceAccount: 'b' });
    expect(defaultLifetime.notAfter.getTime() - issuedAt).toBe(60 * 60 * 1000);
  });

  it('refuses bad requests with named errors', async () => {
    const ca = await CertificateAuthority.open();
    await expect(ca.issueSvid({ namespace: 'a', serviceAccount: 'b', ttlMs: 10 })).rejects.toBeInstanceOf(SvidRequestError);
    await expect(ca.issueSvid({ namespace: 'a/b', serviceAccount: 'c' })).rejects.toBeInstanceOf(SpiffeIdError);
  });

  it('creates a new root each time when kept in memory', async () => {
    const [first, second] = await Promise.all([CertificateAuthority.open(), CertificateAuthority.open()]);
    expect(first.trustBundlePem()).not.toBe(second.trustBundlePem());
  });

  it('persists to a directory, keys readable by the owner only, and reloads the same root', async () => {
    const dir = tempDir('tub-ca-');
    dirs.push(dir);
    const caDir = join(dir.path, 'ca');
    const first = await CertificateAuthority.open({ directory: caDir });
    for (const file of Object.values(CA_FILES)) expect(existsSync(join(caDir, file))).toBe(true);
    expect(statSync(join(caDir, CA_FILES.rootKey)).mode & 0o777).toBe(0o600);
    expect(statSync(join(caDir, CA_FILES.intermediateKey)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(caDir, CA_FILES.rootCertificate), 'utf8')).toBe(first.trustBundlePem());

    const second = await CertificateAuthority.open({ directory: caDir });
    expect(second.trustBundlePem()).toBe(first.trustBundlePem());
    expect(second.intermediateCertificatePem()).toBe(first.intermediateCertificatePem());
    // An SVID from the reopened CA verifies against the root the first one handed out.
    const svid = await second.issueSvid({ namespace: 'a', serviceAccount: 'b' });
    const [, intermediate] = certificatesOf(svid.certificateChainPem);
    expect(intermediate!.verify(new X509Certificate(first.trustBundlePem()).publicKey)).toBe(true);
    expect(spiffeIdOfPeerCertificate(certificatesOf(svid.certificateChainPem)[0]!)).toBe(svid.spiffeId);
  });

  it('replaces an intermediate near its end under the same root', async () => {
    const dir = tempDir('tub-ca-');
    dirs.push(dir);
    const first = await CertificateAuthority.open({ directory: dir.path });
    const nearEnd = Date.parse(new X509Certificate(first.intermediateCertificatePem()).validTo) - 24 * 60 * 60 * 1000;
    const later = await CertificateAuthority.open({ directory: dir.path, now: () => nearEnd });
    expect(later.trustBundlePem()).toBe(first.trustBundlePem());
    expect(later.intermediateCertificatePem()).not.toBe(first.intermediateCertificatePem());
    expect(readFileSync(join(dir.path, CA_FILES.intermediateCertificate), 'utf8')).toBe(later.intermediateCertificatePem());
  });

  it('refuses an incomplete directory rather than making a second root beside the first', async () => {
    const dir = tempDir('tub-ca-');
    dirs.push(dir);
    const first = await CertificateAuthority.open({ directory: dir.path });
    rmSync(join(dir.path, CA_FILES.rootKey));
    const error = await CertificateAuthority.open({ directory: dir.path }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CaStoreError);
    expect((error as Error).message).toContain(`${CA_FILES.rootKey} missing`);
    expect(readFileSync(join(dir.path, CA_FILES.rootCertificate), 'utf8')).toBe(first.trustBundlePem());
    expect(existsSync(join(dir.path, CA_FILES.rootKey))).toBe(false);
  });

  it('refuses a key file that is garbage, naming the file, as an error the CLI prints without a stack trace', async () => {
    const dir = tempDir('tub-ca-');
    dirs.push(dir);
    await CertificateAuthority.open({ directory: dir.path });
    writeFileSync(join(dir.path, CA_FILES.intermediateKey), '-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n');
    const error = await CertificateAuthority.open({ directory: dir.path }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as CaStoreError).path).toBe(join(dir.path, CA_FILES.intermediateKey));
    expect((error as Error).message).toMatch(/ca-key\.pem: not a PEM private key/);
  });

  it('refuses a key that does not belong to its certificate, naming the file', async () => {
    const [dirA, dirB] = [tempDir('tub-ca-'), tempDir('tub-ca-')];
    dirs.push(dirA, dirB);
    await CertificateAuthority.open({ directory: dirA.path });
    await CertificateAuthority.open({ directory: dirB.path });
    writeFileSync(join(dirA.path, CA_FILES.intermediateKey), readFileSync(join(dirB.path, CA_FILES.intermediateKey)));
    const error = await CertificateAuthority.open({ directory: dirA.path }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CaStoreError);
    expect((error as CaStoreError).path).toBe(join(dirA.path, CA_FILES.intermediateKey));
    expect((error as Error).message).toMatch(/does not match its certificate/);
  });

  it('refuses an intermediate that another root signed', async () => {
    const [dirA, dirB] = [tempDir('tub-ca-'), tempDir('tub-ca-')];
    dirs.push(dirA, dirB);
    await CertificateAuthority.open({ directory: dirA.path });
    await CertificateAuthority.open({ directory: dirB.path });
    for (const file of [CA_FILES.intermediateCertificate, CA_FILES.intermediateKey]) {
      writeFileSync(join(dirA.path, file), readFileSync(join(dirB.path, file)));
    }
    await expect(CertificateAuthority.open({ directory: dirA.path })).rejects.toThrow(/not signed by the root/);
  });
});
