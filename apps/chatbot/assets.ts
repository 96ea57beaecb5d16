// The page's script, bundled for the browser by esbuild: at image build time it becomes a file of the image
// (`public/app.js`, part of the image's digest like the server code); run from source (`trustusbank workload
// chatbot`, tests) it is bundled on start. Only the files of apps/chatbot/page and what they import are in it.
import { readFile } from 'node:fs/promises';
import { bundlePageApp } from '../../src/core/browser-bundle.ts';

export const PAGE_SCRIPT_FILE = 'public/app.js';

/** The files the chatbot's image carries beside its entry. */
export async function chatbotImageFiles(): Promise<Record<string, Uint8Array>> {
  return { [PAGE_SCRIPT_FILE]: await bundlePageScript() };
}

export function bundlePageScript(): Promise<Uint8Array> {
  // esbuild is loaded only when bundling, so that the image's server code does not load it in the pod.
  return bundlePageApp(import.meta.url);
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
