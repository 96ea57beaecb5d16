// `trustusbank apply -f` and `trustusbank delete -f`: send manifests to the running engine, which validates
// every document before changing anything.
import type { ApplyResult } from '../../control-plane/engine.ts';
import { readManifestDocuments } from '../../manifests/load.ts';
import { UsageError } from '../../core/errors.ts';
import type { Command } from '../command.ts';
import { dataDirHelp, stackCommand } from '../stack-command.ts';

function manifestCommand(verb: 'apply' | 'delete', summary: string, explanation: string): Command {
  const usage = `Usage: trustusbank ${verb} -f FILE|DIR [-f …] [--data-dir DIR]

${explanation}
A directory is read recursively (*.yaml, *.yml, in name order). Every document is validated first;
if any is wrong, the error names the file, the document, the resource and the field, and nothing changes.

Options:
  -f, --filename PATH   a manifest file or directory (repeatable)
${dataDirHelp(22)}
  -h, --help            show this help`;
  return stackCommand({
    name: verb,
    summary,
    usage,
    options: { filename: { type: 'string', short: 'f', multiple: true } },
    async run({ values, stack }) {
      const paths = (values.filename as string[] | undefined) ?? [];
      if (paths.length === 0) throw new UsageError('which manifests? give -f FILE|DIR', usage);
      const documents = paths.flatMap((path) => readManifestDocuments(path, []));
      const result = await stack().call<ApplyResult>('POST', `/${verb}`, { documents });
      for (const change of result.changes) console.log(`${change.description} ${change.action}`);
      for (const warning of result.warnings) console.error(`Warning: ${warning}`);
      return 0;
    },
  });
}

export const applyCommand = manifestCommand('apply', 'create or update resources from manifests', 'Create or update the resources the manifests describe in the running stack.');
export const deleteCommand = manifestCommand('delete', 'delete the resources manifests describe', 'Delete the resources the manifests name from the running stack.');
