import { runWorkloadMain } from '../lib/workload.ts';
import { accountMcp } from './server.ts';

await runWorkloadMain('account-mcp', accountMcp);
