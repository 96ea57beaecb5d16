// `trustusbank events`: what admission refused (or audited), as Kubernetes shows policy violations.
import type { AdmissionEvent } from '../../control-plane/supply-chain.ts';
import { dataDirHelp, printJson, stackCommand } from '../stack-command.ts';
import { formatTable } from '../table.ts';

const usage = `Usage: trustusbank events [--json] [--data-dir DIR]

The admission events of the running stack: every pod an image-verification policy refused (or, in Audit mode,
admitted with a failure), and every pod creation or process start refused because the image's bytes no longer
match its digest (ImageContentMismatch), with the Deployment or Pod, the image, the exact digest, the policy and
rule, and the reason. A refused rollout retried by the control plane, or a refused start retried by the pod, is
one event.

Options:
  --json           print JSON
${dataDirHelp()}
  -h, --help       show this help`;

export const eventsCommand = stackCommand({
  name: 'events',
  summary: 'admission events: refused images, with digest and reason',
  usage,
  options: { json: { type: 'boolean' } },
  async run({ values, stack }) {
    const { events } = await stack().call<{ events: AdmissionEvent[] }>('GET', '/events');
    if (values.json) {
      printJson({ events });
      return 0;
    }
    if (events.length === 0) {
      console.log('No admission events.');
      return 0;
    }
    console.log(formatTable(['TIME', 'TYPE', 'REASON', 'OBJECT', 'IMAGE', 'DIGEST', 'POLICY/RULE'], events.map((e) => [e.time, e.type, e.reason, e.object, e.image, e.digest.slice(0, 19), e.policy === undefined ? '-' : `${e.policy}/${e.rule ?? ''}`])));
    for (const e of events) console.log(`\n${e.time} ${e.object}: ${e.message}`);
    return 0;
  },
});
