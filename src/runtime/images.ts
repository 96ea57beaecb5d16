// The local image store. An image is the workload's own code bundled into one ES module (esbuild), in a directory
// addressed by its content digest (image-content.ts: the sha256 of a manifest listing every file's bytes); tags
// map references like `trustusbank/account-mcp:1.0.0` to digests.
// Third-party packages are not in the bundle: like a base image layer, they are shared by every image and
// resolved from the project's node_modules (linked once into the store). A change to the workload's code —
// the rug-pull — changes the digest; a retag moves a reference without touching any manifest.
// Blobs are written once and then read-only (files 0444, directories 0555): a rebuild of the same digest leaves
// them alone. Read-only is a guard against accidents, not against the data directory's owner, so `verify`
// recomputes the digest from the bytes, and admission calls it before every pod start.
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { UserError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { manifestDigest, manifestText, scanImageDirectory, verifyImageContent, type ContentVerification } from './image-content.ts';

export const PROJECT_ROOT = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../' : '../../../', import.meta.url));

export interface ImageRecord {
  ref: string;
  digest: string;
}

export interface ParsedImageRef {
  repository: string;
  tag?: string;
  digest?: string;
}

/** `repo[:tag][@sha256:<hex>]`; the tag defaults to `latest` when neither tag nor digest is given. */
export function parseImageRef(ref: string): ParsedImageRef {
  const match = /^([a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$/.exec(ref);
  if (!match) throw new UserError(`"${ref}" is not an image reference (repository[:tag][@sha256:digest])`);
  const [, repository, tag, digest] = match;
  return { repository: repository!, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}), ...(!tag && !digest ? { tag: 'latest' } : {}) };
}

/** The file a pod runs, in every image. */
export const ENTRY_FILE = 'main.mjs';

export class ImageStore {
  private readonly blobs: string;
  private readonly manifests: string;
  private readonly refsFile: string;
  private refs: Record<string, string>;

  constructor(
    private readonly root: string,
    private readonly log?: Logger,
  ) {
    this.blobs = join(root, 'blobs', 'sha256');
    this.manifests = join(root, 'manifests', 'sha256');
    this.refsFile = join(root, 'refs.json');
    mkdirSync(this.blobs, { recursive: true });
    mkdirSync(this.manifests, { recursive: true });
    // The shared base layer: bundles import their packages from here.
    const modules = join(root, 'node_modules');
    if (!existsSync(modules)) symlinkSync(join(PROJECT_ROOT, 'node_modules'), modules, 'dir');
    this.refs = existsSync(this.refsFile) ? (JSON.parse(readFileSync(this.refsFile, 'utf8')) as Record<string, string>) : {};
  }

  /**
   * Bundle an entry file into an image and return its digest (`sha256:<hex>`). Same code, same digest.
   * `files` are more files of the image beside the entry (its configuration), part of the digest.
   */
  async build(entryFile: string, files: Record<string, Uint8Array> = {}): Promise<string> {
    const result = await build({
      entryPoints: [entryFile],
      absWorkingDir: PROJECT_ROOT,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      write: false,
      legalComments: 'none',
      logLevel: 'silent',
    });
    return this.storeImage({ ...files, [ENTRY_FILE]: result.outputFiles[0]!.contents });
  }

  /**
   * Store files as an image and return its digest. The digest is taken by the same scan that verification runs,
   * over the files as written to disk. An intact image of that digest is left alone; one whose bytes no longer
   * match is moved to `quarantine/` (kept for the investigation) and replaced by the fresh build.
   */
  storeImage(files: Record<string, Uint8Array>): string {
    if (!(ENTRY_FILE in files)) throw new Error(`an image needs ${ENTRY_FILE}`);
    const incoming = mkdtempSync(join(this.blobs, '.incoming-'));
    try {
      for (const [path, bytes] of Object.entries(files)) {
        if (posix.normalize(path) !== path || path.startsWith('/') || path.startsWith('../') || path === '..') throw new Error(`image file path must be relative and normal: ${path}`);
        mkdirSync(dirname(join(incoming, path)), { recursive: true });
        writeFileSync(join(incoming, path), bytes);
      }
      const scan = scanImageDirectory(incoming);
      if (!scan.ok) throw new Error(`cannot store image: ${scan.detail}`);
      const digest = manifestDigest(scan.manifest);
      const hex = digest.slice('sha256:'.length);
      const target = join(this.blobs, hex);
      this.writeManifest(hex, manifestText(scan.manifest));
      if (existsSync(target) || isLink(target)) {
        const existing = this.verify(digest);
        if (existing.ok) return digest;
        this.quarantine(hex, existing.reason);
      }
      makeReadOnly(incoming);
      renameSync(incoming, target);
      return digest;
    } finally {
      if (existsSync(incoming)) removeTree(incoming);
    }
  }

  /** Store bytes as an image's entry file (for images that do not come from an entry file, e.g. tests). */
  storeBlob(bytes: Uint8Array): string {
    return this.storeImage({ [ENTRY_FILE]: bytes });
  }

  /** Whether the image directory still holds exactly the bytes its digest names (hashes every file, every call). */
  verify(digest: string): ContentVerification {
    if (!/^sha256:[a-f0-9]{64}$/.test(digest)) return { ok: false, change: 'missing', reason: `${digest} is not an image digest` };
    const hex = digest.slice('sha256:'.length);
    let recorded: string | undefined;
    try {
      recorded = readFileSync(join(this.manifests, `${hex}.json`), 'utf8');
    } catch {
      recorded = undefined;
    }
    return verifyImageContent(digest, scanImageDirectory(this.imageDir(digest)), recorded);
  }

  private writeManifest(hex: string, text: string): void {
    const file = join(this.manifests, `${hex}.json`);
    try {
      if (readFileSync(file, 'utf8') === text) return;
    } catch {
      // not written yet
    }
    rmSync(`${file}.tmp`, { force: true });
    writeFileSync(`${file}.tmp`, text, { mode: 0o444 });
    renameSync(`${file}.tmp`, file);
  }

  private quarantine(hex: string, reason: string): void {
    const target = join(this.blobs, hex);
    const aside = join(this.root, 'quarantine', `${hex}-${Date.now()}`);
    mkdirSync(dirname(aside), { recursive: true });
    // Moving a directory to another parent rewrites its `..`, which needs write permission on it.
    if (!isLink(target)) chmodSync(target, 0o755);
    renameSync(target, aside);
    this.log?.warn('image blob did not match its digest; moved aside and rebuilt', { digest: `sha256:${hex}`, reason, moved_to: aside });
  }

  tag(ref: string, digest: string): void {
    const parsed = parseImageRef(ref);
    if (parsed.digest) throw new UserError(`cannot tag a digest reference: ${ref}`);
    if (!this.has(digest)) throw new UserError(`no image with digest ${digest}`);
    this.refs[`${parsed.repository}:${parsed.tag}`] = digest;
    mkdirSync(dirname(this.refsFile), { recursive: true });
    writeFileSync(this.refsFile, JSON.stringify(this.refs, null, 2) + '\n');
  }

  /** The digest an image reference points at now, or undefined when the store does not have it. */
  resolve(ref: string): string | undefined {
    const parsed = parseImageRef(ref);
    if (parsed.digest) return this.has(parsed.digest) ? parsed.digest : undefined;
    return this.refs[`${parsed.repository}:${parsed.tag}`];
  }

  has(digest: string): boolean {
    return /^sha256:[a-f0-9]{64}$/.test(digest) && existsSync(this.entryFile(digest));
  }

  /** The directory holding an image's files (what a pod may read). */
  imageDir(digest: string): string {
    return join(this.blobs, digest.replace(/^sha256:/, ''));
  }

  /** The file a pod runs for an image. */
  entryFile(digest: string): string {
    return join(this.imageDir(digest), ENTRY_FILE);
  }

  baseLayerDir(): string {
    return join(PROJECT_ROOT, 'node_modules');
  }

  list(): ImageRecord[] {
    return Object.entries(this.refs)
      .map(([ref, digest]) => ({ ref, digest }))
      .sort((a, b) => a.ref.localeCompare(b.ref));
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Files 0444, directories 0555, deepest first (a directory's own mode last, so it can still be walked). */
function makeReadOnly(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) makeReadOnly(path);
    else if (entry.isFile()) chmodSync(path, 0o444);
  }
  chmodSync(dir, 0o555);
}

/** Remove a tree that may hold read-only directories (as the owner, who may make them writable again). */
export function removeTree(path: string): void {
  const writable = (dir: string): void => {
    chmodSync(dir, 0o755);
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) writable(join(dir, entry.name));
  };
  if (existsSync(path) && !isLink(path) && lstatSync(path).isDirectory()) writable(path);
  rmSync(path, { recursive: true, force: true });
}
