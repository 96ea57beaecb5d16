// `trustusbank policies [mesh|gateway|all] on|off`: apply or delete a layer of policies from
// deploy/manifests/policies/<layer>/. Without a layer, the mesh's: that is Act 3 of the story (the mesh
// refuses the rug-pulled converter on its identity while the reply stays the same); the gateway's layer
// stops the attack earlier, at its own depth, and is switched on by name.
import type { ApplyResult } from '../../control-plane/engine.ts';
import { readManifestDocuments } from '../../manifests/load.ts';
import { UsageError } from '../../core/errors.ts';
import type { Command } from '../command.ts';
import { dataDirHelp, stackCommand } from '../stack-command.ts';

import { ADMISSION_POLICIES, AGENT_POLICIES, GATEWAY_POLICIES, MESH_POLICIES } from '../../scenario.ts';

const LAYERS = { mesh: MESH_POLICIES, gateway: GATEWAY_POLICIES, kagent: AGENT_POLICIES, admission: ADMISSION_POLICIES } as const;
type Layer = keyof typeof LAYERS;
const DEFAULT_LAYERS: Layer[] = ['mesh'];
const LAYER_NAMES: Record<Layer, string> = { mesh: 'Mesh policies', gateway: 'Gateway policies', kagent: 'Agent access policies', admission: 'Admission policies' };

const usage = `Usage: trustusbank policies [mesh|gateway|kagent|admission|all] on|off [--data-dir DIR]

mesh:     the mesh's AuthorizationPolicies (${MESH_POLICIES}): default-deny in the bank's namespaces
          and the platform's, the allow-lists for agents, MCP servers, the vendor and the agent gateway (the
          three agents only), and deny-bank-to-attacker, which stops the rug-pulled converter's exfiltration
          at the attacker's ztunnel, on the converter's SPIFFE identity.
gateway:  the agent gateway's policies (${GATEWAY_POLICIES}): deny PII-shaped tool
          arguments on the converter's route, DLP on every tool call's arguments, and tool pinning (a tool
          whose definition drifted from what the gateway first saw is hidden).
kagent:   the agents' AccessPolicies (${AGENT_POLICIES}): support-bot may be called by
          the chatbot and triage-bot only, fraud-bot by triage-bot only; enforced at each agent's waypoint on
          the caller's mesh identity (a denied caller gets 403 before the agent's model runs).
admission: image signature verification before any pod starts (${ADMISSION_POLICIES}):
          a Kyverno ClusterPolicy (verifyImages) with the bank's public key; the same as \`trustusbank admission on\`.
all:      every layer. With no layer: mesh (Act 3 of the demo).

on:  apply them;  off: delete them again.

Options:
${dataDirHelp()}
  -h, --help       show this help`;

export const policiesCommand = stackCommand({
  name: 'policies',
  summary: 'switch the mesh, gateway, agent access and admission policies on or off',
  usage,
  options: {},
  maxPositionals: Infinity,
  async run({ positionals, stack }) {
    let layers: Layer[] = DEFAULT_LAYERS;
    if (positionals[0] === 'all') {
      positionals.shift();
      layers = ['mesh', 'gateway', 'kagent', 'admission'];
    } else if (positionals[0] !== undefined && positionals[0] in LAYERS) {
      layers = [positionals.shift() as Layer];
    }
    const [mode, ...extra] = positionals;
    if (mode !== 'on' && mode !== 'off') throw new UsageError(mode === undefined ? 'on or off?' : `expected a layer (mesh, gateway, kagent, admission, all) or on|off, got "${mode}"`, usage);
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, usage);
    // One request for all layers, so a mistake in one applies none (the engine's apply is atomic).
    const documents = layers.flatMap((layer) => readManifestDocuments(LAYERS[layer], []));
    const result = await stack().call<ApplyResult>('POST', mode === 'on' ? '/apply' : '/delete', { documents });
    for (const change of result.changes) console.log(`${change.description} ${change.action}`);
    for (const warning of result.warnings) console.error(`Warning: ${warning}`);
    for (const layer of layers) console.log(`${LAYER_NAMES[layer]} are ${mode}.`);
    return 0;
  },
});

const admissionUsage = `Usage: trustusbank admission on|off [--data-dir DIR]

Switch image admission on or off: ${ADMISSION_POLICIES} holds a Kyverno ClusterPolicy (verifyImages) that
requires every pod's image, at the exact digest it would run, to carry a cosign-style signature by the bank's
key. Checked before a pod starts: a refused pod never runs, and its Deployment keeps its previous pod. Each
refusal is an event (\`trustusbank events\`), a metric (kyverno_policy_results_total{rule_result="fail"}) and a
log line naming image, digest and reason. The same as \`trustusbank policies admission on|off\`.

Options:
${dataDirHelp()}
  -h, --help       show this help`;

export const admissionCommand: Command = {
  name: 'admission',
  summary: 'switch image signature verification at admission on or off',
  usage: admissionUsage,
  run(argv) {
    return policiesCommand.run(['admission', ...argv]);
  },
};
