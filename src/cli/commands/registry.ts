// `trustusbank registry list|show`: the bank's catalogue of MCP servers and agents (its DORA Art. 28 register)
// with what each entry runs now against what was onboarded: image digest and tool fingerprints, and drift.
import { UsageError } from '../../core/errors.ts';
import type { RegistryEntryView } from '../../registry/drift.ts';
import { dataDirHelp, stackCommand } from '../stack-command.ts';
import { formatTable } from '../table.ts';

const usage = `Usage: trustusbank registry list [--json] [--data-dir DIR]
       trustusbank registry show NAME [--json] [--data-dir DIR]

The registry is the bank's catalogue of MCP servers and agents (deploy/registry/catalogue.yaml), which is
also its DORA Art. 28 register of information on ICT third-party providers. For every entry it compares what
was onboarded (the image digest, the tool fingerprints the agent gateway pinned) with what runs now.

list:  every entry with its status: ok, DRIFT (a running image digest is not the onboarded one, or the
       gateway saw its tools change), not running, or not onboarded.
show:  one entry (NAME as listed, e.g. acme-fx/currency-converter): onboarded against current digest and
       tool fingerprints side by side, its DORA register fields, and why it drifted.

Options:
  --json          print JSON (the registry's entry views)
${dataDirHelp(16)}
  -h, --help      show this help`;

const STATUS_TEXT: Record<RegistryEntryView['status'], string> = { ok: 'ok', drift: 'DRIFT', 'not running': 'not running', 'not onboarded': 'not onboarded' };

export const registryCommand = stackCommand({
  name: 'registry',
  summary: 'the catalogue of MCP servers and agents (DORA register), with drift',
  usage,
  options: { json: { type: 'boolean' } },
  maxPositionals: Infinity,
  async run({ values, positionals, stack }) {
    const [action, ...rest] = positionals;
    if (action === 'list') {
      if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`, usage);
      const answer = await stack().call<{ entries: RegistryEntryView[] }>('GET', '/registry/entries');
      console.log(values.json ? JSON.stringify(answer, null, 2) : formatRegistryList(answer.entries));
      return 0;
    }
    if (action === 'show') {
      const [name, ...extra] = rest;
      if (name === undefined) throw new UsageError('which entry? (see `trustusbank registry list`)', usage);
      if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, usage);
      const view = await stack().call<RegistryEntryView>('GET', `/registry/entries/${encodeURIComponent(name)}`);
      console.log(values.json ? JSON.stringify(view, null, 2) : formatRegistryEntry(view));
      return 0;
    }
    throw new UsageError(action === undefined ? 'list or show?' : `expected list or show, got "${action}"`, usage);
  },
});

/** The `list` table, and a line per drifted entry saying why. */
export function formatRegistryList(entries: RegistryEntryView[]): string {
  if (entries.length === 0) return 'The catalogue is empty.';
  const table = formatTable(
    ['NAME', 'KIND', 'PUBLISHER', 'VERSION', 'IMAGE', 'CRITICALITY', 'STATUS'],
    entries.map(({ entry, status }) => [entry.name, entry.kind, entry.publisher, entry.version, entry.image, entry.dora.criticality, STATUS_TEXT[status]]),
  );
  const drifted = entries.filter((view) => view.drift.reasons.length > 0);
  if (drifted.length === 0) return table;
  const notes = drifted.map((view) => `\n  ${view.entry.name}:\n${view.drift.reasons.map((reason) => `    - ${reason}`).join('\n')}`);
  return `${table}\n\nDrift:${notes.join('')}\n\n  \`trustusbank registry show NAME\` compares onboarded and current side by side.`;
}

/** The `show` text: the entry, onboarded against current, the DORA fields and the drift reasons. */
export function formatRegistryEntry(view: RegistryEntryView): string {
  const { entry, onboarded, current } = view;
  const out: string[] = [];
  out.push(`${entry.name} (${entry.kind}) — ${STATUS_TEXT[view.status]}`);
  out.push(
    fields([
      ['Publisher', `${entry.publisher}${view.inHouse ? ' (in-house)' : ' (third party)'}`],
      ['Version', entry.version],
      ['Image', entry.image],
      ['Transport', entry.transport],
      ['Runs as', `Deployment ${entry.namespace}/${entry.workload}`],
      ['Endpoint', entry.endpoint],
      ['Description', entry.description],
    ]),
  );

  out.push('', 'Onboarded vs current');
  const rows: string[][] = [];
  const digests = current.digests.length === 0 ? ['(no pod running)'] : current.digests;
  digests.forEach((digest, i) => {
    const differs = onboarded.digest !== null && current.digests.includes(digest) && digest !== onboarded.digest;
    rows.push([i === 0 ? 'image digest' : '', i === 0 ? (onboarded.digest ?? '(no onboarding record)') : '', `${digest}${differs ? '  ⚠ differs' : ''}`]);
  });
  if (onboarded.at !== null) rows.push(['onboarded at', onboarded.at, '']);
  const tools = [...new Set([...onboarded.tools.map((t) => t.tool), ...current.tools.map((t) => t.tool)])];
  for (const tool of tools) {
    const pin = onboarded.tools.find((t) => t.tool === tool);
    const now = current.tools.find((t) => t.tool === tool);
    const state = now === undefined ? '(not reported)' : now.state === 'pinned' ? `${now.fingerprint ?? ''}  (matches)` : now.state === 'removed' ? '⚠ no longer listed' : `${now.fingerprint ?? '(fingerprint not reported)'}  ⚠ ${now.state}${now.fields?.length ? `: ${now.fields.join(', ')}` : ''}`;
    rows.push([`tool ${tool}`, pin?.fingerprint ?? '(not pinned)', state]);
  }
  if (tools.length === 0) rows.push(['tools', entry.kind === 'Agent' ? '(an agent lists no MCP tools)' : current.toolsSeen ? '(none listed)' : '(not seen by the agent gateway yet)', '']);
  out.push(formatTable(['', 'ONBOARDED', 'CURRENT'], rows));

  out.push('', 'DORA Art. 28 register');
  out.push(
    fields([
      ['Provider', `${entry.dora.providerLegalName} (LEI ${entry.dora.lei}, ${entry.dora.country})`],
      ['Function', entry.dora.functionSupported],
      ['Criticality', entry.dora.criticality],
      ['Data locations', entry.dora.dataLocations.join(', ')],
      ['Contract', entry.dora.contractReference],
      ['Exit plan', entry.dora.exitPlan],
    ]),
  );

  if (view.drift.reasons.length > 0) {
    out.push('', `Drift (${[view.drift.image ? 'image' : '', view.drift.tools ? 'tools' : ''].filter(Boolean).join(', ')})`);
    for (const reason of view.drift.reasons) out.push(`  - ${reason}`);
    if (view.drift.tools) out.push('', `  Review the change, then \`trustusbank gateway approve ${entry.endpoint}\` re-pins the tools.`);
  }
  return out.join('\n');
}

function fields(pairs: [string, string][]): string {
  const width = Math.max(...pairs.map(([label]) => label.length));
  return pairs.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`).join('\n');
}
