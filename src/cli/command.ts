// The shape of a CLI command, and argument parsing that turns every mistake into usage, not a stack trace.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../core/errors.ts';

export interface Command {
  name: string;
  /** Other names the command answers to (the original demo's script names). */
  aliases?: readonly string[];
  summary: string;
  usage: string;
  /** Resolves to the exit code, or to undefined when the command keeps the process running (a server). */
  run(argv: string[]): Promise<number | undefined>;
}

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed<O extends Options> {
  values: { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string };
  positionals: string[];
}

/** Whether the command line asks for help: -h or --help before any `--` (after it, the words are not ours). */
export function wantsHelp(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((arg) => arg === '-h' || arg === '--help');
}

export function parseCommandArgs<O extends Options>(argv: string[], options: O, usage: string): Parsed<O> {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: values as Parsed<O>['values'], positionals };
  } catch (error) {
    // parseArgs' messages are good ("Unknown option '--prot'"); keep them, drop the stack.
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(message.replace(/\. To specify a positional argument.*$/s, ''), usage);
  }
}

/** A whole number in [0, 65535], or a usage error naming the flag. */
export function parsePortFlag(value: string | undefined, flag: string, fallback: number, usage: string): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new UsageError(`${flag} must be a whole number from 0 to 65535, got "${value}"`, usage);
  return port;
}
