// An append-only file that rotates by size, as logrotate's `size` + `rotate N` do: when a line would take the
// file past `maxBytes`, `<file>` becomes `<file>.1`, `<file>.1` becomes `<file>.2`, …, and `<file>.<keep>` is
// dropped. So the file and its old copies never hold more than about (keep + 1) × maxBytes. Lines are written
// whole (a line is never split across files) and synchronously, so a crash loses no line already appended.
import { appendFileSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

export interface RotationLimits {
  maxBytes: number;
  /** Old files kept beside the current one. */
  keep: number;
}

export class RotatingFile {
  private size: number;

  constructor(
    readonly path: string,
    readonly limits: RotationLimits,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    // A restart continues the file it finds, counting what is already there.
    this.size = fileSize(path);
  }

  /** Old files, newest first (`<file>.1` …), whether or not they exist yet. */
  rotated(): string[] {
    return Array.from({ length: this.limits.keep }, (_, i) => `${this.path}.${i + 1}`);
  }

  append(line: string): void {
    const bytes = Buffer.byteLength(line, 'utf8');
    if (this.size > 0 && this.size + bytes > this.limits.maxBytes) this.rotate();
    appendFileSync(this.path, line);
    this.size += bytes;
  }

  private rotate(): void {
    const [newest, ...older] = this.rotated();
    if (newest === undefined) {
      rmSync(this.path, { force: true });
    } else {
      rmSync(older.at(-1) ?? newest, { force: true });
      for (let i = older.length - 1; i >= 0; i--) renameIfPresent(i === 0 ? newest : older[i - 1]!, older[i]!);
      renameIfPresent(this.path, newest);
    }
    this.size = 0;
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function renameIfPresent(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
