// What an agent pod is told to be: the controller (src/control-plane/agents.ts) resolves an Agent with its
// ModelConfig, RemoteMCPServers and peer Agents into this one JSON document, handed to the pod in the
// AGENT_CONFIG environment variable (kagent hands its ADK runtime a config the same way, through a Secret).
// API keys are never in it: the pod reads them from its environment.

export const AGENT_CONFIG_ENV = 'AGENT_CONFIG';
/** The agent's session store, in its volume; the agents UI reads it from there. */
export const SESSIONS_FILE = 'sessions.db';
/** How many model turns one task may take before the agent gives up (kagent/ADK have a similar bound). */
export const DEFAULT_MAX_STEPS = 12;

export type ModelProviderName = 'scripted' | 'anthropic' | 'openai';

export interface AgentModelConfig {
  provider: ModelProviderName;
  /** The model name; `scripted` for the offline model. */
  model: string;
  baseUrl?: string;
  maxTokens?: number;
  /** The environment variable the API key is read from (ModelConfig apiKeySecretKey; default per provider). */
  apiKeyEnv?: string;
  /** Where the choice came from, for `status` and the reply metadata: `ModelConfig ns/name`, `--model`. */
  source: string;
}

export interface McpServerConfig {
  /** The RemoteMCPServer's name. */
  name: string;
  url: string;
  protocol: 'STREAMABLE_HTTP' | 'SSE';
  headers: Record<string, string>;
  /** The tools the Agent may use; undefined means every tool the server lists. */
  toolNames?: string[];
  timeoutMs?: number;
}

export interface PeerAgentConfig {
  name: string;
  namespace: string;
  /** The peer's A2A endpoint (its Service, through the mesh). */
  url: string;
  description: string;
}

export interface AgentSkillConfig {
  id: string;
  name: string;
  description: string;
  tags: string[];
  examples: string[];
}

export interface AgentRuntimeConfig {
  name: string;
  namespace: string;
  description: string;
  systemMessage: string;
  model: AgentModelConfig;
  mcpServers: McpServerConfig[];
  agents: PeerAgentConfig[];
  skills: AgentSkillConfig[];
  maxSteps: number;
  /** The URL the agent card advertises (its Service's cluster name). */
  url: string;
}

/** Read and check the pod's config; a broken one is the controller's bug, reported plainly. */
export function readAgentConfig(env: NodeJS.ProcessEnv): AgentRuntimeConfig {
  const raw = env[AGENT_CONFIG_ENV];
  if (raw === undefined || raw === '') throw new Error(`${AGENT_CONFIG_ENV} is not set: an agent pod is started by the agents controller, which sets it`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new Error(`${AGENT_CONFIG_ENV} is not JSON: ${(error as Error).message}`);
  }
  return checkAgentConfig(parsed);
}

export function checkAgentConfig(value: unknown): AgentRuntimeConfig {
  const problems: string[] = [];
  const config = value as Partial<AgentRuntimeConfig>;
  const need = (ok: boolean, what: string): void => {
    if (!ok) problems.push(what);
  };
  need(typeof value === 'object' && value !== null, 'an object');
  if (problems.length === 0) {
    need(typeof config.name === 'string' && config.name !== '', 'name');
    need(typeof config.namespace === 'string' && config.namespace !== '', 'namespace');
    need(typeof config.systemMessage === 'string', 'systemMessage');
    need(typeof config.url === 'string', 'url');
    need(typeof config.model === 'object' && config.model !== null && ['scripted', 'anthropic', 'openai'].includes(config.model.provider), 'model.provider (scripted, anthropic or openai)');
    need(Array.isArray(config.mcpServers), 'mcpServers');
    need(Array.isArray(config.agents), 'agents');
    need(Number.isInteger(config.maxSteps) && (config.maxSteps ?? 0) > 0, 'maxSteps (a positive integer)');
  }
  if (problems.length > 0) throw new Error(`${AGENT_CONFIG_ENV} is missing or has a bad ${problems.join(', ')}`);
  return { description: '', skills: [], ...config } as AgentRuntimeConfig;
}
