// Size rotation: the current file and `keep` old ones, each under the bound, lines whole and in order.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../testing/workloads.ts';
import { RotatingFile } from './rotating-file.ts';

describe('a rotating file', () => {
  const dirs: { remove(): void }[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));
  const path = (): string => {
    const dir = tempDir();
    dirs.push(dir);
    return join(dir.path, 'logs', 'spans.jsonl');
  };
  const line = (i: number): string => `{"n":${i},"pad":"${'x'.repeat(80)}"}\n`;

  it('keeps at most keep old files under maxBytes each, dropping the oldest lines whole', () => {
    const file = path();
    const rotating = new RotatingFile(file, { maxBytes: 1000, keep: 2 });
    for (let i = 0; i < 100; i++) rotating.append(line(i));
    const files = [`${file}.2`, `${file}.1`, file];
    const numbers = files.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { n: number }).n));
    for (const f of files) expect(readFileSync(f).length).toBeLessThanOrEqual(1000);
    expect(existsSync(`${file}.3`)).toBe(false);
    expect(numbers.at(-1)).toBe(99);
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => 100 - numbers.length + i));
  });

  it('counts what a previous run left in the file', () => {
    const file = path();
    new RotatingFile(file, { maxBytes: 1000, keep: 1 }).append('x'.repeat(950) + '\n');
    new RotatingFile(file, { maxBytes: 1000, keep: 1 }).append(line(1));
    expect(readFileSync(`${file}.1`, 'utf8')).toBe('x'.repeat(950) + '\n');
    expect(readFileSync(file, 'utf8')).toBe(line(1));
  });

  it('with keep 0 starts the file again, and writes a line larger than the bound whole', () => {
    const file = path();
    const rotating = new RotatingFile(file, { maxBytes: 100, keep: 0 });
    rotating.append(line(1));
    rotating.append(line(2));
    expect(readFileSync(file, 'utf8')).toBe(line(2));
    expect(existsSync(`${file}.1`)).toBe(false);
    rotating.append('y'.repeat(300) + '\n');
    expect(readFileSync(file, 'utf8')).toBe('y'.repeat(300) + '\n');
  });
});
