// `trustusbank alerts` and `trustusbank mail`: what the evidence stack says, from the running stack.
import { formatInbox, printable, type InboxLine } from '../../evidence/inbox/index.ts';
import { dataDirHelp, printJson, stackCommand } from '../stack-command.ts';
import { formatTable } from '../table.ts';

interface AlertsAnswer {
  prometheus?: string;
  rules: { group: string; name: string; expr: string; for: number; labels: Record<string, string> }[];
  alerts: { name: string; state: string; labels: Record<string, string>; annotations: Record<string, string>; activeAt: string; value: number }[];
}

const alertsUsage = `Usage: trustusbank alerts [--json] [--data-dir DIR]

The alert rules the embedded Prometheus evaluates (every PrometheusRule applied to the cluster, the shipped ones in
deploy/manifests/evidence/) and the alerts pending or firing now, with their labels and summary. The same is on the
Prometheus API (host port 18002: /api/v1/rules, /api/v1/alerts) and, as mail, in the SOC inbox (\`trustusbank mail\`).

Options:
  --json           print JSON
${dataDirHelp()}
  -h, --help       show this help`;

export const alertsCommand = stackCommand({
  name: 'alerts',
  summary: 'alert rules and the alerts pending or firing now',
  usage: alertsUsage,
  options: { json: { type: 'boolean' } },
  async run({ values, stack }) {
    const answer = await stack().call<AlertsAnswer>('GET', '/alerts');
    if (values.json) {
      printJson(answer);
      return 0;
    }
    console.log(formatTable(['GROUP', 'RULE', 'FOR', 'SEVERITY'], answer.rules.map((r) => [r.group, r.name, `${r.for}s`, r.labels.severity ?? '-'])));
    if (answer.alerts.length === 0) {
      console.log('\nNo alert is pending or firing.');
      return 0;
    }
    console.log('');
    const subject = (labels: Record<string, string>) => labels.source_workload ? `${labels.source_workload_namespace ?? ''}/${labels.source_workload}` : labels.gateway ? `${labels.gateway} ${labels.route ?? ''}`.trim() : '-';
    console.log(formatTable(['STATE', 'ALERT', 'SINCE', 'SUBJECT', 'SUMMARY'], answer.alerts.map((a) => [a.state, a.name, a.activeAt, printable(subject(a.labels)), printable(a.annotations.summary ?? '')])));
    return 0;
  },
});

const mailUsage = `Usage: trustusbank mail [--json] [--data-dir DIR]

The SOC inbox: every mail the Alertmanager sent (its page and MailHog API are on host port 18012), newest first.

Options:
  --json           print JSON
${dataDirHelp()}
  -h, --help       show this help`;

export const mailCommand = stackCommand({
  name: 'mail',
  summary: "the SOC inbox: the Alertmanager's mail",
  usage: mailUsage,
  options: { json: { type: 'boolean' } },
  async run({ values, stack }) {
    const answer = await stack().call<{ inbox: string; messages: InboxLine[] }>('GET', '/mail');
    if (values.json) {
      printJson(answer);
      return 0;
    }
    // A terminal's width when there is one; piped, nothing is cut.
    process.stdout.write(formatInbox(answer.messages, { width: process.stdout.isTTY ? (process.stdout.columns ?? 120) : 400 }));
    console.log(`\nRead them at ${answer.inbox}/`);
    return 0;
  },
});
