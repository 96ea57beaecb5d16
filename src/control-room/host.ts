// Starting the control room inside `up`: a fresh random token per stack, the admin routes called in-process,
// the demo's own layer files, the page bundled, and a listener on 127.0.0.1 only.
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { demoApi } from '../demo/api.ts';
import { LAYER_FILES } from '../scenario.ts';
import type { AdminRoutes } from '../control-plane/admin-api.ts';
import { readManifestDocuments } from '../manifests/load.ts';
import { closeServer, listen } from '../core/http.ts';
import type { Logger } from '../core/log.ts';
import { createGuardedServer } from '../core/request-guard.ts';
import type { LayerName } from '../demo/demo.ts';
import { actionRunner, inProcessStack } from './actions.ts';
import { bundleControlRoomScript } from './assets.ts';
import { readSnapshot, resourcesOf } from './snapshot.ts';
import { createControlRoom } from './server.ts';

export const CONTROL_ROOM_PORT = 18000;

export interface RunningControlRoom {
  /** The page's address, without the token. */
  url: string;
  /** The address to open: the token in the fragment, which the browser sends to no server. */
  tokenUrl: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

export async function startControlRoom(options: { routes: AdminRoutes; dataDir: string; port: number; log: Logger; pollMs?: number }): Promise<RunningControlRoom> {
  const token = randomBytes(32).toString('base64url');
  const stack = inProcessStack(options.routes, options.dataDir);
  const api = demoApi(stack);
  const layerResources = Object.fromEntries(Object.entries(LAYER_FILES).map(([layer, file]) => [layer, resourcesOf(readManifestDocuments(file, []))])) as Record<LayerName, ReturnType<typeof resourcesOf>>;
  let port = options.port;
  const room = createControlRoom({
    token: Buffer.from(token),
    script: await bundleControlRoomScript(),
    port: () => port,
    actions: actionRunner(api),
    snapshot: () => readSnapshot({ call: stack.call, lootCount: api.lootCount, layerResources }),
    log: options.log,
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
  });
  const server: Server = createGuardedServer({ shape: 'json', onError: (error) => options.log.warn('control room: request failed', { error: String(error) }) }, (req, res) => room.handle(req, res));
  const bound = await listen(server, { host: '127.0.0.1', port: options.port, portHint: '--control-room-port N' });
  port = bound.port;
  return {
    url: `${bound.url}/`,
    tokenUrl: `${bound.url}/#token=${token}`,
    token,
    port,
    close: async () => {
      room.close();
      await closeServer(server);
    },
  };
}
