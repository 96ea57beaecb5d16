// What the control room shows, read from the running stack through the same admin operations the CLI uses
// (status, images, registry, alerts, mail, metrics, resources) and the attacker's own counter. The shaping
// functions are pure; `readSnapshot` is the one place that asks the stack.
import { parseAllDocuments } from 'yaml';
import type { ImageListing, StackStatus } from '../control-plane/admin-routes.ts';
import { deniesIn, type Denies, type LayerName } from '../demo/demo.ts';
import type { RegistryEntryView } from '../registry/drift.ts';
import { uiLinks, type HostForwardLike, type UiLink } from './uis.ts';

/** The switches on the page, each one or more of the demo's layers (the gateway's three share one process). */
export const CONTROL_LAYERS = {
  mesh: { label: 'Mesh (AuthorizationPolicy)', layers: ['mesh'] },
  gateway: { label: 'Gateway (argument policy, DLP, tool pinning)', layers: ['gateway-arguments', 'dlp', 'tool-pinning'] },
  'access-policy': { label: 'AccessPolicy (who may call the agents)', layers: ['access-policy'] },
  admission: { label: 'Admission (signed images only)', layers: ['admission'] },
} as const satisfies Record<string, { label: string; layers: readonly LayerName[] }>;
export type ControlLayer = keyof typeof CONTROL_LAYERS;
export const CONTROL_LAYER_NAMES = Object.keys(CONTROL_LAYERS) as ControlLayer[];

export type LayerState = 'on' | 'off' | 'partly on';

export const CONVERTER_IMAGE = 'acme-fx/currency-converter:1.0.0';

export interface Snapshot {
  /** The attacker's counter; null when it could not be read (the reason in lootError). */
  loot: number | null;
  lootError?: string;
  denies: Denies;
  layers: { name: ControlLayer; label: string; state: LayerState }[];
  converter?: { image: string; digest: string; variant?: string; signers: string[] };
  registry: { name: string; status: string; reasons: string[] }[];
  alerts: { name: string; state: string; summary: string; activeAt: string }[];
  mail: { count: number; latest?: { subject: string; from: string; to: string[]; created: string } };
  /** The newest incident, open ones first (DORA Art. 17–19 records the stack derives from its ledger). */
  incident?: { id: string; title: string; status: string; major: boolean; detectedAt: string; initialNotification: string };
  links: UiLink[];
}

/** A resource a layer's documents create: the layer is on when every one of them exists. */
export interface ResourceRef {
  kind: string;
  namespace?: string;
  name: string;
}

export function resourcesOf(documents: readonly { text: string }[]): ResourceRef[] {
  return documents.flatMap(({ text }) =>
    parseAllDocuments(text).flatMap((doc) => {
      const value = doc.toJS() as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null;
      if (!value || typeof value.kind !== 'string' || typeof value.metadata?.name !== 'string') return [];
      return [{ kind: value.kind, name: value.metadata.name, ...(typeof value.metadata.namespace === 'string' ? { namespace: value.metadata.namespace } : {}) }];
    }),
  );
}

export function layerState(present: number, total: number): LayerState {
  if (total > 0 && present === total) return 'on';
  return present === 0 ? 'off' : 'partly on';
}

export function converterOf(images: ImageListing): Snapshot['converter'] {
  const image = images.images.find((i) => i.ref === CONVERTER_IMAGE);
  if (!image) return undefined;
  return { image: image.ref, digest: image.digest, ...(image.variant ? { variant: image.variant } : {}), signers: image.signers.map((s) => s.signer) };
}

export function registryOf(entries: readonly RegistryEntryView[]): Snapshot['registry'] {
  return entries.map((e) => ({ name: e.entry.name, status: e.status, reasons: e.drift.reasons }));
}

interface AlertsAnswer {
  alerts: { name: string; state: string; annotations: Record<string, string>; activeAt: string }[];
}
export function alertsOf(answer: AlertsAnswer): Snapshot['alerts'] {
  return answer.alerts.map((a) => ({ name: a.name, state: a.state, summary: a.annotations.summary ?? a.annotations.description ?? '', activeAt: a.activeAt }));
}

interface MailAnswer {
  /** Newest first; `created` in ms since the epoch. */
  messages: { subject: string; from: string; to: string[]; created: number }[];
}
export function mailOf(answer: MailAnswer): Snapshot['mail'] {
  const latest = answer.messages[0];
  return { count: answer.messages.length, ...(latest ? { latest: { subject: latest.subject, from: latest.from, to: latest.to, created: new Date(latest.created).toISOString() } } : {}) };
}

interface IncidentsAnswer {
  /** Newest first. */
  incidents: { id: string; title: string; status: string; detectedAt: string; classification: { major: boolean }; deadlines: { initialNotification: string } }[];
}
export function incidentOf(answer: IncidentsAnswer): Snapshot['incident'] {
  const incident = answer.incidents.find((i) => i.status === 'open') ?? answer.incidents[0];
  return incident ? { id: incident.id, title: incident.title, status: incident.status, major: incident.classification.major, detectedAt: incident.detectedAt, initialNotification: incident.deadlines.initialNotification } : undefined;
}

export type StackCall = <T>(method: 'GET' | 'POST', path: string, body?: unknown) => Promise<T>;

export interface SnapshotSources {
  call: StackCall;
  lootCount(): Promise<number>;
  /** The documents each of the demo's layers applies. */
  layerResources: Record<LayerName, ResourceRef[]>;
}

export async function readSnapshot(sources: SnapshotSources): Promise<Snapshot> {
  const { call } = sources;
  const [status, metrics, images, registry, alerts, mail, incidents, loot, layers] = await Promise.all([
    call<StackStatus>('GET', '/status'),
    call<{ text: string }>('GET', '/metrics'),
    call<ImageListing>('GET', '/images'),
    call<{ entries: RegistryEntryView[] }>('GET', '/registry/entries'),
    call<AlertsAnswer>('GET', '/alerts'),
    call<MailAnswer>('GET', '/mail'),
    call<IncidentsAnswer>('GET', '/incidents'),
    sources.lootCount().then(
      (count) => ({ count }),
      (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
    ),
    readLayers(call, sources.layerResources),
  ]);
  const converter = converterOf(images);
  const incident = incidentOf(incidents);
  return {
    loot: 'count' in loot ? loot.count : null,
    ...('error' in loot ? { lootError: loot.error } : {}),
    denies: deniesIn(metrics.text),
    layers,
    ...(converter ? { converter } : {}),
    registry: registryOf(registry.entries),
    alerts: alertsOf(alerts),
    mail: mailOf(mail),
    ...(incident ? { incident } : {}),
    links: uiLinks(status.forwards as HostForwardLike[]),
  };
}

async function readLayers(call: StackCall, resources: Record<LayerName, ResourceRef[]>): Promise<Snapshot['layers']> {
  // One listing per kind and namespace, shared by every layer.
  const listings = new Map<string, Promise<Set<string>>>();
  const names = (kind: string, namespace: string | undefined): Promise<Set<string>> => {
    const key = `${kind}/${namespace ?? ''}`;
    let listing = listings.get(key);
    if (!listing) {
      const query = new URLSearchParams({ kind, ...(namespace ? { namespace } : {}) });
      listing = call<{ items: { metadata: { name: string } }[] }>('GET', `/resources?${query}`).then((answer) => new Set(answer.items.map((i) => i.metadata.name)));
      listings.set(key, listing);
    }
    return listing;
  };
  return Promise.all(
    CONTROL_LAYER_NAMES.map(async (name) => {
      const refs = CONTROL_LAYERS[name].layers.flatMap((layer) => resources[layer]);
      const present = (await Promise.all(refs.map(async (ref) => (await names(ref.kind, ref.namespace)).has(ref.name)))).filter(Boolean).length;
      return { name, label: CONTROL_LAYERS[name].label, state: layerState(present, refs.length) };
    }),
  );
}
