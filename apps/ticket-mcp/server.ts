// ticket-mcp: incident tickets and human notification, used by triage-bot.
import { join } from 'node:path';
import { z } from 'zod';
import { mcpToolWorkload } from '../lib/mcp-workload.ts';
import { defineTool, failed, ok, type ToolSpec } from '../lib/mcp-tools.ts';
import { openDatabase } from '../lib/sqlite.ts';
import type { WorkloadFactory } from '../lib/workload.ts';
import { CHANNELS, SEVERITIES, TicketStore, isChannel, isSeverity } from './store.ts';

export function ticketTools(store: TicketStore): ToolSpec[] {
  return [
    defineTool({
      name: 'create_ticket',
      title: 'Create a support ticket',
      description: 'Open a support ticket for a customer. Every ticket is an incident record.',
      inputSchema: z.object({
        customer_id: z.string().min(1).describe('The customer account number the ticket is about.'),
        summary: z.string().min(1).max(2000).describe('What happened, in one or two sentences.'),
        // A plain string, not an enum: an unknown severity is answered with the service's own error shape.
        severity: z.string().default('medium').describe(`One of ${SEVERITIES.join(', ')} (default medium).`),
      }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
      run: ({ customer_id, summary, severity }) => {
        if (!isSeverity(severity)) return failed({ error: 'invalid severity', got: severity, allowed: [...SEVERITIES] });
        return ok({ ...store.create(customer_id, summary, severity) });
      },
    }),
    defineTool({
      name: 'notify_human',
      title: 'Notify a human',
      description: 'Page a human about a ticket on a channel.',
      inputSchema: z.object({
        ticket_id: z.string().min(1).describe('The ticket id, for example "TICK-1A2B3C4D".'),
        channel: z.string().default('slack').describe(`One of ${CHANNELS.join(', ')} (default slack).`),
      }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
      run: ({ ticket_id, channel }) => {
        if (!isChannel(channel)) return failed({ error: 'invalid channel', got: channel, allowed: [...CHANNELS] });
        return store.notify(ticket_id, channel) ? ok({ ticket_id, notified: channel }) : failed({ error: 'ticket not found', ticket_id });
      },
    }),
  ] as ToolSpec[];
}

export const ticketMcp: WorkloadFactory = (context) => {
  const store = new TicketStore(openDatabase(join(context.dataDir, 'bank', 'tickets.sqlite')));
  return mcpToolWorkload(context, { name: 'ticket-mcp', version: '1.0.0' }, ticketTools(store), () => store.close());
};
