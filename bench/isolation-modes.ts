// Which pod isolation modes a benchmark can compare on this machine: always `shim` (the baseline: capture shim and
// Node's permission model only), and `kernel` (pods in their own namespaces) where the kernel allows it. A machine
// without unprivileged namespaces measures the shim alone and says so, unless TRUSTUSBANK_ISOLATION=kernel
// demands the comparison (as CI may), which makes it an error.
import { detectIsolation, ISOLATION_ENV, type IsolationMode } from '../src/runtime/sandbox.ts';

export function isolationModes(): IsolationMode[] {
  const probed = detectIsolation({ [ISOLATION_ENV]: 'auto' });
  if (probed.mode === 'kernel') return ['kernel', 'shim'];
  if (process.env[ISOLATION_ENV] === 'kernel') throw new Error(`${ISOLATION_ENV}=kernel, but ${probed.reason}`);
  console.log(`  kernel isolation is not available here (${probed.reason}): measuring the shim-only mode alone`);
  return ['shim'];
}

/** The environment that makes a cluster started in this process (or a CLI child) use `mode`. */
export function isolationEnv(mode: IsolationMode): NodeJS.ProcessEnv {
  return { [ISOLATION_ENV]: mode };
}

/** Run `fn` with `mode` asked for in this process's environment (read by startCluster), then put it back. */
export async function withIsolation<T>(mode: IsolationMode, fn: () => Promise<T>): Promise<T> {
  const before = process.env[ISOLATION_ENV];
  process.env[ISOLATION_ENV] = mode;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env[ISOLATION_ENV];
    else process.env[ISOLATION_ENV] = before;
  }
}
