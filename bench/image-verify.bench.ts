// The cost of verifying an image's bytes at every pod start (no cache: see README, "Admission verifies bytes"),
// against the floor of reading the same files, and against what a pod start costs anyway (a bare Node process).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { WORKLOADS, entryPath } from '../apps/catalog.ts';
import { ImageStore } from '../src/runtime/images.ts';
import { tempDir } from '../testing/workloads.ts';
import { report, time } from './stats.ts';

/** Every file of an image directory listed and read, the walk the scan makes without hashing: what any check of the bytes must at least do. */
function readAll(dir: string): number {
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) bytes += readAll(path);
    else if (entry.isFile()) bytes += readFileSync(path).length;
  }
  return bytes;
}

export async function run(): Promise<void> {
  const data = tempDir('tub-bench-');
  try {
    const images = new ImageStore(join(data.path, 'images'));
    const digests = await Promise.all(WORKLOADS.flatMap((workload) => Object.keys(workload.variants).map((variant) => images.build(entryPath(workload, variant)))));
    const largest = digests.reduce((a, b) => (statSync(images.entryFile(a)).size >= statSync(images.entryFile(b)).size ? a : b));
    const size = statSync(images.entryFile(largest)).size;
    const options = { n: 2000, warmup: 50, maxMs: 10_000 };

    const readOne = await time(`read one image's files, ${(size / 1024).toFixed(0)} KiB (baseline)`, async () => readAll(images.imageDir(largest)), options);
    const verifyOne = await time('verify it (list, read, hash, compare)', async () => {
      if (!images.verify(largest).ok) throw new Error('image does not verify');
    }, options);
    const readEvery = await time(`read all ${digests.length} images' files (baseline)`, async () => digests.forEach((d) => readAll(images.imageDir(d))), options);
    const verifyEvery = await time(`verify all ${digests.length} images`, async () => {
      for (const digest of digests) if (!images.verify(digest).ok) throw new Error(`${digest} does not verify`);
    }, options);
    const bareNode = await time('bare Node process start+exit (pod floor)', () => new Promise((resolve) => spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' }).once('exit', resolve)), { n: 20, warmup: 2, maxMs: 10_000 });

    report('Image content verification at every pod start, no cache', readOne, [verifyOne, bareNode]);
    report(`The same over every image (${digests.length}: one per workload variant)`, readEvery, [verifyEvery]);
  } finally {
    data.remove();
  }
}
