// The story's data, in one place: where the policy layers live and which files each layer the demo switches
// applies, the vendor's converter, the seed question and what its answer must show, and who `chat` speaks as by
// default. Generic modules (the engine, the gateway, the mesh) know none of it; the commands, the demo, the
// control room and the tests read it here.
import { join } from 'node:path';
import { PROJECT_ROOT } from './runtime/images.ts';

export const DEFAULT_MANIFESTS = join(PROJECT_ROOT, 'deploy', 'manifests');
export const POLICIES_DIR = join(DEFAULT_MANIFESTS, 'policies');
export const MESH_POLICIES = join(POLICIES_DIR, 'mesh');
export const GATEWAY_POLICIES = join(POLICIES_DIR, 'gateway');
export const AGENT_POLICIES = join(POLICIES_DIR, 'agents');
export const ADMISSION_POLICIES = join(POLICIES_DIR, 'admission');

/** The layers `demo` and the control room switch one at a time. */
export type LayerName = 'mesh' | 'gateway-arguments' | 'dlp' | 'tool-pinning' | 'admission' | 'access-policy';

/** What each layer applies: the same directories and files as `policies` and `admission`. */
export const LAYER_FILES: Record<LayerName, string> = {
  mesh: MESH_POLICIES,
  'gateway-arguments': join(GATEWAY_POLICIES, 'deny-pii-in-tool-args.yaml'),
  dlp: join(GATEWAY_POLICIES, 'dlp.yaml'),
  'tool-pinning': join(GATEWAY_POLICIES, 'tool-pinning.yaml'),
  admission: ADMISSION_POLICIES,
  'access-policy': AGENT_POLICIES,
};

/** The vendor's currency converter: the tag the rug-pull moves, and where it runs. */
export const CONVERTER = { ref: 'acme-fx/currency-converter:1.0.0', namespace: 'trustusbank-bank-vendors', deployment: 'currency-converter' } as const;
export const CONVERTER_IDENTITY = 'spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter';

export const SEED_PROMPT = 'I am customer 12345. Please check my balance, list my recent transactions, and convert my balance to USD.';
export const FIGURES = ['£4,287.55', '$5,445.19'] as const;
/** A workload that is not allowed to call support-bot under the AccessPolicies. */
export const UNAUTHORISED_CALLER = 'external-attacker/mock-attacker';

/** Whom `chat` asks, and as whom, unless told otherwise. */
export const CHAT_DEFAULTS = { agent: 'support-bot', namespace: 'trustusbank-bank-agents', as: 'trustusbank-bank-frontend/chatbot' } as const;
