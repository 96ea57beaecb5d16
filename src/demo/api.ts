// The demo's view of a running stack: `DemoApi` over the admin API, the same for the CLI (over the admin
// socket) and the control room (in-process). Everything is measured as a user would see it: the attacker's own
// counter over HTTP, the metrics text, the chat answers.
import type { StackClient } from '../control-plane/admin-api.ts';
import type { ChatAnswer, StackStatus } from '../control-plane/admin-routes.ts';
import { readManifestDocuments } from '../manifests/load.ts';
import type { RolloutOutcome } from '../control-plane/image-ops.ts';
import { UserError } from '../core/errors.ts';
import { LAYER_FILES, type LayerName } from '../scenario.ts';
import type { AlertsNow, DemoApi, TraceDeny } from './demo.ts';
import type { ChatBodyInput, DocumentsBodyInput } from '../control-plane/admin-schemas.ts';

export function demoApi(stack: StackClient): DemoApi {
  let attackerUrl: string | undefined;
  const attacker = async (): Promise<string> => {
    if (!attackerUrl) {
      const status = await stack.call<StackStatus>('GET', '/status');
      const forward = status.forwards.find((f) => f.namespace === 'external-attacker' && f.service === 'mock-attacker');
      if (!forward) throw new UserError("the mock attacker has no host port; the demo reads the attacker's counter there");
      attackerUrl = forward.url;
    }
    return attackerUrl;
  };
  const documents = (layer: LayerName) => readManifestDocuments(LAYER_FILES[layer], []);
  return {
    reset: () => stack.call('POST', '/reset', {}),
    rugpull: (variant) => stack.call<RolloutOutcome>('POST', '/images/rugpull', variant ? { variant } : {}),
    isolation: async () => (await stack.call<StackStatus>('GET', '/status')).isolation.mode,
    restoreClean: () => stack.call<RolloutOutcome>('POST', '/images/restore', {}),
    restartConverter: async () => {
      await stack.call('POST', '/restart', { namespace: 'trustusbank-bank-vendors', workload: 'currency-converter' });
    },
    apply: async (layer) => {
      await stack.call('POST', '/apply', { documents: documents(layer) } satisfies DocumentsBodyInput);
    },
    remove: async (layer) => {
      await stack.call('POST', '/delete', { documents: documents(layer) } satisfies DocumentsBodyInput);
    },
    chat: (prompt, as) => stack.call<ChatAnswer>('POST', '/chat', { prompt, ...(as ? { as } : {}) } satisfies ChatBodyInput),
    lootCount: async () => ((await (await fetch(new URL('/loot', await attacker()))).json()) as { count: number }).count,
    metrics: async () => (await stack.call<{ text: string }>('GET', '/metrics')).text,
    alerts: async () => {
      const answer = await stack.call<{ alerts: AlertsNow['alerts']; evaluatedThrough: string | null }>('GET', '/alerts');
      return { alerts: answer.alerts, evaluatedThrough: answer.evaluatedThrough === null ? undefined : Date.parse(answer.evaluatedThrough) };
    },
    incidents: async () => (await stack.call<{ incidents: { id: string; alerts: string[]; cause: { key: string } }[] }>('GET', '/incidents')).incidents,
    traceDenies: async (traceId) => (await stack.call<{ denies: TraceDeny[] }>('GET', `/traces/${traceId}/denies`)).denies,
    mails: async () => (await stack.call<{ messages: { subject: string; text: string; created: number }[] }>('GET', '/mail')).messages.map(({ subject, text, created }) => ({ subject, text, created })),
  };
}
