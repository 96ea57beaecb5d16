// The page's script, bundled for the browser by esbuild: at image build time it becomes a file of the image
// (`public/app.js`, part of the image's digest like the server code); run from source (`trustusbank workload
// chatbot`, tests) it is bundled on start. Only the files of apps/chatbot/page and what they import are in it.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PAGE_SCRIPT_FILE = 'public/app.js';

/** The files the chatbot's image carries beside its entry. */
export async function chatbotImageFiles(): Promise<Record<string, Uint8Array>> {
  return { [PAGE_SCRIPT_FILE]: await bundlePageScript() };
}

export async function bundlePageScript(): Promise<Uint8Array> {
  // Loaded only when bundling, so that the image's server code does not load esbuild in the pod.
  const { build } = await import('esbuild');
  const here = fileURLToPath(import.meta.url);
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
}

/** The script from the image the entry file runs from, or bundled now when running from source. */
export async function loadPageScript(entryUrl: string): Promise<Uint8Array> {
  try {
    return await readFile(new URL(PAGE_SCRIPT_FILE, entryUrl));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return bundlePageScript();
  }
}
