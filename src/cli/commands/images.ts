// `trustusbank images`, `rugpull` (alias upgrade-banking-app) and `reset` (alias reset-demo): what each image
// reference points at and who signed it; the vendor's same-tag rug-pull; and the way back to a clean stack.
import { RUGPULL_VARIANTS, isRugpullVariant } from '../../../apps/currency-converter/rugpull/variants.ts';
import type { ImageListing } from '../../control-plane/admin-routes.ts';
import type { ResetOutcome, RolloutOutcome } from '../../control-plane/image-ops.ts';
import { UsageError } from '../../core/errors.ts';
import { dataDirHelp, printJson, stackCommand } from '../stack-command.ts';
import { formatTable } from '../table.ts';

const imagesUsage = `Usage: trustusbank images [--json] [--data-dir DIR]

Every image reference of the local image store: the digest its tag points at now, the build behind it, and
who signed that digest (cosign-style signatures: the bank's key, or another key). The rug-pull moves
acme-fx/currency-converter:1.0.0 to other bytes with the same name and tag: the digest and the signer change.

Options:
  --json           print JSON
${dataDirHelp()}
  -h, --help       show this help`;

export const imagesCommand = stackCommand({
  name: 'images',
  summary: 'image references: digest, build, signer',
  usage: imagesUsage,
  options: { json: { type: 'boolean' } },
  async run({ values, stack }) {
    const answer = await stack().call<ImageListing>('GET', '/images');
    if (values.json) {
      printJson(answer);
      return 0;
    }
    console.log(
      formatTable(
        ['REF', 'DIGEST', 'BUILD', 'SIGNED BY'],
        answer.images.map((i) => [i.ref, i.digest.slice(0, 19), i.variant ?? '?', i.signers.length > 0 ? i.signers.map((s) => `${s.signer} (${s.keyId})`).join(', ') : 'unsigned']),
      ),
    );
    return 0;
  },
});

const rugpullUsage = `Usage: trustusbank rugpull [--variant NAME] [--json] [--data-dir DIR]
       (also: trustusbank upgrade-banking-app)

Act 2's supply-chain attack: put the compromised build of the vendor's converter behind the same reference,
acme-fx/currency-converter:1.0.0 (same name, same tag, new digest, signed with a key that is not the bank's),
and let the Deployment roll. No manifest changes. With admission on, the new pod is refused and the previous
one keeps running. \`reset\` undoes it.

Variants of the same image (the default posts the profile, under customer_profile, to the mock attacker's
service in the mesh):
  node-local    posts to the attacker's host port on the node itself (http://127.0.0.1:<port>/exfil)
  udp           sends the profile in one UDP datagram to the attacker's listening post off the cluster
  dns           looks up names carrying the profile at the attacker's own name server (its own resolver)
  renamed-key   asks the model for the profile under screening_context, posts it to the mock attacker
  encoded-key   asks for it base64-encoded under screening_token, posts it to the mock attacker

Options:
  --variant NAME   one of ${RUGPULL_VARIANTS.join(', ')}
  --json           print JSON
${dataDirHelp()}
  -h, --help       show this help`;

export const rugpullCommand = stackCommand({
  name: 'rugpull',
  aliases: ['upgrade-banking-app'],
  summary: "swap the vendor converter's bytes behind the same tag (Act 2)",
  usage: rugpullUsage,
  options: { json: { type: 'boolean' }, variant: { type: 'string' } },
  async run({ values, stack }) {
    const variant = values.variant;
    if (variant !== undefined && !isRugpullVariant(variant)) throw new UsageError(`unknown variant "${variant}" (variants: ${RUGPULL_VARIANTS.join(', ')})`, rugpullUsage);
    if (!values.json) console.log(`Retagging acme-fx/currency-converter:1.0.0${variant ? ` to the ${variant} variant` : ''} and rolling the converter…`);
    const outcome = await stack().call<RolloutOutcome>('POST', '/images/rugpull', variant ? { variant } : {});
    if (values.json) {
      printJson(outcome);
      return outcome.refused ? 1 : 0;
    }
    console.log(`${outcome.ref}: ${shortDigest(outcome.previousDigest)} → ${shortDigest(outcome.digest)} (same tag)`);
    if (outcome.refused) {
      console.log(`Refused at admission: ${outcome.refused}`);
      console.log(`The converter keeps running its previous pod (${outcome.pods.map((p) => `${p.name} ${shortDigest(p.digest)}`).join(', ')}).`);
      return 1;
    }
    console.log(`Rolled out: ${outcome.pods.map((p) => `${p.name} ${shortDigest(p.digest)}`).join(', ')}. No manifest changed.`);
    return 0;
  },
});

const resetUsage = `Usage: trustusbank reset [--json] [--data-dir DIR]
       (also: trustusbank reset-demo)

Back to the initial state, as a fresh \`up\` starts: the initial manifests become the whole desired state
(every policy layer removed — mesh, gateway, agents, admission: everything under deploy/manifests/policies/ —
and anything else applied since deleted or put back as the manifests say), the clean converter behind its tag
(rolled back), the attacker's loot cleared. The desired state survives a restart of \`up\`; this is the way back.
Logs, metrics and the agents' sessions are kept: they are the evidence.

Options:
  --json           print JSON
${dataDirHelp()}
  -h, --help       show this help`;

export const resetCommand = stackCommand({
  name: 'reset',
  aliases: ['reset-demo'],
  summary: 'back to the initial state: initial manifests only, clean converter, no loot',
  usage: resetUsage,
  options: { json: { type: 'boolean' } },
  async run({ values, stack }) {
    const outcome = await stack().call<ResetOutcome>('POST', '/reset', {});
    if (values.json) {
      printJson(outcome);
      return 0;
    }
    console.log(`Converter: ${outcome.converter.ref} → ${shortDigest(outcome.converter.digest)} (the clean build), ${outcome.converter.rolledOut ? 'rolled out' : 'not rolled out'}.`);
    console.log(outcome.policiesRemoved.length > 0 ? `Removed: ${outcome.policiesRemoved.join(', ')}.` : 'No policy was in force.');
    if (outcome.restored.length > 0) console.log(`As the initial manifests say again: ${outcome.restored.join(', ')}.`);
    console.log(outcome.lootCleared ? "The attacker's loot is cleared." : "The attacker's loot could not be cleared (is mock-attacker running?).");
    return 0;
  },
});

function shortDigest(digest: string | undefined): string {
  return digest ? digest.slice(0, 19) : '(none)';
}
