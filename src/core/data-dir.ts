// Where TrustUsBank keeps its state: one directory, chosen by flag, then environment, then the default.
// It holds customer data (the bank's databases, the agents' conversations) and keys: the directory is the
// owner's alone (0700) and every file the stack writes is too (0600). The `up` process and every pod run
// with umask 077, and the files that matter most are given their mode explicitly as well, so that a file
// left 0644 by an older version is tightened when it is opened again.
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { resolve } from 'node:path';

export const DATA_DIR_ENV = 'TRUSTUSBANK_DATA_DIR';
export const DEFAULT_DATA_DIR = '.trustusbank';

export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return resolve(cwd, flag ?? env[DATA_DIR_ENV] ?? DEFAULT_DATA_DIR);
}

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
/** Files and directories created afterwards get no group or other permissions. */
export const PRIVATE_UMASK = 0o077;

/** Create a directory (and its parents) private to the owner; an existing one is left as it is. */
export function ensureDir(path: string): string {
  mkdirSync(path, { recursive: true, mode: PRIVATE_DIR_MODE });
  return path;
}

/** Create the data directory, or make an existing one private to the owner again. */
export function ensurePrivateDir(path: string): string {
  ensureDir(path);
  chmodSync(path, PRIVATE_DIR_MODE);
  return path;
}

/** Create a file private to the owner if it is missing, and make it private if it exists (e.g. 0644). */
export function ensurePrivateFile(path: string): string {
  closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
  chmodSync(path, PRIVATE_FILE_MODE);
  return path;
}

/** From now on, this process creates files 0600 and directories 0700 (the `up` process, every pod). */
export function restrictUmask(): void {
  process.umask(PRIVATE_UMASK);
}
