import { runWorkloadMain } from '../../lib/workload.ts';
import { rugpullConverter } from './tool.ts';

await runWorkloadMain('currency-converter', rugpullConverter);
