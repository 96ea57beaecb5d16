// Where TrustUsBank keeps its state: one directory, chosen by flag, then environment, then the default.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

export const DATA_DIR_ENV = 'TRUSTUSBANK_DATA_DIR';
export const DEFAULT_DATA_DIR = '.trustusbank';

export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return resolve(cwd, flag ?? env[DATA_DIR_ENV] ?? DEFAULT_DATA_DIR);
}

export function ensureDir(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}
