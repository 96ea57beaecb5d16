// The deny log lines the dashboard shows where Grafana would query Loki: each layer's refusals from the stack's
// own structured logs (<data-dir>/logs): ztunnel's policy rejections ("explicitly denied by: ns/policy"), the
// agent gateway's and the waypoints' 403s (with reason, policy and trace id), admission refusals, and a workload's
// own "exfil blocked" line. Only the tail of each file is read (bounded), newest first.
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';

export interface DenyLine {
  /** ISO time of the line. */
  ts: string;
  /** Which log: ztunnel, agentgateway, waypoint, control-plane, or `pod <namespace>/<pod>`. */
  source: string;
  /** What refused: mesh, gateway, waypoint, admission, workload. */
  layer: string;
  /** Who was refused: the pod (ztunnel names the pod), or the caller's SPIFFE identity. */
  subject: string;
  identity?: string;
  destination?: string;
  /** The policy that refused, when the line names it. */
  policy?: string;
  reason?: string;
  traceId?: string;
  /** The line as written (at most 2,000 characters). */
  line: string;
}

type Fields = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The deny this log line records, or undefined for any other line. Pure. */
export function denyOf(source: string, text: string): DenyLine | undefined {
  let fields: Fields;
  try {
    fields = JSON.parse(text) as Fields;
  } catch {
    return undefined;
  }
  if (typeof fields !== 'object' || fields === null) return undefined;
  const ts = str(fields.ts);
  if (!ts) return undefined;
  const line = text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
  const base = { ts, source, line };
  if (source === 'ztunnel') {
    const error = str(fields.error);
    if (!error || !/denied|policy rejection|rbac/i.test(error)) return undefined;
    const policy = /explicitly denied by: (\S+)/.exec(error)?.[1];
    const destination = str(fields['dst.service']) !== 'unknown' ? str(fields['dst.service']) : str(fields['dst.workload']);
    return { ...base, layer: 'mesh', subject: `${str(fields['src.namespace']) ?? '?'}/${str(fields['src.workload']) ?? '?'}`, ...opt('identity', str(fields['src.identity'])), ...opt('destination', destination ? `${destination}${str(fields['dst.namespace']) ? ` (${str(fields['dst.namespace'])})` : ''}` : undefined), ...opt('policy', policy), reason: error, ...opt('traceId', str(fields['trace.id'])) };
  }
  if (source === 'agentgateway' || source === 'waypoint') {
    if (fields['http.status'] !== 403) return undefined;
    const gateway = str(fields.gateway) ?? '';
    return { ...base, layer: source === 'waypoint' || gateway.endsWith('-waypoint') ? 'waypoint' : 'gateway', subject: str(fields['src.identity']) ?? '?', ...opt('identity', str(fields['src.identity'])), ...opt('destination', [str(fields['gen_ai.tool.name']) ?? str(fields['mcp.target']), str(fields.route)].filter(Boolean).join(' on ') || undefined), ...opt('policy', str(fields.policy)), ...opt('reason', [str(fields.reason), str(fields.error)].filter(Boolean).join(': ') || undefined), ...opt('traceId', str(fields['trace.id'])) };
  }
  if (source === 'control-plane') {
    const msg = str(fields.msg) ?? '';
    if (!/refused/.test(msg)) return undefined;
    return { ...base, layer: 'admission', subject: str(fields.object) ?? '?', ...opt('destination', str(fields.image)), ...opt('policy', str(fields.policy)), ...opt('reason', str(fields.reason)) };
  }
  if (source.startsWith('pod ') && str(fields.msg) === 'exfil blocked') {
    return { ...base, layer: 'workload', subject: source.slice(4), ...opt('destination', str(fields.url)), ...opt('reason', str(fields.reason)) };
  }
  return undefined;
}

const opt = <K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> => (value === undefined ? {} : ({ [key]: value } as Record<K, string>));

const TAIL_BYTES = 512 * 1024;
const MAX_POD_LOGS = 200;

/** The last `TAIL_BYTES` of a file as whole lines (the first, partial line dropped). */
function tailLines(file: string): string[] {
  if (!existsSync(file)) return [];
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - TAIL_BYTES);
    const buffer = Buffer.alloc(size - start);
    readSync(fd, buffer, 0, buffer.length, start);
    const lines = buffer.toString('utf8').split('\n');
    if (start > 0) lines.shift();
    return lines.filter((l) => l !== '');
  } finally {
    closeSync(fd);
  }
}

/** The deny lines at or after `sinceMs`, newest first, at most `limit`. */
export function readDenyLines(logsDir: string, options: { sinceMs?: number; limit?: number } = {}): DenyLine[] {
  const sources: { source: string; file: string }[] = ['ztunnel', 'agentgateway', 'waypoint', 'control-plane'].map((source) => ({ source, file: join(logsDir, `${source}.log`) }));
  const podsDir = join(logsDir, 'pods');
  if (existsSync(podsDir)) {
    for (const namespace of readdirSync(podsDir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
      for (const file of readdirSync(join(podsDir, namespace.name)).filter((f) => f.endsWith('.log'))) {
        if (sources.length >= MAX_POD_LOGS) break;
        sources.push({ source: `pod ${namespace.name}/${file.slice(0, -4)}`, file: join(podsDir, namespace.name, file) });
      }
    }
  }
  const since = options.sinceMs ?? 0;
  const lines = sources.flatMap(({ source, file }) => tailLines(file).flatMap((text) => denyOf(source, text) ?? []));
  return lines
    .filter((l) => Date.parse(l.ts) >= since)
    .sort((a, b) => b.ts.localeCompare(a.ts))
    .slice(0, options.limit ?? 200);
}
