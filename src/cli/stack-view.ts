// How a running stack is shown: the URL table printed by `up` and the pod table of `status`.
import { uiLinks } from '../control-room/uis.ts';
import type { StackStatus } from '../control-plane/admin-routes.ts';
import { visible } from '../core/terminal.ts';
import { formatTable } from './table.ts';

/**
 * Every UI by the name `trustusbank open` takes, then every other host port (the waypoints, …); a planned UI
 * that nothing serves yet is listed as "not yet".
 */
export function formatUrlTable(status: StackStatus): string {
  if (status.forwards.length === 0) return '  (no host ports)';
  const links = uiLinks(status.forwards);
  const ui = formatTable(
    ['UI', 'OPEN', 'URL'],
    links.map((l) => [l.label, l.url ? `trustusbank open ${l.name}` : '', l.url ?? `not yet (port ${l.plannedPort})`]),
  );
  const shown = new Set(links.flatMap((l) => (l.url ? [l.url] : [])));
  const rest = status.forwards.filter((f) => !shown.has(f.url)).map((f) => [`${f.namespace}/${f.service}`, f.url]);
  return rest.length > 0 ? `${ui}\n\n${formatTable(['SERVICE (host port)', 'URL'], rest)}` : ui;
}

/** What `trustusbank open control-room` answers; the admin API gives it only to the stack's own user. */
export interface ControlRoomAddress {
  url: string;
  tokenUrl: string;
}

/**
 * The control room's address with its token for a terminal; elsewhere (a log file, CI output, `up --detach`'s
 * up.log) without it, saying how to get it, so that the token does not outlive the session in a file.
 */
export function formatControlRoom(address: ControlRoomAddress, terminal: boolean): string {
  if (!terminal) return `Control room: ${address.url} (its token is printed only to a terminal: \`trustusbank open\` opens the control room with it, \`trustusbank open --print\` prints it)`;
  return `Control room (its actions need this stack's token, which is in this URL; \`trustusbank open\` opens it):\n  ${address.tokenUrl}`;
}

export function formatPodTable(status: StackStatus, now = new Date()): string {
  const table = formatTable(
    ['NAMESPACE', 'POD', 'READY', 'RESTARTS', 'IDENTITY', 'ADDRESS', 'IMAGE', 'DIGEST'],
    status.pods.map((p) => [
      p.namespace,
      p.name,
      p.ready ? 'yes' : p.phase,
      String(p.restarts),
      p.identity,
      p.ip,
      p.image,
      p.digest.slice(0, 19),
    ]),
  );
  const terminations = formatTerminations(status.pods, now);
  return terminations ? `${table}\n\n${terminations}` : table;
}

/**
 * Why pods last stopped, as `kubectl describe pod` shows `Last State: Terminated`: the exit code or signal,
 * when, the restart count, the backoff, and the last lines the process wrote to stderr.
 */
export function formatTerminations(pods: StackStatus['pods'], now = new Date()): string {
  const lines: string[] = [];
  for (const pod of pods) {
    const last = pod.lastTermination;
    if (!last) continue;
    const exit = last.signal ? `killed by ${last.signal}` : `exit code ${last.exitCode}`;
    const next = pod.nextStartAt ? `, next start in ${Math.max(0, Math.ceil((Date.parse(pod.nextStartAt) - now.getTime()) / 1000))} s` : '';
    lines.push(`  ${pod.namespace}/${pod.name}: ${exit} (${last.reason}) at ${last.finishedAt}, ${pod.restarts} restart${pod.restarts === 1 ? '' : 's'}${next}`);
    for (const line of last.stderr) lines.push(`    | ${visible(line)}`);
    if (last.stderr.length === 0) lines.push('    (nothing on stderr)');
  }
  return lines.length > 0 ? `Last termination:\n${lines.join('\n')}` : '';
}

export function formatPolicies(status: StackStatus): string {
  const byPolicy = new Map<string, string[]>();
  for (const pod of status.pods) for (const policy of pod.policies) byPolicy.set(policy, [...(byPolicy.get(policy) ?? []), pod.workload]);
  if (status.policies.length === 0) return '  none (every connection is allowed; `trustusbank policies on` applies the mesh policies)';
  return formatTable(
    ['POLICY', 'APPLIES TO'],
    status.policies.map((policy) => [policy, [...new Set(byPolicy.get(policy) ?? [])].join(', ') || '(no running workload)']),
  );
}

export function formatGateways(status: StackStatus): string {
  if (status.gateways.length === 0) return '  none';
  return formatTable(
    ['NAMESPACE', 'GATEWAY', 'KIND', 'IDENTITY', 'ADDRESS', 'HOST URL'],
    status.gateways.map((g) => [g.namespace, g.name, g.kind, g.identity, g.ip, g.hostUrl ?? '-']),
  );
}

/** One line on how pods are isolated, loud when the kernel does not enforce it. */
/** Said at start-up when the desired state came from the previous run; empty otherwise. */
export function formatRestoredState(status: Pick<StackStatus, 'restoredState'>): string {
  const restored = status.restoredState;
  return restored ? `Desired state restored from the previous run (${restored.resources} resources, ${restored.location}); \`trustusbank reset\` returns to the initial state.` : '';
}

export function formatIsolation(status: Pick<StackStatus, 'isolation'>): string {
  return status.isolation.mode === 'kernel' ? `Pod isolation: kernel (${status.isolation.reason}).` : `Pod isolation: WARNING ${status.isolation.reason}.`;
}

