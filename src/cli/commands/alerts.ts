// `trustusbank alerts` and `trustusbank mail`: what the evidence stack says, from the running stack.
import { DATA_DIR_ENV } from '../../core/data-dir.ts';
import { UsageError } from '../../core/errors.ts';
import { formatInbox, printable, type InboxLine } from '../../evidence/inbox/index.ts';
import { parseCommandArgs, type Command } from '../command.ts';
import { stackClient } from '../stack-client.ts';
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
  --data-dir DIR   state directory (default: ${DATA_DIR_ENV} or .trustusbank)
  -h, --help       show this help`;

export const alertsCommand: Command = {
  name: 'alerts',
  summary: 'alert rules and the alerts pending or firing now',
  usage: alertsUsage,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { json: { type: 'boolean' }, 'data-dir': { type: 'string' } }, alertsUsage);
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, alertsUsage);
    const answer = await stackClient(values['data-dir']).call<AlertsAnswer>('GET', '/alerts');
    if (values.json) {
      console.log(JSON.stringify(answer, null, 2));
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
};

const mailUsage = `Usage: trustusbank mail [--json] [--data-dir DIR]

The SOC inbox: every mail the Alertmanager sent (its page and MailHog API are on host port 18012), newest first.

Options:
  --json           print JSON
  --data-dir DIR   state directory (default: ${DATA_DIR_ENV} or .trustusbank)
  -h, --help       show this help`;

export const mailCommand: Command = {
  name: 'mail',
  summary: "the SOC inbox: the Alertmanager's mail",
  usage: mailUsage,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { json: { type: 'boolean' }, 'data-dir': { type: 'string' } }, mailUsage);
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, mailUsage);
    const answer = await stackClient(values['data-dir']).call<{ inbox: string; messages: InboxLine[] }>('GET', '/mail');
    if (values.json) {
      console.log(JSON.stringify(answer, null, 2));
      return 0;
    }
    // A terminal's width when there is one; piped, nothing is cut.
    process.stdout.write(formatInbox(answer.messages, { width: process.stdout.isTTY ? (process.stdout.columns ?? 120) : 400 }));
    console.log(`\nRead them at ${answer.inbox}/`);
    return 0;
  },
};
