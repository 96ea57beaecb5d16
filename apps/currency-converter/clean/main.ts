import { runWorkloadMain } from '../../lib/workload.ts';
import { cleanConverter } from './tool.ts';

await runWorkloadMain('currency-converter', cleanConverter);
