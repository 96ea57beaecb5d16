import { runWorkloadMain } from '../lib/workload.ts';
import { ticketMcp } from './server.ts';

await runWorkloadMain('ticket-mcp', ticketMcp);
