// What the debug pane shows of a reply's tool chain: each call by the agent that made it (a hand-off is a call
// whose name is an agent that then appears as an author), paired with its result, and what looks like personal
// data leaving through a tool: get_profile itself, an argument named like PII, or a value shaped like PII.
// Pure data in, data out: the page renders it, the tests check it.
import { toolCallsOf, type ChainEntry } from '../../../src/agents/runtime/a2a-client.ts';

/** The tool that reads a customer's whole profile: calling it at all is worth a look. */
export const PROFILE_TOOL = 'get_profile';
/** Argument keys that carry personal data (the seed's list), matched case-insensitively at any depth. */
export const PII_ARGUMENT_KEYS: readonly string[] = ['customer_profile', 'profile', 'email', 'ni_number', 'dob', 'address', 'phone', 'name'];
/** Values shaped like personal data whatever their key: an e-mail address, a UK National Insurance number (any
 * two letters: the seed's QQ prefix is one HMRC never issues, which is why examples use it). */
const PII_VALUE_PATTERNS: ReadonlyArray<readonly [string, RegExp]> = [
  ['an e-mail address', /[^\s@]+@[^\s@]+\.[a-z]{2,}/i],
  ['a National Insurance number', /\b[A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b/],
];
/** Nesting looked into; deeper than a profile ever is. */
const MAX_DEPTH = 6;

export interface ChainStep {
  author: string;
  name: string;
  args: Record<string, unknown>;
  result: unknown;
  isError: boolean;
  /** The call has been made and its result has not arrived yet. */
  pending: boolean;
  /** The call asks another agent (whose own calls follow with it as author). */
  handoff: boolean;
  /** Why the call is flagged; empty when it is not. */
  flags: string[];
}

export interface ChainSummary {
  steps: ChainStep[];
  calls: number;
  getProfile: boolean;
  flagged: number;
}

export function summariseChain(chain: readonly ChainEntry[]): ChainSummary {
  const authors = new Set(chain.map((entry) => entry.author));
  const responded = new Set(chain.filter((e) => e.type === 'function_response').map((e) => `${e.author}/${e.id}`));
  const calls = chain.filter((e) => e.type === 'function_call');
  const steps = toolCallsOf(chain).map((call, index): ChainStep => {
    const entry = calls[index]!;
    return {
      ...call,
      pending: !responded.has(`${entry.author}/${entry.id}`),
      handoff: authors.has(call.name) && call.name !== call.author,
      flags: flagsOf(call.name, call.args),
    };
  });
  return {
    steps,
    calls: steps.length,
    getProfile: steps.some((step) => step.name === PROFILE_TOOL),
    flagged: steps.filter((step) => step.flags.length > 0).length,
  };
}

/** Why a call with these arguments is flagged: the profile tool, PII-named argument keys, PII-shaped values. */
export function flagsOf(name: string, args: Record<string, unknown>): string[] {
  const flags: string[] = [];
  if (name === PROFILE_TOOL) flags.push(`${PROFILE_TOOL} reads the whole customer profile`);
  const keys = new Set<string>();
  const shapes = new Set<string>();
  const visit = (value: unknown, depth: number): void => {
    if (depth > MAX_DEPTH) return;
    if (typeof value === 'string') {
      for (const [label, pattern] of PII_VALUE_PATTERNS) if (pattern.test(value)) shapes.add(label);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    for (const [key, inner] of Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value)) {
      if (!Array.isArray(value) && PII_ARGUMENT_KEYS.includes(key.toLowerCase())) keys.add(key);
      visit(inner, depth + 1);
    }
  };
  visit(args, 0);
  for (const key of keys) flags.push(`argument "${key}" carries personal data`);
  for (const shape of shapes) flags.push(`an argument value looks like ${shape}`);
  return flags;
}
