// What the control room's buttons do, each through the admin operations the CLI uses (`reset`, `rugpull`,
// `apply`/`delete` of the same policy files as `policies` and the demo, `demo` itself), called in-process.
// One action at a time: a second click while the demo runs is told so instead of interleaving with it.
import { findRoute, type AdminRoutes } from '../control-plane/admin-api.ts';
import { UserError } from '../core/errors.ts';
import { runDemo, type DemoApi, type DemoReport } from '../demo/demo.ts';
import type { StackClient } from '../control-plane/admin-api.ts';
import { CONTROL_LAYERS, type ControlLayer } from './snapshot.ts';

/** The admin API's routes called directly, in the shape a CLI command uses over the socket. */
export function inProcessStack(routes: AdminRoutes, dataDir: string): StackClient {
  return {
    dataDir,
    call: async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
      const url = new URL(path, 'http://admin');
      const handler = findRoute(routes, method, url);
      if (handler === 'malformed') throw new UserError(`malformed percent-encoding in ${url.pathname}`);
      if (!handler) throw new Error(`no such admin route: ${method} ${url.pathname}`);
      // A copy, as over the socket: the caller never holds the stack's own objects.
      return JSON.parse(JSON.stringify((await handler(body ?? {}, url.searchParams)) ?? {})) as T;
    },
  };
}

export type ActionRequest = { action: 'reset' } | { action: 'rugpull' } | { action: 'demo' } | { action: 'layer'; layer: ControlLayer; on: boolean };

export interface ActionResult {
  action: string;
  ok: boolean;
  message: string;
}

export class BusyError extends UserError {}

export interface ActionRunner {
  run(request: ActionRequest, progress: (line: string) => void): Promise<ActionResult>;
  /** The action under way, if any. */
  busy(): string | undefined;
}

export function describeAction(request: ActionRequest): string {
  if (request.action === 'layer') return `${request.layer} ${request.on ? 'on' : 'off'}`;
  return request.action;
}

export function actionRunner(api: DemoApi): ActionRunner {
  let current: string | undefined;
  const perform = async (request: ActionRequest, progress: (line: string) => void): Promise<ActionResult> => {
    const action = describeAction(request);
    switch (request.action) {
      case 'reset':
        await api.reset();
        return { action, ok: true, message: 'Reset: the clean converter, no policy, no loot.' };
      case 'rugpull': {
        const outcome = await api.rugpull();
        return outcome.rolledOut
          ? { action, ok: true, message: 'Rug-pull: new bytes behind acme-fx/currency-converter:1.0.0, rolled out.' }
          : { action, ok: false, message: `Rug-pull: the new build did not roll out: ${outcome.refused ?? 'rollout incomplete'}` };
      }
      case 'layer':
        for (const layer of CONTROL_LAYERS[request.layer].layers) await (request.on ? api.apply(layer) : api.remove(layer));
        return { action, ok: true, message: `${CONTROL_LAYERS[request.layer].label}: ${request.on ? 'on' : 'off'}.` };
      case 'demo': {
        const report = await runDemo(api, { progress });
        return { action, ok: report.ok, message: demoSummary(report) };
      }
    }
  };
  return {
    busy: () => current,
    run: async (request, progress) => {
      if (current !== undefined) throw new BusyError(`busy: "${current}" is still running; try again when it is done`);
      current = describeAction(request);
      try {
        return await perform(request, progress);
      } finally {
        current = undefined;
      }
    },
  };
}

export function demoSummary(report: DemoReport): string {
  const acts = report.acts.map((a) => `${a.name}: ${a.ok ? 'ok' : 'FAILED'}, attacker +${a.attackerEventsAdded}, stopped by ${a.stoppedBy}`);
  const layers = report.layers.map((l) => `${l.layer}: attack ${l.attackStopped ? 'stopped' : 'NOT stopped'}, clean run ${l.cleanRunOk ? 'ok' : 'BROKEN'}`);
  const verdict = report.ok ? `The story holds (${(report.durationMs / 1000).toFixed(1)} s).` : `The story does NOT hold: ${report.failures.join('; ')}`;
  return [...acts, ...layers, verdict].join('\n');
}
