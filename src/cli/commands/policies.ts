// `trustusbank policies on|off`: apply or delete the mesh AuthorizationPolicies of deploy/manifests/policies/mesh/.
import { join } from 'node:path';
import type { ApplyResult } from '../../control-plane/engine.ts';
import { DEFAULT_MANIFESTS, readManifestDocuments } from '../../control-plane/cluster.ts';
import { DATA_DIR_ENV } from '../../core/data-dir.ts';
import { UsageError } from '../../core/errors.ts';
import { parseCommandArgs, type Command } from '../command.ts';
import { stackClient } from '../stack-client.ts';

export const MESH_POLICIES = join(DEFAULT_MANIFESTS, 'policies', 'mesh');

const usage = `Usage: trustusbank policies on|off [--data-dir DIR]

on:  apply the mesh's AuthorizationPolicies (${MESH_POLICIES}): default-deny in the bank's namespaces,
     the allow-lists for agents, MCP servers and the vendor, and deny-bank-to-attacker, which stops the
     rug-pulled converter's exfiltration at the attacker's ztunnel, on the converter's SPIFFE identity.
off: delete them again.

Options:
  --data-dir DIR   state directory (default: ${DATA_DIR_ENV} or .trustusbank)
  -h, --help       show this help`;

export const policiesCommand: Command = {
  name: 'policies',
  summary: 'switch the mesh AuthorizationPolicies on or off',
  usage,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { 'data-dir': { type: 'string' } }, usage);
    const [mode, ...extra] = positionals;
    if (mode !== 'on' && mode !== 'off') throw new UsageError(mode === undefined ? 'on or off?' : `expected on or off, got "${mode}"`, usage);
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, usage);
    const stack = stackClient(values['data-dir']);
    const result = await stack.call<ApplyResult>('POST', mode === 'on' ? '/apply' : '/delete', { documents: readManifestDocuments(MESH_POLICIES, []) });
    for (const change of result.changes) console.log(`${change.description} ${change.action}`);
    for (const warning of result.warnings) console.error(`Warning: ${warning}`);
    console.log(mode === 'on' ? 'Mesh policies are on.' : 'Mesh policies are off.');
    return 0;
  },
};
