// The kernel's half of a pod's isolation. Where the kernel lets an unprivileged user make namespaces, every
// pod runs in its own user, network, mount and PID namespaces (util-linux `unshare`):
//  - network: a namespace with nothing in it (not even a loopback that is up), so a raw socket, UDP, a DNS
//    resolver pointed anywhere, or any other way around the capture shim finds no network at all. The one
//    way out is the capture socket: a Unix socket of the node's ztunnel, bound into the pod's view;
//  - mount: a fresh root (tmpfs) with only the OS's /usr, the Node binary, the pod's image and base layer,
//    its volume and its socket directory bound in, pivoted into, the host's root unmounted; the data
//    directory, the engine's admin socket, the CA and other pods' sockets do not exist in there;
//  - PID: the pod sees its own processes only, and all of them die with it.
// Where namespaces are not available (macOS, kernels that forbid unprivileged user namespaces), pods run with
// the capture shim and Node's permission model only: `shim` mode, which `up`, `status` and the README name
// as not kernel-enforced.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';

export type IsolationMode = 'kernel' | 'shim';

export interface Isolation {
  mode: IsolationMode;
  /** Why the mode was chosen (for `up` and `status`): what was probed, or what was asked. */
  reason: string;
}

/** `TRUSTUSBANK_ISOLATION=kernel` makes missing namespaces an error (CI runs that); `shim` turns them off. */
export const ISOLATION_ENV = 'TRUSTUSBANK_ISOLATION';

export const SHIM_ONLY_NOTICE = 'capture: shim only, not kernel-enforced';

export class IsolationUnavailable extends Error {
  override readonly name = 'IsolationUnavailable';
}

let probed: Isolation | undefined;

/** Decide once per process how pods are isolated: asked for by the environment, else what the kernel allows. */
export function detectIsolation(env: NodeJS.ProcessEnv = process.env): Isolation {
  const wanted = env[ISOLATION_ENV];
  if (wanted !== undefined && wanted !== '' && wanted !== 'kernel' && wanted !== 'shim' && wanted !== 'auto') {
    throw new IsolationUnavailable(`${ISOLATION_ENV} must be kernel, shim or auto (got "${wanted}")`);
  }
  if (wanted === 'shim') return { mode: 'shim', reason: `${SHIM_ONLY_NOTICE} (${ISOLATION_ENV}=shim)` };
  probed ??= probeNamespaces();
  if (wanted === 'kernel' && probed.mode !== 'kernel') throw new IsolationUnavailable(`${ISOLATION_ENV}=kernel, but ${probed.reason}`);
  return probed;
}

function probeNamespaces(): Isolation {
  if (process.platform !== 'linux') return { mode: 'shim', reason: `${SHIM_ONLY_NOTICE}: namespaces are Linux-only (this is ${process.platform})` };
  for (const tool of ['unshare', 'pivot_root', 'mount', 'umount']) {
    if (!findTool(tool)) return { mode: 'shim', reason: `${SHIM_ONLY_NOTICE}: \`${tool}\` (util-linux) was not found` };
  }
  // The whole launch, not just unshare: a kernel may allow the namespaces and still refuse a mount in them.
  const probe = spawnSync(findTool('unshare')!, [...UNSHARE_FLAGS, '/bin/sh', '-c', 'mount -t tmpfs probe /tmp && mount -t proc proc /proc'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5_000 });
  if (probe.status === 0) return { mode: 'kernel', reason: 'pods in their own user, network, mount and PID namespaces' };
  const why = probe.stderr?.toString().trim().split('\n').at(-1) || (probe.error ? probe.error.message : `exit ${probe.status}`);
  return { mode: 'shim', reason: `${SHIM_ONLY_NOTICE}: unprivileged namespaces are not available here (${why})` };
}

function findTool(name: string): string | undefined {
  for (const dir of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) if (existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  return undefined;
}

const UNSHARE_FLAGS = ['--user', '--map-root-user', '--net', '--mount', '--pid', '--fork', '--kill-child', '--'];

/** What a pod (or a command exec'd into one) may see. Paths keep their host names inside. */
export interface MountView {
  /** Bound read-only: the image, the base layer, the shim, … */
  readOnly: string[];
  /** Bound read-write: the volume, the pod's socket directory. */
  readWrite: string[];
}

/**
 * The command that runs `argv` in a new sandbox with `view`: unshare, then a small POSIX shell script (below)
 * that builds the root, pivots into it and execs. Pure: the caller spawns it.
 */
export function sandboxCommand(view: MountView, argv: string[]): { command: string; args: string[] } {
  const binds: string[] = [];
  const seen = new Set<string>();
  const add = (mode: 'ro' | 'rw', path: string): void => {
    if (seen.has(path)) return;
    seen.add(path);
    binds.push(mode, path);
  };
  // The OS: /usr (merged-/usr systems link /lib, /lib64, /bin to it), and the Node binary's own prefix.
  add('ro', '/usr');
  for (const top of ['/lib', '/lib64', '/bin', '/sbin']) {
    const stat = lstatOrUndefined(top);
    if (stat?.isSymbolicLink()) binds.push('link', top, realpathSync(top).replace(/^\//, ''));
    else if (stat?.isDirectory()) add('ro', top);
  }
  const node = realpathSync(argv[0] === process.execPath ? process.execPath : argv[0]!);
  if (!node.startsWith('/usr/')) add('ro', dirname(dirname(node)));
  for (const path of view.readOnly) add('ro', path);
  for (const path of view.readWrite) add('rw', path);
  const sources = [...seen];
  const mountPoint = MOUNT_POINTS.find((dir) => existsSync(dir) && !sources.some((source) => source === dir || source.startsWith(`${dir}/`)));
  if (!mountPoint) throw new IsolationUnavailable(`no directory to build a pod's root on (tried ${MOUNT_POINTS.join(', ')})`);
  return { command: findTool('unshare') ?? 'unshare', args: [...UNSHARE_FLAGS, '/bin/sh', '-c', SETUP_SCRIPT, 'tub-pod', mountPoint, ...binds, '--', ...argv] };
}

/** Where the new root is mounted in the pod's mount namespace: any directory that hides no bind source. */
const MOUNT_POINTS = ['/mnt', '/media', '/srv', '/boot', '/opt', '/home', '/var', '/root'];

function lstatOrUndefined(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

// Runs as root of the new user namespace, in the new mount and PID namespaces, before the pod's program.
// Arguments: mount-point (mode path [target])… -- argv. The new root is a tmpfs mounted, in the new mount
// namespace only, on a directory that hides none of the bind sources. Bind mounts keep their host paths, so
// nothing needs translating.
// A read-only remount keeps nosuid/nodev where the kernel locks them on the source mount.
const SETUP_SCRIPT = `set -eu
root=$1; shift
mount -t tmpfs -o mode=0755,size=4m tub-root "$root"
mkdir -p "$root/proc" "$root/dev" "$root/tmp" "$root/.old"
mount -t tmpfs -o mode=1777,size=16m tub-tmp "$root/tmp"
while [ "$1" != "--" ]; do
  mode=$1; path=$2; shift 2
  case "$mode" in
    link) ln -s "$1" "$root$path"; shift; continue ;;
  esac
  [ -e "$path" ] || continue
  if [ -d "$path" ]; then mkdir -p "$root$path"; else mkdir -p "$root\${path%/*}"; : > "$root$path"; fi
  mount --bind "$path" "$root$path"
  if [ "$mode" = ro ]; then mount -o remount,bind,ro "$root$path" 2>/dev/null || mount -o remount,bind,ro,nosuid,nodev "$root$path"; fi
done
shift
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
for device in null zero random urandom; do : > "$root/dev/$device"; mount --bind "/dev/$device" "$root/dev/$device"; done
cd "$root"
pivot_root . .old
umount -l /.old
rmdir /.old
mount -o remount,bind,ro / 2>/dev/null || true
exec "$@"
`;
