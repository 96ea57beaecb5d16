// Building blocks for the kind schemas. Each schema mirrors the upstream YAML field for field; these helpers
// carry the rules every kind shares: how unknown fields are refused, which upstream fields are named as
// unsupported, which server bookkeeping is tolerated, and the Kubernetes formats of names, labels and ports.
import { z } from 'zod';
import { parseGoDuration } from './duration.ts';
import { labelValueProblem, portNameProblem, qualifiedNameProblem } from './names.ts';

/** How an object treats fields outside its supported shape. Anything not listed here is an unknown field. */
export interface FieldPolicy {
  /** Real upstream fields TrustUsBank does not implement. Refused by name, so the user knows the field is
   *  right but the engine is not there yet, never silently ignored. An empty value ({}, [], "") asks for
   *  nothing, so it is accepted and dropped: generators such as `kubectl create --dry-run -o yaml` emit them. */
  unsupported?: readonly string[];
  /** Extra advice for some unsupported fields, e.g. what to write instead. */
  hints?: Readonly<Record<string, string>>;
  /** Whose field an unsupported one is, for the message. */
  upstream?: string;
  /** Fields an API server writes for its own bookkeeping (uid, resourceVersion, status, ...). They describe
   *  a past state, not an intent, so they are accepted and dropped: exported YAML must load as it is. */
  bookkeeping?: readonly string[];
}

/** Marks the issues for fields a kind does not have, so the loader can name the kind in the message. */
export const UNKNOWN_FIELD = 'unknown-field';

/**
 * A mapping with exactly `shape`'s fields. Unknown keys are reported one issue per key (with a spelling
 * suggestion), unsupported and bookkeeping keys as `policy` says; the output holds only `shape`'s keys.
 */
export function kubeObject<Shape extends z.ZodRawShape>(shape: Shape, policy: FieldPolicy = {}) {
  const known = Object.keys(shape);
  const unsupported = new Set(policy.unsupported);
  const bookkeeping = new Set(policy.bookkeeping);
  const upstream = policy.upstream ?? 'Kubernetes';
  // A loose object keeps the extra keys so the check below can see them, and the check runs even when a
  // field failed: a user should learn about a misspelt key and a wrong type in the same pass.
  return z
    .looseObject(shape)
    .superRefine(
      (value, ctx) => {
        for (const [key, field] of Object.entries(value)) {
          if (known.includes(key) || bookkeeping.has(key)) continue;
          if (unsupported.has(key)) {
            if (isEmptyValue(field)) continue;
            const hint = policy.hints?.[key];
            ctx.addIssue({ code: 'custom', path: [key], message: `is a ${upstream} field TrustUsBank does not support yet${hint ? `; ${hint}` : ''}`, continue: true });
            continue;
          }
          const suggestion = closestKey(key, known);
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `is not a known field${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
            params: { reason: UNKNOWN_FIELD, suggestion },
            continue: true,
          });
        }
      },
      { when: (payload) => isPlainObject(payload.value) },
    )
    .transform((value) => {
      const output: Record<string, unknown> = {};
      for (const key of known) if (value[key] !== undefined) output[key] = value[key];
      return output as z.output<z.ZodObject<Shape>>;
    });
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function isEmptyValue(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return isPlainObject(value) && Object.keys(value).length === 0;
}

/** The known key a misspelt one most likely meant: same letters ignoring case, or at most two edits away. */
export function closestKey(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = candidate.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.min(2, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** A string checked by one of the rules in names.ts; the message quotes the value so the user sees it. */
export function checkedString(problemOf: (value: string) => string | undefined, noun: string) {
  return z.string().superRefine((value, ctx) => {
    const problem = problemOf(value);
    if (problem) ctx.addIssue({ code: 'custom', message: `invalid ${noun} ${JSON.stringify(value)}: ${problem}` });
  });
}

export const nonEmptyString = z.string().min(1, { error: 'must not be empty' });

function goDurationProblem(value: string): string | undefined {
  const milliseconds = parseGoDuration(value);
  if (milliseconds === undefined) return 'must be a Go duration such as "30s", "5m", "1h" or "1h30m"';
  if (milliseconds <= 0) return 'must be longer than 0';
  return undefined;
}

/** A positive Go duration ("30s", "1h30m"), as Gateway API and agentgateway fields write timeouts and lifetimes. */
export const goDuration = checkedString(goDurationProblem, 'duration');

/** `metadata.labels`, `selector.matchLabels`: keys and values as Kubernetes requires, each problem at its key. */
export const labelMap = z.record(z.string(), z.string()).superRefine((labels, ctx) => {
  for (const [key, value] of Object.entries(labels)) {
    const keyProblem = qualifiedNameProblem(key);
    if (keyProblem) ctx.addIssue({ code: 'custom', path: [key], message: `invalid label key ${JSON.stringify(key)}: ${keyProblem}` });
    const valueProblem = labelValueProblem(value);
    if (valueProblem) ctx.addIssue({ code: 'custom', path: [key], message: `invalid label value ${JSON.stringify(value)}: ${valueProblem}` });
  }
});

const ANNOTATIONS_MAX_BYTES = 256 * 1024;

export const annotationMap = z.record(z.string(), z.string()).superRefine((annotations, ctx) => {
  let size = 0;
  for (const [key, value] of Object.entries(annotations)) {
    const keyProblem = qualifiedNameProblem(key);
    if (keyProblem) ctx.addIssue({ code: 'custom', path: [key], message: `invalid annotation key ${JSON.stringify(key)}: ${keyProblem}` });
    size += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  if (size > ANNOTATIONS_MAX_BYTES) ctx.addIssue({ code: 'custom', message: `total size ${size} bytes exceeds the Kubernetes limit of ${ANNOTATIONS_MAX_BYTES} bytes` });
});

export const portNumber = z
  .int()
  .min(1, { error: 'must be a port number from 1 to 65535' })
  .max(65535, { error: 'must be a port number from 1 to 65535' });

/** Kubernetes IntOrString for ports: a number, or the name of a container port. */
export const portNumberOrName = z
  .union([z.int(), z.string()], { error: 'expected a port number (1-65535) or a port name' })
  .superRefine((port, ctx) => {
    if (typeof port === 'number') {
      if (port < 1 || port > 65535) ctx.addIssue({ code: 'custom', message: `${port} must be a port number from 1 to 65535` });
      return;
    }
    const problem = portNameProblem(port);
    if (problem) ctx.addIssue({ code: 'custom', message: `invalid port name ${JSON.stringify(port)}: ${problem}` });
  });

export const nonNegativeInt = z.int().min(0, { error: 'must be 0 or more' });
export const positiveInt = z.int().min(1, { error: 'must be 1 or more' });

/**
 * An enum whose other upstream values are known but not implemented: those get "does not support yet",
 * anything else the list of what is valid.
 */
export function supportedValue<const Values extends readonly [string, ...string[]]>(supported: Values, options: { what: string; unsupported?: readonly string[]; upstream?: string }) {
  return z.enum(supported, {
    error: (issue) => {
      if (issue.input === undefined) return 'is required';
      if (typeof issue.input !== 'string') return undefined;
      if (options.unsupported?.includes(issue.input)) {
        return `${issue.input} is a ${options.upstream ?? 'Kubernetes'} ${options.what} TrustUsBank does not support yet (supported: ${supported.join(', ')})`;
      }
      return `must be one of ${supported.join(', ')} (got ${JSON.stringify(issue.input)})`;
    },
  });
}

export const tcpProtocol = supportedValue(['TCP'], { what: 'protocol', unsupported: ['UDP', 'SCTP'] });

/** True only when A and B are identical types (not merely assignable both ways, which would let an extra
 *  optional field through); proves at compile time that a schema yields exactly the shape in types.ts. */
export type SameShape<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
export type Expect<T extends true> = T;
