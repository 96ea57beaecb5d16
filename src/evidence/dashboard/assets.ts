// The dashboard page's script, bundled for the browser by esbuild when the dashboard starts: only the files of
// src/evidence/dashboard/page and the pure modules they import (model, time, frames) are in it.
import { bundlePageApp } from '../../core/browser-bundle.ts';

export async function bundleDashboardScript(): Promise<Uint8Array> {
  try {
    return await bundlePageApp(import.meta.url);
  } finally {
    // esbuild keeps a service process for further builds; there are none.
    await (await import('esbuild')).stop();
  }
}
