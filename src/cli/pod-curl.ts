// `trustusbank curl` as a pod carries it: the one CLI tool bundled (by `up`, like the capture shim) into a
// single file that runs inside a pod's sandbox, where the TypeScript loader (a worker thread) is not allowed.
// `trustusbank exec … -- trustusbank curl …` runs this.
import { UsageError, UserError } from '../core/errors.ts';
import { curlCommand } from './commands/curl.ts';

try {
  process.exitCode = await curlCommand.run(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) process.stderr.write(`trustusbank curl: ${error.message}\n\n${error.usage}\n`);
  else if (error instanceof UserError) process.stderr.write(`trustusbank curl: ${error.message}\n`);
  else throw error;
  process.exitCode = error.exitCode;
}
