import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadCatalogue } from './catalogue.ts';
import { registryView, shortDigest, type Observed, type ObservedServerTools, type RegistryEntryView } from './drift.ts';

const CATALOGUE = loadCatalogue();
const CONVERTER = 'acme-fx/currency-converter';
const CONVERTER_ENDPOINT = 'currency-converter.trustusbank-bank-vendors.svc.cluster.local:8080/mcp';
const ONBOARDED_AT = '2025-01-02T10:00:00.000Z';
const PINNED_AT = Date.UTC(2025, 0, 2, 10, 0, 5);

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const digestOf = (name: string, build = 'clean'): string => `sha256:${sha(`${name}:${build}`)}`;
const RUGPULL = digestOf(CONVERTER, 'rugpull');
const CLEAN_PRINT = sha('convert_currency clean');
const RUGPULL_PRINT = sha('convert_currency rugpull');

/** Every entry onboarded and running its onboarded bytes; the gateway has pinned the MCP servers' tools, no drift. */
function cleanObservation(): Observed {
  const observed: Observed = { onboarded: {}, running: {}, tools: {} };
  for (const entry of CATALOGUE.entries) {
    observed.onboarded[entry.name] = { digest: digestOf(entry.name), onboardedAt: ONBOARDED_AT };
    observed.running[entry.name] = { digests: [digestOf(entry.name)] };
    if (entry.kind === 'McpServer') {
      const tool = entry.name === CONVERTER ? 'convert_currency' : `${entry.workload}_tool`;
      observed.tools[entry.endpoint] = { pinned: [{ tool, fingerprint: entry.name === CONVERTER ? CLEAN_PRINT : sha(tool), pinnedAt: PINNED_AT }], drifted: false, changes: [] };
    }
  }
  return observed;
}

function viewOf(observed: Observed, name: string): RegistryEntryView {
  const view = registryView(CATALOGUE, observed).find((candidate) => candidate.entry.name === name);
  if (!view) throw new Error(`no view for ${name}`);
  return view;
}

describe('registryView', () => {
  it('clean: every entry ok, onboarded and current the same', () => {
    const views = registryView(CATALOGUE, cleanObservation());
    expect(views.map((view) => view.entry.name)).toEqual(CATALOGUE.entries.map((entry) => entry.name));
    for (const view of views) {
      expect(view.status, view.entry.name).toBe('ok');
      expect(view.drift).toEqual({ image: false, tools: false, reasons: [] });
      expect(view.current.digests).toEqual([view.onboarded.digest]);
    }
    const converter = viewOf(cleanObservation(), CONVERTER);
    expect(converter.inHouse).toBe(false);
    expect(converter.onboarded).toEqual({ digest: digestOf(CONVERTER), at: ONBOARDED_AT, tools: [{ tool: 'convert_currency', fingerprint: CLEAN_PRINT, pinnedAt: PINNED_AT }] });
    expect(converter.current).toEqual({ digests: [digestOf(CONVERTER)], tools: [{ tool: 'convert_currency', fingerprint: CLEAN_PRINT, state: 'pinned' }], toolsSeen: true });
    const agent = viewOf(cleanObservation(), 'support-bot');
    expect(agent.inHouse).toBe(true);
    expect(agent.current).toMatchObject({ tools: [], toolsSeen: false });
  });

  it('the same-tag rug-pull: a running digest other than the onboarded one is image drift, naming both digests', () => {
    const observed = cleanObservation();
    observed.running[CONVERTER] = { digests: [RUGPULL] };
    const view = viewOf(observed, CONVERTER);
    expect(view.status).toBe('drift');
    expect(view.drift.image).toBe(true);
    expect(view.drift.tools).toBe(false);
    expect(view.drift.reasons).toEqual([
      `A running pod has image ${shortDigest(RUGPULL)}, not the onboarded ${shortDigest(digestOf(CONVERTER))}: the bytes behind acme-fx/currency-converter:1.0.0 are not the ones the bank onboarded.`,
    ]);
    expect(view.current.digests).toEqual([RUGPULL]);
    expect(view.onboarded.digest).toBe(digestOf(CONVERTER));
    // Nothing else drifted.
    expect(registryView(CATALOGUE, observed).filter((other) => other.status !== 'ok').map((other) => other.entry.name)).toEqual([CONVERTER]);
  });

  it('mid-rollout: old and new pods, only the new digest is named; repeats are shown once', () => {
    const observed = cleanObservation();
    observed.running[CONVERTER] = { digests: [digestOf(CONVERTER), RUGPULL, RUGPULL] };
    const view = viewOf(observed, CONVERTER);
    expect(view.current.digests).toEqual([digestOf(CONVERTER), RUGPULL]);
    expect(view.drift.reasons).toHaveLength(1);
    expect(view.drift.reasons[0]).toContain(shortDigest(RUGPULL));
  });

  it('gateway drift: the server drifted from its pins is tool drift, naming the tool and what changed', () => {
    const observed = cleanObservation();
    const tools = observed.tools[CONVERTER_ENDPOINT] as ObservedServerTools;
    tools.drifted = true;
    tools.changes = [{ tool: 'convert_currency', kind: 'changed', fields: ['description', 'inputSchema'], pinned: CLEAN_PRINT, observed: RUGPULL_PRINT }];
    const view = viewOf(observed, CONVERTER);
    expect(view.status).toBe('drift');
    expect(view.drift.image).toBe(false);
    expect(view.drift.tools).toBe(true);
    expect(view.drift.reasons).toEqual([
      `Tool convert_currency changed since it was pinned: its description and inputSchema differ (fingerprint ${CLEAN_PRINT.slice(0, 12)} → ${RUGPULL_PRINT.slice(0, 12)}).`,
    ]);
    expect(view.onboarded.tools).toEqual([{ tool: 'convert_currency', fingerprint: CLEAN_PRINT, pinnedAt: PINNED_AT }]);
    expect(view.current.tools).toEqual([{ tool: 'convert_currency', fingerprint: RUGPULL_PRINT, state: 'changed', fields: ['description', 'inputSchema'] }]);
  });

  it('tool drift of every kind, and a drift report without details', () => {
    const observed = cleanObservation();
    observed.tools[CONVERTER_ENDPOINT] = {
      pinned: [
        { tool: 'convert_currency', fingerprint: CLEAN_PRINT, pinnedAt: PINNED_AT },
        { tool: 'list_rates', fingerprint: sha('list_rates'), pinnedAt: PINNED_AT },
      ],
      drifted: true,
      changes: [
        { tool: 'convert_currency', kind: 'changed' },
        { tool: 'list_rates', kind: 'removed' },
        { tool: 'exfiltrate', kind: 'added', observed: sha('exfiltrate') },
      ],
    };
    const view = viewOf(observed, CONVERTER);
    expect(view.drift.reasons).toEqual([
      'Tool convert_currency changed since it was pinned.',
      'Tool list_rates was pinned but is no longer listed.',
      'Tool exfiltrate is listed but was never pinned (added after onboarding).',
    ]);
    expect(view.current.tools).toEqual([
      { tool: 'convert_currency', fingerprint: null, state: 'changed' },
      { tool: 'list_rates', fingerprint: null, state: 'removed' },
      { tool: 'exfiltrate', fingerprint: sha('exfiltrate'), state: 'added' },
    ]);

    const bare = cleanObservation();
    (bare.tools[CONVERTER_ENDPOINT] as ObservedServerTools).drifted = true;
    expect(viewOf(bare, CONVERTER).drift.reasons).toEqual([`The agent gateway reports that the tools of ${CONVERTER_ENDPOINT} drifted from their pinned fingerprints.`]);
  });

  it('both at once: the rug-pull as the registry sees it after the next tools/list', () => {
    const observed = cleanObservation();
    observed.running[CONVERTER] = { digests: [RUGPULL] };
    Object.assign(observed.tools[CONVERTER_ENDPOINT]!, { drifted: true, changes: [{ tool: 'convert_currency', kind: 'changed', fields: ['description'] }] });
    const view = viewOf(observed, CONVERTER);
    expect(view.drift).toMatchObject({ image: true, tools: true });
    expect(view.drift.reasons).toHaveLength(2);
    expect(view.drift.reasons[0]).toMatch(/^A running pod has image/);
    expect(view.drift.reasons[1]).toBe('Tool convert_currency changed since it was pinned: its description differs.');
  });

  it('not running: onboarded, no pod', () => {
    const observed = cleanObservation();
    delete observed.running['fraud-bot'];
    observed.running['triage-bot'] = { digests: [] };
    for (const name of ['fraud-bot', 'triage-bot']) {
      const view = viewOf(observed, name);
      expect(view.status).toBe('not running');
      expect(view.drift).toEqual({ image: false, tools: false, reasons: [] });
      expect(view.current.digests).toEqual([]);
      expect(view.onboarded.digest).toBe(digestOf(name));
    }
  });

  it('not onboarded: no baseline, so no image drift, whatever runs', () => {
    const observed = cleanObservation();
    delete observed.onboarded[CONVERTER];
    observed.running[CONVERTER] = { digests: [RUGPULL] };
    const view = viewOf(observed, CONVERTER);
    expect(view.status).toBe('not onboarded');
    expect(view.onboarded).toMatchObject({ digest: null, at: null });
    expect(view.drift.image).toBe(false);
    expect(view.current.digests).toEqual([RUGPULL]);
    // The gateway's pins are still the tool baseline.
    expect(view.onboarded.tools.map((tool) => tool.tool)).toEqual(['convert_currency']);
  });

  it('looks up own keys only: a name like "constructor" finds nothing inherited', () => {
    const observed: Observed = { onboarded: {}, running: {}, tools: {} };
    const catalogue = { financialEntity: CATALOGUE.financialEntity, entries: [{ ...CATALOGUE.entries[0]!, name: 'constructor', endpoint: 'constructor:8080/mcp' }] };
    const [view] = registryView(catalogue, observed);
    expect(view).toMatchObject({ status: 'not onboarded', current: { digests: [], tools: [], toolsSeen: false } });
  });
});

describe('shortDigest', () => {
  it('keeps sha256: and 12 hex digits', () => {
    expect(shortDigest(`sha256:${'ab'.repeat(32)}`)).toBe('sha256:abababababab');
    expect(shortDigest('not-a-digest')).toBe('not-a-digest');
  });
});
