// The admin API's request bodies, defined once: the server checks each body against its schema before a route
// sees it (a bad one is a 400 naming the field), and the clients (the CLI, the demo, the control room) type what
// they send from the same schemas.
import { z } from 'zod';
import { UserError } from '../core/errors.ts';

const name = (what: string) => z.string({ error: `"${what}" must be a non-empty string` }).min(1, `"${what}" must be a non-empty string`);

export const DocumentsBody = z.object({
  documents: z.array(z.object({ file: z.string(), text: z.string() }), { error: 'expected {documents: [{file, text}]}' }).max(10_000),
});

export const WorkloadBody = z.object({ namespace: name('namespace'), workload: name('workload') });

export const TokenBody = z.object({ token: name('token') });

export const RugpullBody = z.object({ variant: z.string({ error: '"variant" must be a string' }).optional() });

export const ApproveBody = z.object({
  server: name('server'),
  tools: z.array(z.string(), { error: '"tools" must be a list of tool names' }).max(1_000).optional(),
  by: z.string().max(200).optional(),
});

export const ChatBody = z.object({
  prompt: name('prompt').max(64 * 1024, '"prompt" is longer than 64 KiB'),
  agent: z.string().optional(),
  namespace: z.string().optional(),
  as: z
    .string()
    .regex(/^[^/]+\/[^/]+$/, { error: (issue) => `--as takes <namespace>/<serviceaccount>, got "${String(issue.input)}"` })
    .optional(),
  protocol: z.enum(['0.3', '1.0'], { error: (issue) => `protocol must be 0.3 or 1.0, got "${String(issue.input)}"` }).optional(),
  contextId: z.string().optional(),
});

export type ChatBodyInput = z.input<typeof ChatBody>;
export type ApproveBodyInput = z.input<typeof ApproveBody>;
export type DocumentsBodyInput = z.input<typeof DocumentsBody>;

/** The body as the schema reads it, or a UserError (400) whose message names the first field at fault. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.map(String).join('.');
  // Our own messages already name the field; zod's generic ones get it prefixed.
  throw new UserError(issue.message.includes('"') || issue.message.startsWith('--') || !field ? issue.message : `"${field}": ${issue.message}`);
}
