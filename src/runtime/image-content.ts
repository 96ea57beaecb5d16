// An image's content digest, defined once here: the store names an image by it when it builds one, and
// admission recomputes it before every pod start, so a digest names bytes, not a directory that once held them.
//
// The definition, as OCI's: the digest is the sha256 of the image's manifest, and the manifest lists every file
// of the image directory with its size and the sha256 of its bytes. Exactly:
//   manifest = {"mediaType":"application/vnd.trustusbank.image.manifest.v1+json","files":[{"path":P,"size":N,"digest":"sha256:<hex>"},…]}
//   serialised by JSON.stringify with the keys in that order and no whitespace; `files` sorted by path in
//   UTF-8 byte order; a path is relative to the image directory with `/` between its components.
//   digest = "sha256:" + hex(sha256(utf8(manifest)))
// What a directory may hold, deliberately:
// - Regular files, at any depth: each is listed, so an extra file (a module dropped beside the entry) changes the
//   digest as surely as a changed byte or a renamed file.
// - No symbolic link (nor the image directory itself being one): a link would let a pod load bytes from outside
//   the image that the digest does not cover. No device, socket or FIFO. No name that is not UTF-8 (two such names
//   could print alike). Each is refused and named, never skipped.
// - Directories are not listed themselves: an empty one holds nothing a pod can load.
// - Modes, owners and times are not content (the store makes blobs read-only, but a mode is not what a pod runs).
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const IMAGE_MANIFEST_MEDIA_TYPE = 'application/vnd.trustusbank.image.manifest.v1+json';

export interface ImageFile {
  /** Relative to the image directory, `/`-separated. */
  path: string;
  size: number;
  /** `sha256:<hex>` of the file's bytes. */
  digest: string;
}

export interface ImageManifest {
  mediaType: typeof IMAGE_MANIFEST_MEDIA_TYPE;
  files: ImageFile[];
}

/** Why a directory cannot be read as an image: the entry and what it is. */
export type UnloadableProblem = 'missing' | 'symbolic-link' | 'not-a-regular-file' | 'name-not-utf8' | 'unreadable';

export type ImageScan = { ok: true; manifest: ImageManifest } | { ok: false; path: string; problem: UnloadableProblem; detail: string };

/** How a directory differs from the digest it is stored under. */
export type ContentChange = 'changed' | 'missing' | 'extra' | UnloadableProblem | 'unknown';

export type ContentVerification = { ok: true } | { ok: false; change: ContentChange; file?: string; reason: string };

const sha256 = (bytes: Uint8Array | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** The manifest's exact bytes (the text the digest is taken over). */
export function manifestText(manifest: ImageManifest): string {
  const files = [...manifest.files].sort((a, b) => byUtf8(a.path, b.path)).map((f) => ({ path: f.path, size: f.size, digest: f.digest }));
  return JSON.stringify({ mediaType: IMAGE_MANIFEST_MEDIA_TYPE, files });
}

export function manifestDigest(manifest: ImageManifest): string {
  return sha256(manifestText(manifest));
}

/** Read every file of an image directory into its manifest, or name the first entry that cannot be in an image. */
export function scanImageDirectory(dir: string): ImageScan {
  let root;
  try {
    root = lstatSync(dir);
  } catch {
    return { ok: false, path: '.', problem: 'missing', detail: 'the image directory is missing' };
  }
  if (root.isSymbolicLink()) return { ok: false, path: '.', problem: 'symbolic-link', detail: 'the image directory is a symbolic link' };
  if (!root.isDirectory()) return { ok: false, path: '.', problem: 'not-a-regular-file', detail: 'the image directory is not a directory' };

  const files: ImageFile[] = [];
  const pending: string[] = [''];
  while (pending.length > 0) {
    const relative = pending.pop()!;
    let entries;
    try {
      entries = readdirSync(join(dir, relative), { withFileTypes: true, encoding: 'buffer' });
    } catch (error) {
      return { ok: false, path: relative || '.', problem: 'unreadable', detail: `${relative || 'the image directory'} cannot be listed (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
    }
    for (const entry of entries) {
      let name: string;
      try {
        name = utf8.decode(entry.name as unknown as Buffer);
      } catch {
        const shown = `${relative ? `${relative}/` : ''}${(entry.name as unknown as Buffer).toString('latin1')}`;
        return { ok: false, path: shown, problem: 'name-not-utf8', detail: `${JSON.stringify(shown)} is not a UTF-8 name` };
      }
      const path = relative ? `${relative}/${name}` : name;
      if (entry.isSymbolicLink()) return { ok: false, path, problem: 'symbolic-link', detail: `${path} is a symbolic link (an image holds only regular files and directories)` };
      if (entry.isDirectory()) pending.push(path);
      else if (entry.isFile()) {
        const file = hashFile(join(dir, path), path);
        if (!file.ok) return file;
        files.push(file.file);
      } else return { ok: false, path, problem: 'not-a-regular-file', detail: `${path} is not a regular file (an image holds only regular files and directories)` };
    }
  }
  return { ok: true, manifest: { mediaType: IMAGE_MANIFEST_MEDIA_TYPE, files: files.sort((a, b) => byUtf8(a.path, b.path)) } };
}

/** One file's size and digest, read through a descriptor opened without following a link: what was hashed is what was listed. */
function hashFile(full: string, path: string): { ok: true; file: ImageFile } | (ImageScan & { ok: false }) {
  let fd: number;
  try {
    fd = openSync(full, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return { ok: false, path, problem: 'symbolic-link', detail: `${path} is a symbolic link (an image holds only regular files and directories)` };
    return { ok: false, path, problem: code === 'ENOENT' ? 'missing' : 'unreadable', detail: `${path} cannot be read (${code ?? 'error'})` };
  }
  try {
    if (!fstatSync(fd).isFile()) return { ok: false, path, problem: 'not-a-regular-file', detail: `${path} is not a regular file` };
    const bytes = readFileSync(fd);
    return { ok: true, file: { path, size: bytes.length, digest: sha256(bytes) } };
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether a directory's scan matches the digest it is stored under. Pure. `recorded` is the manifest text written
 * at build; it is believed only when it hashes to the digest, and then only to name what changed.
 */
export function verifyImageContent(digest: string, scan: ImageScan, recorded?: string): ContentVerification {
  const mismatch = (change: ContentChange, detail: string, file?: string): ContentVerification => ({
    ok: false,
    change,
    ...(file === undefined ? {} : { file }),
    reason: `image content does not match its digest ${digest}: ${detail}`,
  });
  if (!scan.ok) return mismatch(scan.problem, scan.detail, scan.path);
  const actual = manifestDigest(scan.manifest);
  if (actual === digest) return { ok: true };

  const expected = recorded !== undefined && sha256(recorded) === digest ? parseManifest(recorded) : undefined;
  if (expected === undefined) return mismatch('unknown', `its files hash to ${actual} (no intact record of the built files names which changed)`);
  const now = new Map(scan.manifest.files.map((f) => [f.path, f]));
  const then = new Map(expected.files.map((f) => [f.path, f]));
  for (const [path, file] of then) {
    const current = now.get(path);
    if (current === undefined) return mismatch('missing', `${path} is missing`, path);
    if (current.digest !== file.digest || current.size !== file.size) return mismatch('changed', `${path} changed`, path);
  }
  for (const path of now.keys()) if (!then.has(path)) return mismatch('extra', `extra file ${path}`, path);
  return mismatch('unknown', `its files hash to ${actual}`);
}

function parseManifest(text: string): ImageManifest | undefined {
  try {
    const value = JSON.parse(text) as ImageManifest;
    return value.mediaType === IMAGE_MANIFEST_MEDIA_TYPE && Array.isArray(value.files) ? value : undefined;
  } catch {
    return undefined;
  }
}
