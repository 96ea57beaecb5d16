// The agent runtime image (trustusbank/kagent-agent): one declarative Agent per pod, configured by the agents
// controller through AGENT_CONFIG.
import { agentServiceName, agentWorkload } from './workload.ts';
import { runWorkloadMain } from '../lib/workload.ts';

await runWorkloadMain('agent', agentWorkload, { serviceName: agentServiceName });
