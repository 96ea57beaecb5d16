// One page script bundled for the browser by esbuild: the chatbot's (at image build) and the control room's (when
// `up` starts) are built alike, minified ES2022, no legal comments. esbuild is loaded only when bundling, so that
// code which merely serves a bundle (a pod's server) does not load it.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bundle `page/app.<ts|js>` beside the module at `moduleUrl` (pass `import.meta.url`). */
export async function bundlePageApp(moduleUrl: string): Promise<Uint8Array> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [fileURLToPath(new URL(`./page/app${extname(fileURLToPath(moduleUrl))}`, moduleUrl))],
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
