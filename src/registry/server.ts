// The registry UI and its JSON API: the catalogue with what runs now against what was onboarded, and the DORA
// register of information. A plain Node request handler, read-only; the `up` process mounts it on the
// registry port. The catalogue and the observation are asked for on every request, so the page always
// shows the cluster as it is (a rug-pull shows on the next reload).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorMessage } from '../core/errors.ts';
import { sendHtml } from '../core/html.ts';
import { sendJson } from '../core/http.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { requestTarget } from '../core/request-guard.ts';
import { doraRegister, type Catalogue } from './catalogue.ts';
import { registryView, type Observed, type RegistryEntryView } from './drift.ts';
import { renderEntryPage, renderError, renderNotFound, renderRegistryList } from './page.ts';

export interface RegistryServerOptions {
  /** The catalogue, asked on every request (the caller may reload its file). */
  catalogue: () => Catalogue;
  /** Onboarding records, running digests and the gateway's pins, asked once per request that needs them. */
  observe: () => Promise<Observed> | Observed;
  log?: Logger;
}

export interface RegistryServer {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Stop serving: later requests get 503 (the handler holds no files or sockets of its own). */
  close(): void;
}

const JSON_HEADERS: Record<string, string> = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' };

export function createRegistryServer(options: RegistryServerOptions): RegistryServer {
  const log = options.log ?? silentLogger;
  let closed = false;

  const views = async (): Promise<{ catalogue: Catalogue; entries: RegistryEntryView[] }> => {
    const catalogue = options.catalogue();
    return { catalogue, entries: registryView(catalogue, await options.observe()) };
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET') {
      json(res, 405, { error: `method ${req.method ?? ''} not allowed; the registry is read-only` }, { allow: 'GET' });
      return;
    }
    const path = requestTarget(req).pathname;
    if (path === '/healthz') {
      json(res, 200, { status: 'ok' });
      return;
    }
    if (path === '/api/entries') {
      json(res, 200, { entries: (await views()).entries });
      return;
    }
    if (path === '/api/register') {
      const catalogue = options.catalogue();
      json(res, 200, { financialEntity: catalogue.financialEntity, rows: doraRegister(catalogue) });
      return;
    }
    const apiName = nameAfter(path, '/api/entries/');
    if (apiName !== undefined) {
      const found = apiName === null ? undefined : (await views()).entries.find((view) => view.entry.name === apiName);
      if (found) json(res, 200, found);
      else json(res, 404, { error: `no catalogue entry named ${JSON.stringify(apiName ?? path.slice('/api/entries/'.length))}` });
      return;
    }
    if (path === '/') {
      const { catalogue, entries } = await views();
      sendHtml(res, 200, renderRegistryList({ financialEntity: catalogue.financialEntity, entries, register: doraRegister(catalogue) }));
      return;
    }
    const pageName = nameAfter(path, '/entries/');
    if (pageName !== undefined) {
      const found = pageName === null ? undefined : (await views()).entries.find((view) => view.entry.name === pageName);
      if (found) sendHtml(res, 200, renderEntryPage(found));
      else sendHtml(res, 404, renderNotFound(`no catalogue entry named ${JSON.stringify(pageName ?? path.slice('/entries/'.length))}`));
      return;
    }
    if (path.startsWith('/api/')) json(res, 404, { error: `no such path: ${path}` });
    else sendHtml(res, 404, renderNotFound(`no such page: ${path}`));
  };

  return {
    handle: async (req, res) => {
      if (closed) {
        json(res, 503, { error: 'the registry is shutting down' });
        return;
      }
      try {
        await route(req, res);
      } catch (error) {
        log.error('registry request failed', { path: req.url, error });
        if (res.headersSent) res.destroy();
        else if (req.url?.startsWith('/api/')) json(res, 500, { error: errorMessage(error) });
        else sendHtml(res, 500, renderError(errorMessage(error)));
      }
    },
    close: () => {
      closed = true;
    },
  };
}

/**
 * The entry name after a prefix: the rest of the path, percent-decoded, so both `acme-fx/currency-converter`
 * and `acme-fx%2Fcurrency-converter` name the vendor's entry. Undefined when the path does not start with the
 * prefix; null when the rest is empty or not valid percent-encoding.
 */
function nameAfter(path: string, prefix: string): string | null | undefined {
  if (!path.startsWith(prefix)) return undefined;
  const rest = path.slice(prefix.length);
  if (rest === '') return null;
  try {
    return decodeURIComponent(rest);
  } catch {
    return null;
  }
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendJson(res, status, body, { ...JSON_HEADERS, ...headers });
}

