import { runWorkloadMain } from '../lib/workload.ts';
import { transactionMcp } from './server.ts';

await runWorkloadMain('transaction-mcp', transactionMcp);
