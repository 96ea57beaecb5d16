// The CA's key material on disk, under the names Istio's plugged-in CA uses (root-cert.pem, ca-cert.pem,
// ca-key.pem) plus root-key.pem, so that the intermediate can be re-issued under the same root later.
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../../core/errors.ts';

export const CA_FILES = {
  rootCertificate: 'root-cert.pem',
  rootKey: 'root-key.pem',
  intermediateCertificate: 'ca-cert.pem',
  intermediateKey: 'ca-key.pem',
} as const;

export type CaFile = keyof typeof CA_FILES;
export type CaPems = Record<CaFile, string>;

/** The CA directory holds something we cannot use; names the file and what was wrong with it (the user can act on it). */
export class CaStoreError extends UserError {
  override readonly name = 'CaStoreError';
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}

/** All four PEMs, or undefined when the directory holds none of them (a first start). */
export async function readCaPems(directory: string): Promise<CaPems | undefined> {
  const entries = await Promise.all(
    (Object.keys(CA_FILES) as CaFile[]).map(async (file) => [file, await readIfPresent(join(directory, CA_FILES[file]))] as const),
  );
  const missing = entries.filter(([, pem]) => pem === undefined).map(([file]) => CA_FILES[file]);
  if (missing.length === entries.length) return undefined;
  // Never fill in the gaps: a new root next to an old one would silently split the mesh's trust.
  if (missing.length > 0) throw new CaStoreError(directory, `incomplete CA: ${missing.join(', ')} missing; restore them or empty the directory`);
  return Object.fromEntries(entries) as CaPems;
}

/** Write some of the PEMs, each atomically (temporary file, then rename); key files are readable by the owner only. */
export async function writeCaPems(directory: string, pems: Partial<CaPems>): Promise<void> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  for (const [file, pem] of Object.entries(pems) as [CaFile, string][]) {
    const path = join(directory, CA_FILES[file]);
    const isKey = file === 'rootKey' || file === 'intermediateKey';
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, pem, { mode: isKey ? 0o600 : 0o644 });
    // The mode given to writeFile is filtered by the umask; set it explicitly so a loose umask cannot widen it.
    await chmod(temporary, isKey ? 0o600 : 0o644);
    await rename(temporary, path);
  }
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CaStoreError(path, `cannot be read (${(error as Error).message})`);
  }
}
