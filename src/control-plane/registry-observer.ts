// What the registry compares: for every catalogue entry, the digest the bank onboarded (the build it signed
// when the stack started; kept in <data-dir>/registry/onboarded.json and renewed only when the onboarded build
// itself changes), the digests its pods run now, and the agent gateway's tool pins and drift for its endpoint.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Catalogue } from '../registry/catalogue.ts';
import type { Observed, ObservedServerTools } from '../registry/drift.ts';
import type { Cluster } from './cluster.ts';

const AGENT_GATEWAY = 'trustusbank-platform/trustusbank-agentgw';

type Onboarded = Observed['onboarded'];

/** Record the onboarded digest of every entry: the publisher's default build of its image. */
export function recordOnboarding(dataDir: string, catalogue: Catalogue, onboardedBuild: (image: string) => string | undefined, now = new Date()): Onboarded {
  const file = join(dataDir, 'registry', 'onboarded.json');
  const previous: Onboarded = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Onboarded) : {};
  const next: Onboarded = {};
  for (const entry of catalogue.entries) {
    const digest = onboardedBuild(entry.image);
    if (!digest) continue;
    next[entry.name] = previous[entry.name]?.digest === digest ? previous[entry.name]! : { digest, onboardedAt: now.toISOString() };
  }
  mkdirSync(join(dataDir, 'registry'), { recursive: true });
  writeFileSync(file, JSON.stringify(next, null, 2));
  return next;
}

export function observeRegistry(cluster: Pick<Cluster, 'engine' | 'waypoints'>, catalogue: Catalogue, onboarded: Onboarded): Observed {
  const running: Observed['running'] = {};
  for (const entry of catalogue.entries) {
    running[entry.name] = { digests: [...new Set(cluster.engine.podsOf(entry.namespace, entry.workload).filter((p) => p.phase === 'Running').map((p) => p.imageDigest))] };
  }
  const tools: Record<string, ObservedServerTools> = {};
  const gateway = cluster.waypoints.agentGateways().find((g) => g.key === AGENT_GATEWAY);
  if (gateway) {
    for (const report of gateway.pins.status()) {
      tools[report.server] = {
        pinned: gateway.pins.pins(report.server).map((p) => ({ tool: p.tool, fingerprint: p.fingerprint, pinnedAt: p.pinnedAt })),
        drifted: report.drifted,
        changes: report.changes,
      };
    }
  }
  return { onboarded, running, tools };
}
