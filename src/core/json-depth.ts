// Nesting limits for JSON that arrives from outside. V8's JSON.parse takes any depth (a million levels parse
// in seconds), but everything after it recurses: JSON.stringify, the MCP SDK's schemas, our own walks. A
// tools/call whose `_meta` nested 10,000 levels deep reached the gateway's upstream client, whose
// JSON.stringify overflowed the stack and came back as a 502 "unreachable". So nesting is measured on the
// text, before anything is built from it, in one pass with no recursion: a body too deep is refused at the
// door with the member it was found under, in the protocol's own error shape (the callers choose it).

/** How deep a message from outside may nest: objects and arrays, the outermost counting as 1. */
export const MAX_JSON_DEPTH = 256;

/** Keys are recorded this many levels down, to say where the nesting was (`params._meta.a`). */
const PATH_LEVELS = 4;

export class JsonTooDeepError extends Error {
  override readonly name = 'JsonTooDeepError';
  constructor(
    readonly maxDepth: number,
    /** Member names (and array indices) from the outermost value to the first level past the limit, at most PATH_LEVELS. */
    readonly path: (string | number)[],
  ) {
    super(`JSON nested deeper than ${maxDepth} levels${path.length > 0 ? ` (under ${formatPath(path)})` : ''}`);
  }
}

export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';
}

function formatPath(path: (string | number)[]): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${part.length > 64 ? `${part.slice(0, 64)}…` : part}`)).join('');
}

interface Level {
  array: boolean;
  /** The member name (object) or element index (array) the scan is in. */
  key: string | number | undefined;
}

/**
 * The first place where `text` nests deeper than `maxDepth`, or undefined. Counts brackets outside strings;
 * text that is not JSON at all gives whatever its brackets say (JSON.parse refuses it afterwards anyway).
 */
export function jsonDepthProblem(text: string, maxDepth = MAX_JSON_DEPTH): JsonTooDeepError | undefined {
  const stack: Level[] = [];
  let inString = false;
  let stringStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) {
        inString = false;
        // A string right after `{` or `,` in an object is a member name: remember it near the top.
        const top = stack[stack.length - 1];
        if (top && !top.array && top.key === undefined && stack.length <= PATH_LEVELS) top.key = decodeKey(text.slice(stringStart, i + 1));
      }
      continue;
    }
    switch (c) {
      case 0x22:
        inString = true;
        stringStart = i;
        break;
      case 0x7b /* { */:
      case 0x5b /* [ */:
        if (stack.length >= maxDepth) return new JsonTooDeepError(maxDepth, stack.slice(0, PATH_LEVELS).flatMap((level) => (level.key === undefined ? [] : [level.key])));
        stack.push({ array: c === 0x5b, key: c === 0x5b ? 0 : undefined });
        break;
      case 0x7d /* } */:
      case 0x5d /* ] */:
        stack.pop();
        break;
      case 0x2c /* , */: {
        const top = stack[stack.length - 1];
        if (top) top.key = top.array ? (top.key as number) + 1 : undefined;
        break;
      }
    }
  }
  return undefined;
}

function decodeKey(quoted: string): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return quoted.slice(1, -1);
  }
}

/** JSON.parse behind the nesting limit: the value, or why not. */
export function parseBoundedJson(text: string, maxDepth = MAX_JSON_DEPTH): { ok: true; value: unknown } | { ok: false; error: JsonTooDeepError | JsonSyntaxError } {
  const tooDeep = jsonDepthProblem(text, maxDepth);
  if (tooDeep) return { ok: false, error: tooDeep };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, error: new JsonSyntaxError((error as Error).message) };
  }
}
