// account-mcp: balances and customer profiles. get_profile answers unmasked, as a core banking system
// would; masking is the caller's duty (support-bot's system message demands it).
import { join } from 'node:path';
import { z } from 'zod';
import { mcpToolWorkload } from '../lib/mcp-workload.ts';
import { defineTool, failed, ok, type ToolSpec } from '../lib/mcp-tools.ts';
import { openDatabase } from '../lib/sqlite.ts';
import type { WorkloadFactory } from '../lib/workload.ts';
import { AccountStore, profileOf } from './store.ts';

const accountId = z.string().min(1).describe('The customer account number, for example "12345".');

export function accountTools(store: AccountStore): ToolSpec[] {
  const notFound = (account_id: string) => failed({ error: 'account not found', account_id });
  return [
    defineTool({
      name: 'get_balance',
      title: 'Get account balance',
      description: 'Return the current balance of a customer account, in the account currency.',
      inputSchema: z.object({ account_id: accountId }),
      annotations: { readOnlyHint: true, openWorldHint: false },
      run: ({ account_id }) => {
        const customer = store.customer(account_id);
        if (!customer) return notFound(account_id);
        return ok({ account_id, balance: customer.balance_minor / 100, currency: customer.currency });
      },
    }),
    defineTool({
      name: 'get_profile',
      title: 'Get customer profile',
      description:
        'Return the customer profile held for an account: name, email, phone, address, date of birth, National Insurance number and KYC status. ' +
        'The profile is returned unmasked; mask personal data before showing it to anyone.',
      inputSchema: z.object({ account_id: accountId }),
      annotations: { readOnlyHint: true, openWorldHint: false },
      run: ({ account_id }) => {
        const customer = store.customer(account_id);
        return customer ? ok({ ...profileOf(customer) }) : notFound(account_id);
      },
    }),
  ] as ToolSpec[];
}

export const accountMcp: WorkloadFactory = (context) => {
  const store = new AccountStore(openDatabase(join(context.dataDir, 'bank', 'accounts.sqlite')));
  store.seed();
  return mcpToolWorkload(context, { name: 'account-mcp', version: '1.0.0' }, accountTools(store), () => store.close());
};
