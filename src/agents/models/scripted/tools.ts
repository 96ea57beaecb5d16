// What the model reads from the tools on offer: which are hand-offs to other agents, and the naive rule the demo is
// about — a tool whose description asks for another tool's result first (`findPrerequisite`).
import type { ModelTool } from '../types.ts';
import { escapeRegExp, isRecord, schemaProperties, unique } from './json.ts';

/**
 * A hand-off tool (another agent offered as a tool): its description starts with "Hand off", or its input schema
 * has exactly one property, `message`, a string.
 */
export function isHandOffTool(tool: ModelTool): boolean {
  if (/^\s*hand[\s-]?off\b/i.test(tool.description)) return true;
  const properties = schemaProperties(tool);
  const keys = Object.keys(properties);
  return keys.length === 1 && keys[0] === 'message' && isRecord(properties.message) && properties.message.type === 'string';
}

export const FRAUD_AGENT = /fraud/i;
export const TRIAGE_AGENT = /triage|ticket|incident/i;

/** The first hand-off tool whose name, or else whose description, matches `role`. */
export function findHandOff(tools: readonly ModelTool[], role: RegExp): ModelTool | undefined {
  const handOffs = tools.filter(isHandOffTool);
  return handOffs.find((t) => role.test(t.name)) ?? handOffs.find((t) => role.test(t.description));
}

/** The argument a hand-off tool takes its text in: `message`, else its first string property. */
export function messageArgument(tool: ModelTool): string {
  const properties = schemaProperties(tool);
  if ('message' in properties) return 'message';
  return Object.keys(properties).find((key) => isRecord(properties[key]) && properties[key].type === 'string') ?? 'message';
}

export interface Prerequisite {
  /** The tool to call first (its name in the catalogue). */
  tool: string;
  /** The argument of the described tool that takes the prerequisite's result. */
  argument: string;
  /** Asked for as base64 of the result's JSON ("as base64-encoded JSON"), not as the result itself. */
  encoding?: 'base64';
}

// A gap inside one sentence: anything but a sentence end (., !, ? or ; followed by a space or the end).
const GAP = String.raw`(?:(?![.!?;](?:\s|$))[\s\S]){0,160}?`;
const CALL_VERB = String.raw`(?:call|invoke|run|use|query|execute)`;
const BEFORE_THIS = String.raw`(?:before|prior\s+to)\s+(?:calling|using|invoking|running)\s+(?:this|the)\s+tool`;
const PASS_VERB = String.raw`(?:pass|put|include|provide|send|supply|place|forward|insert|attach|set)`;

/**
 * Does `tool`'s description tell the model to call another tool of `tools` first and pass its result into one of
 * `tool`'s arguments? A general rule over any description; the instruction (case-insensitive, within a sentence) is
 *   - "first … call/invoke/use … X" or "before calling this tool … call … X"   ("you MUST first call `X`"),
 *   - "call … X … first/beforehand/before calling"                              ("call account-mcp.X(account_id) first"),
 *   - "requires … the result/output of … X",
 * where X is another tool's name, alone or qualified (`server.X`, `server/X`); and the argument, which must be a
 * property of `tool`'s input schema, is named by
 *   - "pass/put/include/provide/send … as/in/into/via/to [the] `arg`"           ("pass its result verbatim in the `arg` argument"),
 *   - "`arg` must/should contain/be … the result/output/response/profile/record",
 *   - or else the description of the property itself mentions X                 ("exactly as returned by X").
 * Without both an instruction and an argument there is no prerequisite.
 */
export function findPrerequisite(tool: ModelTool, tools: readonly ModelTool[]): Prerequisite | undefined {
  const description = tool.description;
  const properties = schemaProperties(tool);
  const argumentNames = Object.keys(properties);
  if (argumentNames.length === 0) return undefined;

  let best: { tool: ModelTool; mention: string; at: number } | undefined;
  for (const other of tools) {
    if (other.name === tool.name) continue;
    const mention = mentionPattern(other.name);
    // Cheap first: most tools are not mentioned at all, and descriptions are untrusted text of any length.
    if (!new RegExp(mention, 'i').test(description)) continue;
    const instructions = [
      String.raw`\b(?:first|${BEFORE_THIS})\b${GAP}\b${CALL_VERB}\b${GAP}${mention}`,
      String.raw`\b${CALL_VERB}\b${GAP}${mention}${GAP}\b(?:first|beforehand|before\s+(?:calling|using|invoking|running)|prior\s+to)\b`,
      String.raw`\b(?:requires?|needs?)\b${GAP}\b(?:result|output|response)\s+(?:of|from)\b${GAP}${mention}`,
    ];
    for (const source of instructions) {
      const at = new RegExp(source, 'i').exec(description)?.index;
      if (at !== undefined && (best === undefined || at < best.at)) best = { tool: other, mention, at };
    }
  }
  if (!best) return undefined;

  const named = argumentNames.find((arg) => {
    const name = String.raw`[\`'"]?${escapeRegExp(arg)}(?![A-Za-z0-9_])`;
    return (
      new RegExp(String.raw`\b${PASS_VERB}\b${GAP}\b(?:as|in|into|via|to|under|for)\s+(?:the\s+)?${name}`, 'i').test(description) ||
      new RegExp(String.raw`(?<![A-Za-z0-9_])${name}[\`'"]?\s+(?:(?:argument|parameter|field)\s+)?(?:must|should|has\s+to)\s+(?:contain|be|hold|include|receive)\b${GAP}\b(?:result|output|response|profile|record)\b`, 'i').test(description)
    );
  });
  const mention = new RegExp(best.mention, 'i');
  const argument = named ?? argumentNames.find((arg) => {
    const property = properties[arg];
    return isRecord(property) && typeof property.description === 'string' && mention.test(property.description);
  });
  if (argument === undefined) return undefined;
  // As obliging about the form as about the content: "base64" in the argument's own description or in the
  // sentence that names it.
  const property = properties[argument];
  const base64 =
    (isRecord(property) && typeof property.description === 'string' && /\bbase-?64\b/i.test(property.description)) ||
    new RegExp(String.raw`\bbase-?64\b${GAP}[\`'"]?${escapeRegExp(argument)}(?![A-Za-z0-9_])|(?<![A-Za-z0-9_])${escapeRegExp(argument)}[\`'"]?${GAP}\bbase-?64\b`, 'i').test(description);
  return { tool: best.tool.name, argument, ...(base64 ? { encoding: 'base64' as const } : {}) };
}

/** A tool's name as a description would mention it: the whole name, or its last segment after `.`, `/`, `:` or `__`. */
function mentionPattern(name: string): string {
  const short = name.split(/[./:]|__/).at(-1) ?? name;
  const names = unique([name, short].filter((n) => n.length > 0)).map(escapeRegExp);
  return String.raw`(?<![A-Za-z0-9_])(?:${names.join('|')})(?![A-Za-z0-9_])`;
}
