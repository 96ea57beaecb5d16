// An incident as Markdown, for the report a bank files: the classification with its evidence, the third party,
// the root cause, the deadlines and the timeline with the ledger record behind each line.
import type { Incident } from './derive.ts';

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

export function incidentMarkdown(incident: Incident): string {
  const lines = [
    `# ${incident.id}: ${incident.title}`,
    '',
    `- Status: ${incident.status}${incident.containedAt ? ` (contained ${incident.containedAt})` : ''}`,
    `- Detected: ${incident.detectedAt}; classified: ${incident.classifiedAt}`,
    `- Classification: **${incident.classification.major ? 'major' : 'not major'}** (${incident.classification.basis})`,
    `- Alerts: ${incident.alerts.join(', ')}`,
    '',
    '## Classification criteria (Delegated Regulation (EU) 2024/1772)',
    '',
    '| criterion | article | met | evidence |',
    '|---|---|---|---|',
    ...incident.classification.criteria.map((c) => `| ${cell(c.criterion)} | ${c.article} | ${c.met === true ? 'yes' : c.met === false ? 'no' : 'not assessed'} | ${cell(c.evidence)} |`),
    '',
    '## ICT third party (DORA Art. 28 register)',
    '',
    ...(incident.thirdParty
      ? [
          `- ${incident.thirdParty.dora.providerLegalName} (LEI ${incident.thirdParty.dora.lei}, ${incident.thirdParty.dora.country})`,
          `- Service: ${incident.thirdParty.name} (${incident.thirdParty.image}), ${incident.thirdParty.dora.functionSupported}; ${incident.thirdParty.dora.criticality}`,
          `- Contract: ${incident.thirdParty.dora.contractReference}`,
        ]
      : ['- none named: the workload is the bank\'s own or not in the register']),
    '',
    '## Root cause',
    '',
    ...incident.rootCause.map((r) => `- ${r}`),
    '',
    '## Reporting deadlines (DORA Art. 19, RTS/ITS on incident reporting)',
    '',
    `- Initial notification: by ${incident.deadlines.initialNotification} (4 h after classification, at most 24 h after detection)`,
    `- Intermediate report: by ${incident.deadlines.intermediateReport} (72 h after the initial notification)`,
    `- Final report: by ${incident.deadlines.finalReport} (one month after the intermediate report)`,
    '',
    '## Timeline',
    '',
    '| time | ledger | event |',
    '|---|---|---|',
    ...incident.timeline.map((t) => `| ${t.time} | #${t.seq} ${t.kind} | ${cell(t.what)} |`),
    '',
    `Ledger records: ${incident.links.ledgerSeqs.map((s) => `#${s}`).join(', ') || 'none'} (check them with \`trustusbank evidence verify\`).`,
    ...(incident.links.mails.length ? [`Mails: ${incident.links.mails.map((m) => `"${m}"`).join(', ')}.`] : []),
    ...(incident.links.traceIds.length ? [`Traces: ${incident.links.traceIds.join(', ')}.`] : []),
    '',
  ];
  return lines.join('\n');
}
