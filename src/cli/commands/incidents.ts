// `trustusbank incidents`: the DORA incident records the running stack derives from its ledger.
import { writeFileSync } from 'node:fs';
import { UsageError, UserError } from '../../core/errors.ts';
import type { Incident } from '../../evidence/incidents/derive.ts';
import { incidentMarkdown } from '../../evidence/incidents/format.ts';
import { printable } from '../../evidence/inbox/index.ts';
import { dataDirHelp, printJson, stackCommand } from '../stack-command.ts';
import { formatTable } from '../table.ts';

const usage = `Usage: trustusbank incidents list [--json] [--data-dir DIR]
       trustusbank incidents show ID [--format md|json] [--data-dir DIR]
       trustusbank incidents export [ID] --format md|json [--out FILE] [--data-dir DIR]

Incident records (DORA Art. 17–19): a critical alert opens an incident for the workload it is about, or joins
the open one for the same workload. Each is derived from the signed ledger (\`trustusbank evidence\`), the
registry's DORA register (the ICT third party) and the metric store (connections attempted and refused): the
classification against Delegated Regulation (EU) 2024/1772 with the evidence for each criterion, the root
cause (a same-tag image change, tool drift), the timeline with the ledger record behind each line, and the
reporting deadlines (initial ≤ 4 h after classification and ≤ 24 h after detection, intermediate ≤ 72 h,
final ≤ 1 month).

Options:
  --format md|json   how show and export write an incident (default: md for show)
  --out FILE         export into FILE instead of standard output
  --json             list as JSON
${dataDirHelp(19)}
  -h, --help         show this help`;

export const incidentsCommand = stackCommand({
  name: 'incidents',
  summary: 'DORA incident records derived from the ledger: list, show, export',
  usage,
  options: { json: { type: 'boolean' }, format: { type: 'string' }, out: { type: 'string' } },
  maxPositionals: Infinity,
  async run({ values, positionals, stack }) {
    const [action, ...rest] = positionals;
    if (values.format !== undefined && values.format !== 'md' && values.format !== 'json') throw new UsageError(`--format must be md or json, not "${values.format}"`, usage);
    const incidents = async (): Promise<Incident[]> => (await stack().call<{ incidents: Incident[] }>('GET', '/incidents')).incidents;
    const find = (all: Incident[], id: string): Incident => {
      const incident = all.find((i) => i.id === id);
      if (!incident) throw new UserError(`no incident "${id}"${all.length ? ` (there are: ${all.map((i) => i.id).join(', ')})` : ' (there is none)'}`);
      return incident;
    };
    const render = (list: Incident[], format: string): string => (format === 'json' ? `${JSON.stringify(list.length === 1 ? list[0] : list, null, 2)}\n` : list.map(incidentMarkdown).join('\n---\n\n'));
    switch (action) {
      case 'list': {
        if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`, usage);
        const all = await incidents();
        if (values.json) printJson(all);
        else if (all.length === 0) console.log('No incident: no critical alert has fired.');
        else console.log(formatTable(['ID', 'STATUS', 'MAJOR', 'DETECTED', 'INITIAL REPORT BY', 'TITLE'], all.map((i) => [i.id, i.status, i.classification.major ? 'yes' : 'no', i.detectedAt, i.deadlines.initialNotification, printable(i.title)])));
        return 0;
      }
      case 'show': {
        if (rest.length !== 1) throw new UsageError('incidents show needs one incident id', usage);
        process.stdout.write(render([find(await incidents(), rest[0]!)], values.format ?? 'md'));
        return 0;
      }
      case 'export': {
        if (rest.length > 1) throw new UsageError(`unexpected argument "${rest[1]}"`, usage);
        if (values.format === undefined) throw new UsageError('incidents export needs --format md or --format json', usage);
        const all = await incidents();
        const text = render(rest[0] ? [find(all, rest[0])] : all, values.format);
        if (values.out) {
          writeFileSync(values.out, text);
          console.log(`Wrote ${rest[0] ? 1 : all.length} incident${!rest[0] && all.length !== 1 ? 's' : ''} to ${values.out}`);
        } else process.stdout.write(text);
        return 0;
      }
      case undefined:
        throw new UsageError('incidents needs an action: list, show or export', usage);
      default:
        throw new UsageError(`unknown action "${action}" (list, show, export)`, usage);
    }
  },
});
