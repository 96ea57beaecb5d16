// The MailHog API (v1 and v2, the parts mail-testing tools use) and the page, over the message store.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendHtml } from '../../core/html.ts';
import { sendJson, sendText } from '../../core/http.ts';
import { requestTarget } from '../../core/request-guard.ts';
import { toMailHog } from './message.ts';
import type { StoredMessage } from './message.ts';
import type { MessageStore, SearchKind } from './store.ts';
import { listPage, messagePage, notFoundPage } from './page.ts';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;

function page(params: URLSearchParams, all: StoredMessage[]): Record<string, unknown> | string {
  const start = params.get('start') ?? '0';
  const limit = params.get('limit') ?? String(DEFAULT_LIMIT);
  if (!/^\d+$/.test(start)) return 'start must be a non-negative integer';
  if (!/^\d+$/.test(limit)) return 'limit must be a non-negative integer';
  const from = Number(start);
  const count = Math.min(Number(limit), MAX_LIMIT);
  const items = all.slice(from, from + count).map(toMailHog);
  return { total: all.length, count: items.length, start: from, items };
}

export function inboxHandler(store: MessageStore, metrics: () => string = () => ''): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    try {
      serve(store, req, res, metrics);
    } catch (error) {
      if (!res.headersSent) sendJson(res, 500, { error: (error as Error).message });
    }
  };
}

function serve(store: MessageStore, req: IncomingMessage, res: ServerResponse, metrics: () => string): void {
  const url = requestTarget(req);
  const path = url.pathname;
  const method = req.method ?? 'GET';
  const methodNotAllowed = (...allowed: string[]): void => {
    res.setHeader('allow', allowed.join(', '));
    sendJson(res, 405, { error: `method ${method} not allowed` });
  };
  const isGet = method === 'GET' || method === 'HEAD';

  if (path === '/metrics') {
    if (!isGet) return methodNotAllowed('GET');
    return sendText(res, 200, metrics(), 'text/plain; version=0.0.4; charset=utf-8');
  }
  if (path === '/') {
    if (!isGet) return methodNotAllowed('GET');
    return sendHtml(res, 200, listPage(store.list()));
  }
  const shown = /^\/messages\/([^/]+)$/.exec(path);
  if (shown) {
    if (!isGet) return methodNotAllowed('GET');
    const id = safeDecode(shown[1] as string);
    const message = id === undefined ? undefined : store.get(id);
    return message ? sendHtml(res, 200, messagePage(message)) : sendHtml(res, 404, notFoundPage(id ?? ''));
  }
  if (path === '/api/v2/messages') {
    if (!isGet) return methodNotAllowed('GET');
    const body = page(url.searchParams, store.list());
    return typeof body === 'string' ? sendJson(res, 400, { error: body }) : sendJson(res, 200, body);
  }
  if (path === '/api/v2/search') {
    if (!isGet) return methodNotAllowed('GET');
    const kind = url.searchParams.get('kind');
    const query = url.searchParams.get('query');
    if (kind !== 'from' && kind !== 'to' && kind !== 'containing') return sendJson(res, 400, { error: 'kind must be one of from, to, containing' });
    if (!query) return sendJson(res, 400, { error: 'query is required' });
    const body = page(url.searchParams, store.search(kind as SearchKind, query));
    return typeof body === 'string' ? sendJson(res, 400, { error: body }) : sendJson(res, 200, body);
  }
  if (path === '/api/v1/messages') {
    if (isGet) return sendJson(res, 200, store.list().map(toMailHog));
    if (method === 'DELETE') {
      store.clear();
      return sendText(res, 200, '');
    }
    return methodNotAllowed('GET', 'DELETE');
  }
  const one = /^\/api\/v1\/messages\/([^/]+)$/.exec(path);
  if (one) {
    const id = safeDecode(one[1] as string);
    const message = id === undefined ? undefined : store.get(id);
    if (isGet) return message ? sendJson(res, 200, toMailHog(message)) : sendJson(res, 404, { error: 'message not found' });
    if (method === 'DELETE') {
      if (!message) return sendJson(res, 404, { error: 'message not found' });
      store.delete(message.id);
      return sendText(res, 200, '');
    }
    return methodNotAllowed('GET', 'DELETE');
  }
  sendJson(res, 404, { error: 'not found' });
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
