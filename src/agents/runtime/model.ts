// The model an agent pod runs, from its config: the offline scripted model, or a real provider whose key is
// read from the pod's environment (the controller passes it from the host's, never through the config).
import { createAnthropicModel } from '../models/anthropic.ts';
import { createOpenAiModel } from '../models/openai.ts';
import { createScriptedModel } from '../models/scripted.ts';
import type { ModelProvider } from '../models/types.ts';
import type { AgentModelConfig } from './config.ts';

/** Throws a ModelError('config') when the provider cannot work (no key): the pod fails at start, not mid-chat. */
export function createModel(config: AgentModelConfig, env: NodeJS.ProcessEnv): ModelProvider {
  switch (config.provider) {
    case 'scripted':
      return createScriptedModel();
    case 'anthropic':
      return createAnthropicModel({
        model: config.model,
        ...(config.apiKeyEnv && env[config.apiKeyEnv] ? { apiKey: env[config.apiKeyEnv] } : {}),
        ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}),
        ...(config.maxTokens ? { maxTokens: config.maxTokens } : {}),
        env,
      });
    case 'openai':
      return createOpenAiModel({
        model: config.model,
        ...(config.apiKeyEnv && env[config.apiKeyEnv] ? { apiKey: env[config.apiKeyEnv] } : {}),
        ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}),
        env,
      });
  }
}
