// The dashboard page's script, bundled for the browser by esbuild when the dashboard starts: only the files of
// src/evidence/dashboard/page and the pure modules they import (model, time, frames) are in it.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

export async function bundleDashboardScript(): Promise<Uint8Array> {
  const { build, stop } = await import('esbuild');
  const here = fileURLToPath(import.meta.url);
  try {
    const result = await build({
      entryPoints: [fileURLToPath(new URL(`./page/app${extname(here)}`, import.meta.url))],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      minify: true,
      write: false,
      legalComments: 'none',
      logLevel: 'silent',
    });
    return result.outputFiles[0]!.contents;
  } finally {
    // esbuild keeps a service process for further builds; there are none.
    await stop();
  }
}
