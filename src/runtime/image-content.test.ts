// The content digest: one definition (a manifest of every file's size and sha256, hashed), stable for the same
// files, different for any changed byte, renamed, extra or missing file; links and special files are refused by
// name rather than followed or skipped.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { IMAGE_MANIFEST_MEDIA_TYPE, manifestDigest, manifestText, scanImageDirectory, verifyImageContent, type ImageScan } from './image-content.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function imageDir(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tub-content-'));
  dirs.push(dir);
  for (const [path, bytes] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), bytes);
  }
  return dir;
}

function digestOf(dir: string): string {
  const scan = scanImageDirectory(dir);
  if (!scan.ok) throw new Error(scan.detail);
  return manifestDigest(scan.manifest);
}

const sha = (bytes: string): string => createHash('sha256').update(bytes).digest('hex');

describe('the content digest', () => {
  it('is the sha256 of the manifest text, files sorted by UTF-8 bytes, exactly as documented', () => {
    const dir = imageDir({ 'main.mjs': 'export {}\n', 'lib/z.mjs': 'z', 'é.mjs': 'e', 'Z.mjs': 'Z' });
    // Written out by hand, independently of the code under test.
    const expected =
      `{"mediaType":"${IMAGE_MANIFEST_MEDIA_TYPE}","files":[` +
      `{"path":"Z.mjs","size":1,"digest":"sha256:${sha('Z')}"},` +
      `{"path":"lib/z.mjs","size":1,"digest":"sha256:${sha('z')}"},` +
      `{"path":"main.mjs","size":10,"digest":"sha256:${sha('export {}\n')}"},` +
      `{"path":"é.mjs","size":1,"digest":"sha256:${sha('e')}"}]}`;
    const scan = scanImageDirectory(dir) as ImageScan & { ok: true };
    expect(manifestText(scan.manifest)).toBe(expected);
    expect(digestOf(dir)).toBe(`sha256:${sha(expected)}`);
  });

  it('is stable: the same files written in another order, at another time, in another place', () => {
    const a = imageDir({ 'main.mjs': 'one', 'b.mjs': 'two', 'sub/c.mjs': 'three' });
    const b = imageDir({ 'sub/c.mjs': 'three', 'b.mjs': 'two', 'main.mjs': 'one' });
    expect(digestOf(a)).toBe(digestOf(b));
    expect(digestOf(a)).toBe(digestOf(a));
  });

  it('changes when any byte changes, when a file is renamed, added or removed', () => {
    const base = digestOf(imageDir({ 'main.mjs': 'console.log(1)', 'lib.mjs': 'x' }));
    const variants = {
      'one byte': imageDir({ 'main.mjs': 'console.log(2)', 'lib.mjs': 'x' }),
      'a byte of the other file': imageDir({ 'main.mjs': 'console.log(1)', 'lib.mjs': 'y' }),
      'a renamed file': imageDir({ 'main.mjs': 'console.log(1)', 'lib2.mjs': 'x' }),
      'a file moved into a directory': imageDir({ 'main.mjs': 'console.log(1)', 'sub/lib.mjs': 'x' }),
      'an extra file': imageDir({ 'main.mjs': 'console.log(1)', 'lib.mjs': 'x', 'evil.mjs': '' }),
      'a removed file': imageDir({ 'main.mjs': 'console.log(1)' }),
      // Same bytes in total, split differently: the sizes and per-file digests keep files apart.
      'bytes moved between files': imageDir({ 'main.mjs': 'console.log(1)x', 'lib.mjs': '' }),
    };
    const digests = Object.entries(variants).map(([name, dir]) => [name, digestOf(dir)]);
    for (const [name, digest] of digests) expect(digest, name).not.toBe(base);
    expect(new Set(digests.map(([, digest]) => digest)).size).toBe(digests.length);
  });

  it('ignores empty directories and file modes (nothing a pod could load)', () => {
    const base = digestOf(imageDir({ 'main.mjs': 'a' }));
    const withEmpty = imageDir({ 'main.mjs': 'a' });
    mkdirSync(join(withEmpty, 'empty'));
    expect(digestOf(withEmpty)).toBe(base);
  });

  it('refuses a symbolic link by name, whether to a file, a directory, or as the image directory itself', () => {
    const outside = imageDir({ 'payload.mjs': 'steal()' });
    const fileLink = imageDir({ 'main.mjs': 'a' });
    symlinkSync(join(outside, 'payload.mjs'), join(fileLink, 'lib.mjs'));
    expect(scanImageDirectory(fileLink)).toMatchObject({ ok: false, path: 'lib.mjs', problem: 'symbolic-link', detail: expect.stringContaining('lib.mjs is a symbolic link') });

    const dirLink = imageDir({ 'main.mjs': 'a' });
    symlinkSync(outside, join(dirLink, 'vendor'));
    expect(scanImageDirectory(dirLink)).toMatchObject({ ok: false, path: 'vendor', problem: 'symbolic-link' });

    // The entry file itself swapped for a link to other bytes.
    const entryLink = imageDir({ 'lib.mjs': 'b' });
    symlinkSync(join(outside, 'payload.mjs'), join(entryLink, 'main.mjs'));
    expect(scanImageDirectory(entryLink)).toMatchObject({ ok: false, path: 'main.mjs', problem: 'symbolic-link' });

    const parent = imageDir({});
    symlinkSync(outside, join(parent, 'image'));
    expect(scanImageDirectory(join(parent, 'image'))).toMatchObject({ ok: false, problem: 'symbolic-link', detail: 'the image directory is a symbolic link' });
  });

  it('refuses a FIFO and a name that is not UTF-8; reports a missing directory', () => {
    const fifo = imageDir({ 'main.mjs': 'a' });
    execFileSync('mkfifo', [join(fifo, 'pipe')]);
    expect(scanImageDirectory(fifo)).toMatchObject({ ok: false, path: 'pipe', problem: 'not-a-regular-file' });

    const badName = imageDir({ 'main.mjs': 'a' });
    writeFileSync(Buffer.concat([Buffer.from(join(badName, '/')), Buffer.from([0x66, 0xff, 0x2e, 0x6d, 0x6a, 0x73])]), 'x');
    expect(scanImageDirectory(badName)).toMatchObject({ ok: false, problem: 'name-not-utf8' });

    expect(scanImageDirectory(join(imageDir({}), 'gone'))).toMatchObject({ ok: false, problem: 'missing' });
  });
});

describe('verifyImageContent', () => {
  const built = (files: Record<string, string>) => {
    const dir = imageDir(files);
    const scan = scanImageDirectory(dir) as ImageScan & { ok: true };
    return { dir, digest: manifestDigest(scan.manifest), recorded: manifestText(scan.manifest) };
  };

  it('passes the directory its digest was taken from', () => {
    const image = built({ 'main.mjs': 'clean' });
    expect(verifyImageContent(image.digest, scanImageDirectory(image.dir), image.recorded)).toEqual({ ok: true });
  });

  it('names the changed, missing or extra file, with the digest, from the record made at build', () => {
    const image = built({ 'main.mjs': 'clean', 'lib.mjs': 'helper' });
    writeFileSync(join(image.dir, 'main.mjs'), 'rugpull');
    expect(verifyImageContent(image.digest, scanImageDirectory(image.dir), image.recorded)).toEqual({
      ok: false,
      change: 'changed',
      file: 'main.mjs',
      reason: `image content does not match its digest ${image.digest}: main.mjs changed`,
    });
    writeFileSync(join(image.dir, 'main.mjs'), 'clean');
    writeFileSync(join(image.dir, 'evil.mjs'), 'x');
    expect(verifyImageContent(image.digest, scanImageDirectory(image.dir), image.recorded)).toMatchObject({ ok: false, change: 'extra', file: 'evil.mjs', reason: expect.stringMatching(/: extra file evil\.mjs$/) });
    rmSync(join(image.dir, 'evil.mjs'));
    renameSync(join(image.dir, 'lib.mjs'), join(image.dir, 'lib2.mjs'));
    expect(verifyImageContent(image.digest, scanImageDirectory(image.dir), image.recorded)).toMatchObject({ ok: false, change: 'missing', file: 'lib.mjs' });
  });

  it('does not believe a record that is not the digest’s own; still refuses, with the digest the files hash to', () => {
    const image = built({ 'main.mjs': 'clean' });
    writeFileSync(join(image.dir, 'main.mjs'), 'rugpull');
    // An attacker rewriting the record to match the new bytes gains nothing: the record must hash to the digest.
    const forged = built({ 'main.mjs': 'rugpull' }).recorded;
    const result = verifyImageContent(image.digest, scanImageDirectory(image.dir), forged);
    expect(result).toMatchObject({ ok: false, change: 'unknown', reason: expect.stringContaining(`its files hash to ${digestOf(image.dir)}`) });
    expect(verifyImageContent(image.digest, scanImageDirectory(image.dir))).toMatchObject({ ok: false, change: 'unknown' });
  });

  it('refuses an image into which a link was placed, naming the link and the digest', () => {
    const image = built({ 'main.mjs': 'clean' });
    symlinkSync('/etc/hostname', join(image.dir, 'x.mjs'));
    expect(verifyImageContent(image.digest, scanImageDirectory(image.dir), image.recorded)).toMatchObject({ ok: false, change: 'symbolic-link', file: 'x.mjs', reason: expect.stringContaining(`${image.digest}: x.mjs is a symbolic link`) });
  });
});
