// `trustusbank open [UI]`: one of the running stack's UIs in the default browser, where there is one. The control
// room's address carries the stack's token (in its fragment), asked of the admin API, which answers only the
// stack's own user.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { StackStatus } from '../../control-plane/admin-routes.ts';
import { UI_NAMES, uiLinks } from '../../control-room/uis.ts';
import { UsageError, UserError } from '../../core/errors.ts';
import { dataDirHelp, stackCommand } from '../stack-command.ts';
import type { ControlRoomAddress } from '../stack-view.ts';

const usage = `Usage: trustusbank open [UI] [--print] [--data-dir DIR]
       trustusbank open traces TRACE_ID

Open one of the running stack's UIs in the default browser (xdg-open on Linux, open on macOS, start on
Windows). Without a browser opener, the URL is printed and you are told so. The control room's URL carries
this stack's token (after #token=), which its buttons need.

UI (default control-room):
  ${UI_NAMES.join(', ')}
With a trace id (what \`chat\` and \`demo\` print), \`open traces\` opens that trace's waterfall.

Options:
  --print         print the URL only, open nothing
${dataDirHelp(16)}
  -h, --help      show this help`;

/** How long a browser opener may take to say it failed; one still running after that is taken as success. */
const OPENER_GRACE_MS = 5_000;

export const openCommand = stackCommand({
  name: 'open',
  summary: 'open a UI (control room, chatbot, attacker, …) in the default browser',
  usage,
  options: { print: { type: 'boolean' } },
  maxPositionals: Infinity,
  async run({ values, positionals, stack }) {
    const name = positionals[0] ?? 'control-room';
    const traceId = name === 'traces' ? positionals[1] : undefined;
    if (traceId !== undefined && !/^[0-9a-f]{32}$/.test(traceId)) throw new UsageError(`a trace id is 32 lowercase hex digits, got "${traceId}"`, usage);
    if (positionals.length > (traceId !== undefined ? 2 : 1)) throw new UsageError(`unexpected argument "${positionals[traceId !== undefined ? 2 : 1]}"`, usage);
    if (!UI_NAMES.includes(name)) throw new UsageError(`unknown UI "${name}"; the UIs are: ${UI_NAMES.join(', ')}`, usage);
    const status = await stack().call<StackStatus>('GET', '/status');
    const link = uiLinks(status.forwards).find((l) => l.name === name);
    if (!link?.url) throw new UserError(link?.plannedPort ? `${link.label} is not served yet (it will be on port ${link.plannedPort})` : `${name} has no host port in this stack`);
    const url = name === 'control-room' ? (await stack().call<ControlRoomAddress>('GET', '/control-room')).tokenUrl : traceId ? new URL(`/trace/${traceId}`, link.url).href : link.url;
    if (values.print) {
      console.log(url);
      return 0;
    }
    const opener = browserOpener(process.platform, process.env);
    if (!opener) {
      console.log(`No browser opener here (looked for ${process.platform === 'darwin' ? 'open' : 'xdg-open'} on PATH); open this URL yourself:\n  ${url}`);
      return 0;
    }
    const outcome = await runOpener(opener, url);
    if (outcome !== 'ok') {
      console.log(`Could not open a browser (${opener.command} ${outcome}); open this URL yourself:\n  ${url}`);
      return 0;
    }
    console.log(`Opened ${link.label}: ${url}`);
    return 0;
  },
});

export interface Opener {
  command: string;
  args: (url: string) => string[];
}

/** The platform's way to open a URL in the default browser, if it has one on PATH. */
export function browserOpener(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): Opener | undefined {
  // `start` is a cmd built-in; its first quoted argument is a window title, hence the empty one.
  if (platform === 'win32') return { command: env.ComSpec ?? 'cmd.exe', args: (url) => ['/d', '/c', 'start', '""', url.replace(/[&^|<>]/g, '^$&')] };
  const command = platform === 'darwin' ? 'open' : 'xdg-open';
  return onPath(command, env.PATH ?? '') ? { command, args: (url) => [url] } : undefined;
}

function onPath(command: string, path: string): boolean {
  return path
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        accessSync(join(dir, command), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

function runOpener(opener: Opener, url: string): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(opener.command, opener.args(url), { stdio: 'ignore', detached: true, windowsVerbatimArguments: process.platform === 'win32' });
    const timer = setTimeout(() => {
      child.unref();
      resolve('ok');
    }, OPENER_GRACE_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve(`failed: ${error.message}`);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code === 0 ? 'ok' : `exited with ${signal ?? `code ${code}`}`);
    });
  });
}
