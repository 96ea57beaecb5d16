// The local image store. An image is the workload's own code bundled into one ES module (esbuild), addressed
// by the sha256 digest of those bytes; tags map references like `trustusbank/account-mcp:1.0.0` to digests.
// Third-party packages are not in the bundle: like a base image layer, they are shared by every image and
// resolved from the project's node_modules (linked once into the store). A change to the workload's code —
// the rug-pull — changes the digest; a retag moves a reference without touching any manifest.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { UserError } from '../core/errors.ts';

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

export class ImageStore {
  private readonly blobs: string;
  private readonly refsFile: string;
  private refs: Record<string, string>;

  constructor(private readonly root: string) {
    this.blobs = join(root, 'blobs', 'sha256');
    this.refsFile = join(root, 'refs.json');
    mkdirSync(this.blobs, { recursive: true });
    // The shared base layer: bundles import their packages from here.
    const modules = join(root, 'node_modules');
    if (!existsSync(modules)) symlinkSync(join(PROJECT_ROOT, 'node_modules'), modules, 'dir');
    this.refs = existsSync(this.refsFile) ? (JSON.parse(readFileSync(this.refsFile, 'utf8')) as Record<string, string>) : {};
  }

  /** Bundle an entry file into an image and return its digest (`sha256:<hex>`). Same code, same digest. */
  async build(entryFile: string): Promise<string> {
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
    const bytes = result.outputFiles[0]!.contents;
    return this.storeBlob(bytes);
  }

  /** Store bytes as an image (for images that do not come from an entry file, e.g. tests). */
  storeBlob(bytes: Uint8Array): string {
    const hex = createHash('sha256').update(bytes).digest('hex');
    const dir = join(this.blobs, hex);
    const file = join(dir, 'main.mjs');
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(`${file}.tmp`, bytes);
      renameSync(`${file}.tmp`, file);
    }
    return `sha256:${hex}`;
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

  /** The file a pod runs for an image. */
  entryFile(digest: string): string {
    return join(this.blobs, digest.replace(/^sha256:/, ''), 'main.mjs');
  }

  /** The directory holding an image's files (what a pod may read). */
  imageDir(digest: string): string {
    return dirname(this.entryFile(digest));
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
