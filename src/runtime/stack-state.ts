// The record of a running stack, kept in the data directory so that other commands (run from another
// terminal) can find it: its process and its admin socket.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface StackState {
  pid: number;
  started_at: string;
  data_dir: string;
  socket: string;
  ready: boolean;
}

/** Beside the capture shim in `<data>/mesh/`: `trustusbank curl`, bundled for commands exec'd into a pod. */
export const POD_CURL_FILE = 'curl.mjs';

export function stackStatePath(dataDir: string): string {
  return join(dataDir, 'run', 'stack.json');
}

export function adminSocketPath(dataDir: string): string {
  return join(dataDir, 'run', 'engine.sock');
}

/** The recorded stack, if its owning process is still alive. A stale record is removed. */
export function readLiveStack(dataDir: string): StackState | undefined {
  const path = stackStatePath(dataDir);
  let state: StackState;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as StackState;
  } catch {
    return undefined;
  }
  if (typeof state.pid === 'number' && isAlive(state.pid)) return state;
  rmSync(path, { force: true });
  return undefined;
}

export function writeStackState(dataDir: string, state: StackState): void {
  const path = stackStatePath(dataDir);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, JSON.stringify(state, null, 2) + '\n');
  // Atomic: a reader never sees half a record.
  writeFileSync(path, readFileSync(`${path}.tmp`));
  rmSync(`${path}.tmp`, { force: true });
}

export function removeStackState(dataDir: string, ownerPid: number): void {
  try {
    const state = JSON.parse(readFileSync(stackStatePath(dataDir), 'utf8')) as StackState;
    if (state.pid === ownerPid) rmSync(stackStatePath(dataDir), { force: true });
  } catch {
    // already gone
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
