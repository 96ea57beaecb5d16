// Reaching the running stack from a CLI command: the data directory, its admin socket, and a clear error when
// nothing runs there.
import { callAdminApi, type StackClient } from '../control-plane/admin-api.ts';
import { resolveDataDir } from '../core/data-dir.ts';
import { UserError } from '../core/errors.ts';
import { adminSocketPath, readLiveStack } from '../runtime/stack-state.ts';

export type { StackClient };

export function stackClient(dataDirFlag: string | undefined): StackClient {
  const dataDir = resolveDataDir(dataDirFlag);
  if (!readLiveStack(dataDir)) throw new UserError(`TrustUsBank is not running (data directory ${dataDir}); start it with \`npm start\` or \`trustusbank up --detach\``, 3);
  const socket = adminSocketPath(dataDir);
  return { dataDir, call: (method, path, body) => callAdminApi(socket, method, path, body) };
}
