// The control room's page script, bundled for the browser by esbuild when `up` starts (the control room is part
// of the `up` process, not an image). Only src/control-room/page and what it imports are in it.
import { bundlePageApp } from '../core/browser-bundle.ts';

export function bundleControlRoomScript(): Promise<Uint8Array> {
  return bundlePageApp(import.meta.url);
}
