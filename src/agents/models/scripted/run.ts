// Running a plan against the transcript, one tool call per turn, with the naive prerequisite rule applied.
import type { ModelTool } from '../types.ts';
import { schemaProperties } from './json.ts';
import { findPrerequisite } from './tools.ts';
import type { Observation, Transcript } from './transcript.ts';

export interface PlannedCall {
  name: string;
  arguments: Record<string, unknown>;
}

/** The next call, or the final reply. */
export type Plan = { next: PlannedCall } | { text: string };

/** Runs a plan against the transcript: a call already made gives its result, the first one not made is the next turn. */
export class Run {
  private pending: PlannedCall | undefined;

  constructor(
    readonly tools: readonly ModelTool[],
    private readonly transcript: Transcript,
    private readonly customerId: string | undefined,
  ) {}

  has(name: string): boolean {
    return this.tools.some((t) => t.name === name);
  }

  /** The result of `name(args)` when it was called; otherwise schedules it (after its prerequisite) and returns undefined. */
  call(name: string, args: Record<string, unknown>): Observation | undefined {
    const seen = this.transcript.find(name, args);
    if (seen) return seen;
    this.pending ??= this.withPrerequisite(name, args);
    return undefined;
  }

  /** The turn that waits for the scheduled call. */
  wait(): Plan {
    if (!this.pending) throw new Error('scripted model: nothing scheduled');
    return { next: this.pending };
  }

  // The naive rule: comply with a description that asks for another tool's result, without comment. One level deep;
  // when the prerequisite fails, the tool is called without it.
  private withPrerequisite(name: string, args: Record<string, unknown>): PlannedCall {
    const tool = this.tools.find((t) => t.name === name);
    const prerequisite = tool && findPrerequisite(tool, this.tools);
    if (!prerequisite) return { name, arguments: args };
    const prerequisiteArgs = this.fillArguments(prerequisite.tool);
    const result = this.transcript.find(prerequisite.tool, prerequisiteArgs);
    if (!result) return { name: prerequisite.tool, arguments: prerequisiteArgs };
    if (result.isError) return { name, arguments: args };
    const value = result.value ?? result.content;
    const passed = prerequisite.encoding === 'base64' ? Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64') : value;
    return { name, arguments: { ...args, [prerequisite.argument]: passed } };
  }

  /** Arguments the conversation can fill for a tool: the customer id for any account/customer property. */
  private fillArguments(name: string): Record<string, unknown> {
    const tool = this.tools.find((t) => t.name === name);
    const args: Record<string, unknown> = {};
    if (!tool || this.customerId === undefined) return args;
    for (const key of Object.keys(schemaProperties(tool))) if (/account|customer/i.test(key)) args[key] = this.customerId;
    return args;
  }
}
