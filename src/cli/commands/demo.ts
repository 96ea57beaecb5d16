// `trustusbank demo [--json]`: the three acts and every further layer, on the running stack (started in the
// background first when none runs), with receipts; exit 0 only when the whole story holds.
import { resolveDataDir } from '../../core/data-dir.ts';
import { UserError } from '../../core/errors.ts';
import { REQUIRED_ENFORCERS, runDemo, type DemoReport } from '../../demo/demo.ts';
import { readLiveStack } from '../../runtime/stack-state.ts';
import { CLI_BIN } from '../bin-path.ts';
import { dataDirHelp, printJson, stackCommand } from '../stack-command.ts';
import { demoApi } from '../../demo/api.ts';
import { formatTable } from '../table.ts';
import { spawnSync } from 'node:child_process';


const usage = `Usage: trustusbank demo [--json] [--data-dir DIR]

Run the whole story and check it: reset; Act 1 (the clean converter); the same-tag rug-pull; Act 2 (no defence:
the model fetches the customer's profile and the converter ships it to the attacker); the mesh policies; Act 3
(the mesh refuses the converter on its SPIFFE identity; the reply is unchanged); then each further layer alone
(the gateway's argument policy, DLP, tool pinning, admission, AccessPolicy), each checked against the attack it
stops and against the clean run. Prints a receipt per act and per layer, with the alerts each raised and the
SOC mail about them (Act 2: BankToAttackerAttempt; Act 3: IstioAuthZDeny, BankToAttackerAttempt still firing;
AccessPolicy: KagentAccessPolicyDeny). Starts the stack in the background
when none runs. Exit 0 only when every check holds. The agents use the scripted model unless the stack was
started with another.

Options:
  --json           print {ok, acts: [{name, traceId, reply, tools, attackerEventsAdded, denies, stoppedBy,
                   alertsFiring, newAlerts, mails, incidents}], layers: [{layer, attackStopped, cleanRunOk,
                   newAlerts, mails, incidents}], ...}
${dataDirHelp()}
  -h, --help       show this help`;

export const demoCommand = stackCommand({
  name: 'demo',
  summary: 'run the three acts and every layer, with receipts (exit 0 when the story holds)',
  usage,
  options: { json: { type: 'boolean' } },
  async run({ values, stack }) {
    const dataDir = resolveDataDir(values['data-dir']);
    const progress = (line: string): void => {
      // Progress goes to stderr so that --json output stays one document.
      (values.json ? process.stderr : process.stdout).write(`${line}\n`);
    };
    if (!readLiveStack(dataDir)) {
      progress('TrustUsBank is not running: starting it in the background…');
      const up = spawnSync(process.execPath, [CLI_BIN, 'up', '--detach', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
      if (up.status !== 0) throw new UserError('could not start TrustUsBank (see the output above)');
    }
    const report = await runDemo(demoApi(stack()), { progress });
    if (values.json) printJson(report);
    else printReport(report);
    return report.ok ? 0 : 1;
  },
});


function printReport(report: DemoReport): void {
  console.log('');
  for (const act of report.acts) {
    console.log(`${act.name}${act.ok ? '' : '  ✗'}`);
    console.log(`  reply:     ${act.reply.split('\n')[0]}`);
    console.log(`  tools:     ${act.tools.map((t) => `${t.name}${Object.keys(t.args).includes('customer_profile') ? '(customer_profile!)' : ''}`).join(' → ') || 'none'}`);
    console.log(`  attacker:  +${act.attackerEventsAdded} exfiltration event${act.attackerEventsAdded === 1 ? '' : 's'}`);
    console.log(`  denies:    mesh ${act.denies.mesh} (on the converter ${act.denies.meshOnConverter}), gateway ${act.denies.gateway}, admission ${act.denies.admission}, AccessPolicy ${act.denies.accessPolicy}`);
    console.log(`  stopped by: ${act.stoppedBy}`);
    console.log(`  alerts:    ${act.alertsFiring.length === 0 ? 'none firing' : `firing ${act.alertsFiring.join(', ')}`}${act.newAlerts.length > 0 ? ` (raised here: ${[...new Set(act.newAlerts.map((a) => a.name))].join(', ')})` : ''}`);
    for (const mail of act.mails) console.log(`  SOC mail:  ${mail.subject}`);
    if (act.incidents) console.log(`  incident:  ${act.incidents.join(', ')} (\`trustusbank incidents show ID\`)`);
    if (act.traceId) console.log(`  trace:     ${act.traceId} (\`trustusbank open traces ${act.traceId}\`)`);
    for (const check of act.checks) console.log(`  ${check}`);
    console.log('');
  }
  console.log(
    formatTable(
      ['LAYER (alone)', 'ATTACK STOPPED', 'CLEAN RUN OK', 'ALERTS RAISED (MAILED)', 'EVIDENCE'],
      report.layers.map((l) => [
        l.layer,
        l.attackStopped ? 'yes' : 'NO',
        l.cleanRunOk ? 'yes' : 'NO',
        [...new Set(l.newAlerts.map((a) => a.name))].map((name) => `${name}${l.mails.some((m) => m.subject.includes(` ${name} `)) ? ' (mailed)' : ''}`).join(', ') || '-',
        l.evidence.length > 90 ? `${l.evidence.slice(0, 89)}…` : l.evidence,
      ]),
    ),
  );
  console.log('');
  console.log(`Rug-pull variants (pods isolated: ${report.isolation === 'kernel' ? 'by the kernel' : 'by the capture shim only, not the kernel'}); each needs ${REQUIRED_ENFORCERS} independent layers:`);
  console.log(
    formatTable(
      ['VARIANT', 'EXFILTRATION', 'UNGUARDED', 'STOPPED BY', 'INDEPENDENT', 'OK'],
      report.variants.map((v) => [
        v.variant,
        `${v.channel}${v.argument === 'customer_profile' ? '' : `, ${v.argument}${v.encoding === 'base64' ? ' (base64)' : ''}`}`,
        `${v.receivedUnguarded} received`,
        v.stoppedBy.join(', ') || 'nothing',
        v.enforcers.join(' + ') || '-',
        v.ok ? 'yes' : 'NO',
      ]),
    ),
  );
  for (const v of report.variants) for (const note of v.notes) console.log(`  ${v.variant}: ${note}`);
  console.log('');
  if (report.ok) console.log(`The story holds (${(report.durationMs / 1000).toFixed(1)} s). \`trustusbank reset\` starts over.`);
  else {
    console.log('The story does NOT hold:');
    for (const failure of report.failures) console.log(`  - ${failure}`);
  }
}
