// transaction-mcp: recent transactions, their details, and the fraud team's "suspicious" flag.
import { join } from 'node:path';
import { z } from 'zod';
import { mcpToolWorkload } from '../lib/mcp-workload.ts';
import { defineTool, failed, ok, type ToolSpec } from '../lib/mcp-tools.ts';
import { openDatabase } from '../lib/sqlite.ts';
import type { WorkloadFactory } from '../lib/workload.ts';
import { TransactionStore } from './store.ts';

const txnId = z.string().min(1).describe('The transaction id, for example "txn-003".');

export function transactionTools(store: TransactionStore): ToolSpec[] {
  const notFound = (txn_id: string) => failed({ error: 'transaction not found', txn_id });
  return [
    defineTool({
      name: 'list_recent',
      title: 'List recent transactions',
      description: 'List the transactions of a customer account from the last `days` days, newest first.',
      inputSchema: z.object({
        account_id: z.string().min(1).describe('The customer account number, for example "12345".'),
        days: z.number().int().min(1).max(365).default(7).describe('How many days back to look (1-365, default 7).'),
      }),
      annotations: { readOnlyHint: true, openWorldHint: false },
      run: ({ account_id, days }) => ok({ account_id, days, transactions: store.recent(account_id, days) }),
    }),
    defineTool({
      name: 'get_details',
      title: 'Get transaction details',
      description: 'Return one transaction with the account it belongs to.',
      inputSchema: z.object({ txn_id: txnId }),
      annotations: { readOnlyHint: true, openWorldHint: false },
      run: ({ txn_id }) => {
        const details = store.details(txn_id);
        return details ? ok({ ...details }) : notFound(txn_id);
      },
    }),
    defineTool({
      name: 'flag_suspicious',
      title: 'Flag a transaction as suspicious',
      description: 'Mark a transaction as suspicious for the fraud team. Flagging twice is harmless.',
      inputSchema: z.object({ txn_id: txnId }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      run: ({ txn_id }) => (store.flag(txn_id) ? ok({ txn_id, flagged: true }) : notFound(txn_id)),
    }),
  ] as ToolSpec[];
}

export const transactionMcp: WorkloadFactory = (context) => {
  const store = new TransactionStore(openDatabase(join(context.dataDir, 'bank', 'transactions.sqlite')));
  store.seed();
  return mcpToolWorkload(context, { name: 'transaction-mcp', version: '1.0.0' }, transactionTools(store), () => store.close());
};
