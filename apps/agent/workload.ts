// An agent pod: its A2A endpoint, its tool loop and its session store, as a workload of the shared runtime
// (which adds /healthz, /metrics, logs and a clean shutdown).
import { join } from 'node:path';
import type { Workload, WorkloadContext } from '../lib/workload.ts';
import { UserError } from '../../src/core/errors.ts';
import { SessionStore } from '../../src/agents/sessions.ts';
import { createA2aEndpoint } from '../../src/agents/runtime/a2a-server.ts';
import { SESSIONS_FILE, readAgentConfig } from '../../src/agents/runtime/config.ts';
import { BankAgentExecutor, modelLabel } from '../../src/agents/runtime/executor.ts';
import { createModel } from '../../src/agents/runtime/model.ts';
import { Toolbox } from '../../src/agents/runtime/toolbox.ts';

/** The service an agent pod's spans belong to: the agent's name (support-bot, ...), not the shared image's. */
export function agentServiceName(env: NodeJS.ProcessEnv): string | undefined {
  try {
    return readAgentConfig(env).name;
  } catch {
    return undefined;
  }
}

export function agentWorkload(context: WorkloadContext): Workload {
  let config, model;
  try {
    config = readAgentConfig(context.env);
    model = createModel(config.model, context.env);
  } catch (error) {
    // A missing key or a broken config stops the pod at start with one clear line, not mid-conversation.
    throw new UserError(`cannot start: ${(error as Error).message}`);
  }
  const label = modelLabel(model);
  const log = context.log.child({ agent: config.name });
  const { store: sessions, recovered } = SessionStore.openOrRecover(join(context.dataDir, SESSIONS_FILE));
  if (recovered) log.warn('session store was damaged: moved it aside and started an empty one', { file: join(context.dataDir, SESSIONS_FILE), moved_to: recovered.movedTo, problem: recovered.problem });
  const toolbox = new Toolbox(config.mcpServers, config.agents, log, { name: config.name, namespace: config.namespace });
  const executor = new BankAgentExecutor({ config, model, toolbox, sessions, log });
  const endpoint = createA2aEndpoint(config, executor, label, log);
  log.info('agent ready', { model: label, scripted: model.scripted, modelSource: config.model.source, mcpServers: config.mcpServers.map((s) => s.name), agents: config.agents.map((a) => a.name) });
  return {
    handle: (req, res) => endpoint.handle(req, res),
    // The bounded stores' own accounting, so a soak (or a test) can see retained memory stay under its bounds.
    health: () => ({ agent: config.name, model: label, scripted: model.scripted, tasks: endpoint.tasks.usage(), conversations: executor.conversations.usage(), runningTasks: executor.runningCount(), ...(recovered ? { sessionStoreRecovered: recovered } : {}) }),
    errorShape: 'jsonrpc',
    close: async () => {
      await toolbox.close();
      sessions.close();
    },
  };
}
