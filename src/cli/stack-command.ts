// The one way to define a command that talks to the running stack (kept apart from command.ts, which the
// pod's bundled `curl` uses: a pod carries no admin client).
import { DATA_DIR_ENV } from '../core/data-dir.ts';
import { UsageError } from '../core/errors.ts';
import { parseCommandArgs, type Command, type Options, type Parsed } from './command.ts';
import { stackClient, type StackClient } from './stack-client.ts';

const STACK_FLAGS = { 'data-dir': { type: 'string' } } as const;

/** The help line of the flag every stack command takes, its description starting after `width` columns of flag. */
export function dataDirHelp(width = 17): string {
  return `  ${'--data-dir DIR'.padEnd(width)}state directory (default: ${DATA_DIR_ENV} or .trustusbank)`;
}

export interface StackCommandContext<O extends Options> {
  values: Parsed<O & typeof STACK_FLAGS>['values'];
  positionals: string[];
  /** With `passThrough`, the words after `--`. */
  passed: string[];
  usage: string;
  /** The running stack's admin API. Asked for when needed, so a usage mistake is reported before "not running". */
  stack(): StackClient;
}

export interface StackCommandSpec<O extends Options> {
  name: string;
  aliases?: readonly string[];
  summary: string;
  /** The whole help text; it lists `--data-dir` (`dataDirHelp()`) with the command's own flags. */
  usage: string;
  /** The command's own flags; `--data-dir` is added. */
  options: O;
  /** How many positional words the command takes at most (default none); the first extra one is a usage error. */
  maxPositionals?: number;
  /** The words after `--` are not the command's (a command line to run): they are passed on as `passed`, unparsed. */
  passThrough?: boolean;
  run(context: StackCommandContext<O>): Promise<number | undefined>;
}

/**
 * A command that talks to the running stack through its admin API: the one way such a command is defined, so
 * each parses its flags, refuses stray words and finds the stack (`--data-dir`, then the environment) alike.
 */
export function stackCommand<O extends Options>(spec: StackCommandSpec<O>): Command {
  return {
    name: spec.name,
    ...(spec.aliases ? { aliases: spec.aliases } : {}),
    summary: spec.summary,
    usage: spec.usage,
    async run(argv) {
      const split = spec.passThrough ? argv.indexOf('--') : -1;
      const own = split === -1 ? argv : argv.slice(0, split);
      const passed = split === -1 ? [] : argv.slice(split + 1);
      const { values, positionals } = parseCommandArgs(own, { ...spec.options, ...STACK_FLAGS }, spec.usage);
      const extra = positionals[spec.maxPositionals ?? 0];
      if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`, spec.usage);
      let client: StackClient | undefined;
      return spec.run({ values, positionals, passed, usage: spec.usage, stack: () => (client ??= stackClient(values['data-dir'] as string | undefined)) });
    },
  };
}

/** `--json` output: the answer as indented JSON. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}
