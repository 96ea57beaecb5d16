// An agent's heap after many large A2A tasks (issue 12: 80 tasks of 400 KB added 40–50 MB with the SDK's
// in-memory task store, and every task stayed). Sends 400 KB messages to an in-process agent (scripted model,
// no tools) and reports, after a full GC, the heap's growth next to the task store's own accounting: the
// growth should level off near the store's byte bound however many tasks are sent.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AGENT_CONFIG_ENV } from '../src/agents/runtime/config.ts';
import { DEFAULT_TASK_STORE_LIMITS } from '../src/agents/runtime/task-store.ts';
import { agentWorkload } from '../apps/agent/workload.ts';
import { startTestWorkload } from '../testing/workloads.ts';
import { sized } from './stats.ts';

const MESSAGE_BYTES = 400 * 1024;
const MB = 1024 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

export async function run(): Promise<void> {
  const checkpoints = sized([80, 200, 400], [3, 6]);
  const config = {
    name: 'support-bot',
    namespace: 'bank',
    description: '',
    systemMessage: 'You are the bank support bot.',
    model: { provider: 'scripted', model: 'scripted', source: 'bench' },
    mcpServers: [],
    agents: [],
    skills: [],
    maxSteps: 4,
    url: 'http://support-bot.bank.svc.cluster.local:8080/',
  };
  const agent = await startTestWorkload('support-bot', agentWorkload, { env: { [AGENT_CONFIG_ENV]: JSON.stringify(config) } });
  const filler = 'What is my balance? '.repeat(MESSAGE_BYTES / 20);
  try {
    const before = heapAfterGc();
    const rows: string[] = [];
    let sent = 0;
    for (const target of checkpoints) {
      for (; sent < target; sent++) {
        const response = await fetch(`${agent.url}/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'a2a-version': '1.0' },
          body: JSON.stringify({ jsonrpc: '2.0', id: sent, method: 'SendMessage', params: { message: { messageId: `m-${sent}`, role: 'ROLE_USER', parts: [{ text: `${sent} ${filler}` }] } } }),
        });
        const answer = (await response.json()) as { error?: { message: string } };
        if (answer.error) throw new Error(`task ${sent}: ${answer.error.message}`);
      }
      const growth = heapAfterGc() - before;
      const { tasks } = (await (await fetch(`${agent.url}/healthz`)).json()) as { tasks: { tasks: number; bytes: number; evicted: number } };
      rows.push(`  ${String(sent).padStart(6)} ${(growth / MB).toFixed(1).padStart(12)} ${(tasks.bytes / MB).toFixed(1).padStart(12)} ${String(tasks.tasks).padStart(8)} ${String(tasks.evicted).padStart(8)}`);
    }
    console.log(`\nagent heap after 400 KB A2A tasks (store bound ${DEFAULT_TASK_STORE_LIMITS.maxBytes / MB} MiB, ${DEFAULT_TASK_STORE_LIMITS.maxTasks} tasks)`);
    console.log(`  ${'tasks'.padStart(6)} ${'heap +MB'.padStart(12)} ${'store MB'.padStart(12)} ${'kept'.padStart(8)} ${'evicted'.padStart(8)}`);
    for (const row of rows) console.log(row);
  } finally {
    await agent.close();
  }
}
