// The `trustusbank` command: dispatch to a subcommand; user mistakes become messages, never stack traces.
import { readFileSync } from 'node:fs';
import { UsageError, UserError } from '../core/errors.ts';
import { wantsHelp, type Command } from './command.ts';
import { applyCommand, deleteCommand } from './commands/apply.ts';
import { chatCommand } from './commands/chat.ts';
import { demoCommand } from './commands/demo.ts';
import { eventsCommand } from './commands/events.ts';
import { alertsCommand, mailCommand } from './commands/alerts.ts';
import { evidenceCommand } from './commands/evidence.ts';
import { incidentsCommand } from './commands/incidents.ts';
import { registryCommand } from './commands/registry.ts';
import { imagesCommand, resetCommand, rugpullCommand } from './commands/images.ts';
import { curlCommand } from './commands/curl.ts';
import { downCommand } from './commands/down.ts';
import { execCommand } from './commands/exec.ts';
import { gatewayCommand } from './commands/gateway.ts';
import { getCommand } from './commands/get.ts';
import { logsCommand } from './commands/logs.ts';
import { openCommand } from './commands/open.ts';
import { admissionCommand, policiesCommand } from './commands/policies.ts';
import { statusCommand } from './commands/status.ts';
import { upCommand } from './commands/up.ts';
import { workloadCommand } from './commands/workload.ts';

const COMMANDS: readonly Command[] = [
  upCommand,
  downCommand,
  statusCommand,
  applyCommand,
  deleteCommand,
  getCommand,
  logsCommand,
  execCommand,
  curlCommand,
  policiesCommand,
  admissionCommand,
  gatewayCommand,
  chatCommand,
  imagesCommand,
  rugpullCommand,
  resetCommand,
  registryCommand,
  eventsCommand,
  alertsCommand,
  evidenceCommand,
  incidentsCommand,
  mailCommand,
  demoCommand,
  openCommand,
  workloadCommand,
];

const usage = `Usage: trustusbank <command> [options]

TrustUsBank: a runtime-defence lab for AI agents. A fake bank, a rug-pulled third-party MCP tool, and the
identity-aware layers below the model that stop it.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}

Run \`trustusbank <command> --help\` for a command's options.
Options: -h, --help (this text), --version`;

export async function main(argv: string[]): Promise<number | undefined> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    console.log(usage);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    console.log(pkg.version);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name || c.aliases?.includes(name));
  if (!command) throw new UsageError(`unknown command "${name}"`, usage);
  if (wantsHelp(rest)) {
    console.log(command.usage);
    return 0;
  }
  return command.run(rest);
}

// `trustusbank status | head`: when the reader goes away, stop quietly instead of crashing on EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

/** A finished command exits even if a stray handle (a keep-alive socket, a timer) would keep it alive. */
function finish(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 1500).unref();
}

try {
  const code = await main(process.argv.slice(2));
  if (code !== undefined) finish(code);
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`trustusbank: ${error.message}\n\n${error.usage}\n`);
    finish(error.exitCode);
  } else if (error instanceof UserError) {
    process.stderr.write(`trustusbank: ${error.message}\n`);
    finish(error.exitCode);
  } else {
    // A bug, not a user mistake: keep the stack so it can be reported.
    process.stderr.write(`trustusbank: unexpected error\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    finish(70);
  }
}
