// The control room's page script, bundled for the browser by esbuild when `up` starts (the control room is part
// of the `up` process, not an image). Only src/control-room/page and what it imports are in it.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

export async function bundleControlRoomScript(): Promise<Uint8Array> {
  // Loaded only when bundling, so that nothing else pays for esbuild.
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
