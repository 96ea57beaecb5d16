import { runWorkloadMain } from '../lib/workload.ts';
import { mockAttacker } from './server.ts';

await runWorkloadMain('mock-attacker', mockAttacker);
