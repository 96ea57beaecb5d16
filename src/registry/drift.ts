// Drift: what the bank onboarded against what runs now, for every catalogue entry. Pure: the caller observes
// (image digests recorded at onboarding, the digests of the running pods, the agent gateway's tool pins and
// drift reports) and this turns the observation into the registry's view.
//
// Two kinds of drift, caught at two depths:
// - image drift: a pod runs bytes other than the onboarded digest. A same-tag rug-pull shows here even before
//   anything calls the server: the tag is unchanged, the digest is not.
// - tool drift: the agent gateway saw the server list tools that differ from the fingerprints it pinned
//   (a poisoned description, an extra argument, an added or removed tool).
import { isInHouse, type Catalogue, type CatalogueEntry } from './catalogue.ts';

/** A tool change as the agent gateway reports it (`changed` | `added` | `removed`). */
export interface ObservedToolChange {
  tool: string;
  kind: string;
  /** For `changed`: which parts (description, inputSchema, …). */
  fields?: string[];
  /** Fingerprint of the pin, when the gateway gives it. */
  pinned?: string;
  /** Fingerprint of the tool as listed now, when the gateway gives it. */
  observed?: string;
}

/** The agent gateway's pins and drift report for one MCP server. */
export interface ObservedServerTools {
  pinned: { tool: string; fingerprint: string; pinnedAt: number }[];
  drifted: boolean;
  changes: ObservedToolChange[];
}

export interface Observed {
  /** By catalogue name: the image digest recorded when the entry was onboarded, and when (ISO time). */
  onboarded: Record<string, { digest: string; onboardedAt: string }>;
  /** By catalogue name: the image digests of the entry's running pods (empty or absent: nothing runs). */
  running: Record<string, { digests: string[] }>;
  /** By endpoint key (`host:port/path`, the gateway's pin key): pins and drift. */
  tools: Record<string, ObservedServerTools>;
}

export interface OnboardedTool {
  tool: string;
  fingerprint: string;
  /** ms epoch of the pin (first sight, or the last approval). */
  pinnedAt: number;
}

export type CurrentToolState = 'pinned' | 'changed' | 'added' | 'removed';

export interface CurrentTool {
  tool: string;
  /** The fingerprint listed now; null when the tool is gone or the gateway did not say. */
  fingerprint: string | null;
  /** `pinned`: as onboarded; otherwise how it drifted. */
  state: CurrentToolState;
  /** For `changed`: which parts changed. */
  fields?: string[];
}

export type EntryStatus = 'ok' | 'drift' | 'not running' | 'not onboarded';

export interface RegistryEntryView {
  entry: CatalogueEntry;
  /** The provider is the bank itself (not in the third-party register). */
  inHouse: boolean;
  onboarded: {
    /** Image digest recorded at onboarding; null when there is no onboarding record. */
    digest: string | null;
    /** ISO time of the onboarding record; null without one. */
    at: string | null;
    /** The tool fingerprints the agent gateway pinned for the entry's endpoint. */
    tools: OnboardedTool[];
  };
  current: {
    /** Image digests of the running pods, without repeats; empty when nothing runs. */
    digests: string[];
    tools: CurrentTool[];
    /** Whether the agent gateway has seen the endpoint's tools at all. */
    toolsSeen: boolean;
  };
  drift: {
    image: boolean;
    tools: boolean;
    /** Plain sentences, naming digests (short form) and tools. */
    reasons: string[];
  };
  /** `not onboarded` first (no baseline to compare with), then `drift`, then `not running`, else `ok`. */
  status: EntryStatus;
}

/** `sha256:` and the first 12 hex digits; anything else as it is. */
export function shortDigest(digest: string): string {
  const match = /^sha256:([0-9a-f]{12})[0-9a-f]*$/.exec(digest);
  return match ? `sha256:${match[1]}` : digest;
}

/** The registry's view of every catalogue entry, in catalogue order. */
export function registryView(catalogue: Pick<Catalogue, 'financialEntity' | 'entries'>, observed: Observed): RegistryEntryView[] {
  return catalogue.entries.map((entry) => entryView(entry, isInHouse(catalogue, entry), observed));
}

function entryView(entry: CatalogueEntry, inHouse: boolean, observed: Observed): RegistryEntryView {
  const onboarding = own(observed.onboarded, entry.name);
  const digests = unique(own(observed.running, entry.name)?.digests ?? []);
  const tools = own(observed.tools, entry.endpoint);

  const reasons: string[] = [];
  const foreign = onboarding ? digests.filter((digest) => digest !== onboarding.digest) : [];
  for (const digest of foreign) {
    reasons.push(
      `A running pod has image ${shortDigest(digest)}, not the onboarded ${shortDigest(onboarding!.digest)}: ` +
        `the bytes behind ${entry.image} are not the ones the bank onboarded.`,
    );
  }
  const toolDrift = tools?.drifted === true;
  if (toolDrift) {
    const changes = tools.changes;
    if (changes.length === 0) reasons.push(`The agent gateway reports that the tools of ${entry.endpoint} drifted from their pinned fingerprints.`);
    for (const change of changes) reasons.push(changeSentence(change));
  }

  const status: EntryStatus = !onboarding ? 'not onboarded' : foreign.length > 0 || toolDrift ? 'drift' : digests.length === 0 ? 'not running' : 'ok';
  return {
    entry,
    inHouse,
    onboarded: {
      digest: onboarding?.digest ?? null,
      at: onboarding?.onboardedAt ?? null,
      tools: (tools?.pinned ?? []).map(({ tool, fingerprint, pinnedAt }) => ({ tool, fingerprint, pinnedAt })),
    },
    current: { digests, tools: tools ? currentTools(tools) : [], toolsSeen: tools !== undefined },
    drift: { image: foreign.length > 0, tools: toolDrift, reasons },
    status,
  };
}

/** The pins with the reported changes applied: what the server lists now, as far as the gateway told. */
function currentTools(observed: ObservedServerTools): CurrentTool[] {
  const changes = observed.drifted ? observed.changes : [];
  const tools: CurrentTool[] = observed.pinned.map((pin) => {
    const change = changes.find((c) => c.tool === pin.tool && c.kind !== 'added');
    if (!change) return { tool: pin.tool, fingerprint: pin.fingerprint, state: 'pinned' };
    if (change.kind === 'removed') return { tool: pin.tool, fingerprint: null, state: 'removed' };
    return { tool: pin.tool, fingerprint: change.observed ?? null, state: 'changed', ...(change.fields ? { fields: change.fields } : {}) };
  });
  for (const change of changes) {
    if (change.kind === 'added' && !tools.some((tool) => tool.tool === change.tool)) tools.push({ tool: change.tool, fingerprint: change.observed ?? null, state: 'added' });
  }
  return tools;
}

function changeSentence(change: ObservedToolChange): string {
  const name = `Tool ${change.tool}`;
  const prints = change.pinned && change.observed ? ` (fingerprint ${change.pinned.slice(0, 12)} → ${change.observed.slice(0, 12)})` : '';
  switch (change.kind) {
    case 'changed':
      return `${name} changed since it was pinned${change.fields && change.fields.length > 0 ? `: its ${joinWords(change.fields)} differ${change.fields.length === 1 ? 's' : ''}` : ''}${prints}.`;
    case 'added':
      return `${name} is listed but was never pinned (added after onboarding).`;
    case 'removed':
      return `${name} was pinned but is no longer listed.`;
    default:
      return `${name} drifted from its pin (${change.kind})${prints}.`;
  }
}

function joinWords(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** A record's own property: a catalogue name such as `constructor` must not find Object.prototype's. */
function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}
