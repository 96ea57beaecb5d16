// `trustusbank curl`: a small HTTP client for poking at the mesh, mostly from inside a pod with `exec`.
// Connection failures use curl's exit codes and wording, so scripts and people read them the same way.
import { UsageError } from '../../core/errors.ts';
import { parseCommandArgs, type Command } from '../command.ts';

const usage = `Usage: trustusbank curl [-X METHOD] [-H "Name: value"]… [-d DATA] [-i] [-s] [--max-time S] URL

Make one HTTP request and print the response body. Exit codes follow curl: 0 on any HTTP answer (22 with
-f/--fail on a status ≥ 400), 7 when the connection is refused, 56 when it is reset (what a mesh deny
looks like from inside a pod), 28 on timeout.

Options:
  -X, --request METHOD  the method (default GET, or POST with -d)
  -H, --header LINE     a request header (repeatable)
  -d, --data DATA       the request body
  -i, --include         print the status line and headers too
  -f, --fail            exit 22 on an HTTP status of 400 or more
  -s, --silent          print no error messages
  --max-time SECONDS    give up after this long (default 10)
  -h, --help            show this help`;

export const curlCommand: Command = {
  name: 'curl',
  summary: 'make an HTTP request (use it inside a pod with exec)',
  usage,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      {
        request: { type: 'string', short: 'X' },
        header: { type: 'string', short: 'H', multiple: true },
        data: { type: 'string', short: 'd' },
        include: { type: 'boolean', short: 'i' },
        fail: { type: 'boolean', short: 'f' },
        silent: { type: 'boolean', short: 's' },
        'max-time': { type: 'string' },
      },
      usage,
    );
    const [url, ...extra] = positionals;
    if (url === undefined) throw new UsageError('which URL?', usage);
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, usage);
    const maxTime = Number(values['max-time'] ?? 10);
    if (!Number.isFinite(maxTime) || maxTime <= 0) throw new UsageError(`--max-time takes a number of seconds, got "${values['max-time']}"`, usage);
    const headers: Record<string, string> = {};
    for (const line of (values.header as string[] | undefined) ?? []) {
      const colon = line.indexOf(':');
      if (colon < 1) throw new UsageError(`-H takes "Name: value", got "${line}"`, usage);
      headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
    }
    if (values.data !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    const fail = (code: number, message: string): number => {
      if (!values.silent) console.error(`curl: (${code}) ${message}`);
      return code;
    };
    let response: Response;
    try {
      response = await fetch(url, {
        method: values.request ?? (values.data !== undefined ? 'POST' : 'GET'),
        headers,
        ...(values.data !== undefined ? { body: values.data } : {}),
        signal: AbortSignal.timeout(maxTime * 1000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      if ((error as Error).name === 'TimeoutError') return fail(28, `Operation timed out after ${maxTime * 1000} milliseconds`);
      if (cause?.code === 'ECONNREFUSED') return fail(7, `Failed to connect to ${new URL(url).host}: Connection refused`);
      if (cause?.code === 'ECONNRESET' || cause?.code === 'UND_ERR_SOCKET') return fail(56, 'Recv failure: Connection reset by peer');
      if (cause?.code === 'EACCES') return fail(7, cause.message ?? 'Permission denied');
      return fail(6, `Could not resolve or reach ${url}: ${cause?.message ?? (error as Error).message}`);
    }
    const body = await response.text();
    if (values.include) {
      console.log(`HTTP/1.1 ${response.status} ${response.statusText}`);
      response.headers.forEach((value, name) => console.log(`${name}: ${value}`));
      console.log('');
    }
    process.stdout.write(body.endsWith('\n') || body === '' ? body : body + '\n');
    if (values.fail && response.status >= 400) return fail(22, `The requested URL returned error: ${response.status}`);
    return 0;
  },
};
