// chatbot: the bank's customer-facing chat page (trustusbank-bank-frontend, service account `chatbot`). It serves
// the page and proxies A2A to the agents (proxy.ts), as the seed's nginx does; the agents see the chatbot's
// SPIFFE identity, which their AccessPolicy allows.
//   GET  /                                        the page (index.html, app.js, app.css)
//   POST /api/a2a/<namespace>/<agent>/            A2A JSON-RPC to the agent (message/send, message/stream, …)
//   GET  /api/a2a/<namespace>/<agent>/.well-known/agent-card.json   its card (the page's health pill)
import { scriptPageHeaders } from '../../src/core/html.ts';
import type { ServerResponse } from 'node:http';
import { UserError } from '../../src/core/errors.ts';
import { requestTarget } from '../../src/core/request-guard.ts';
import type { WorkloadFactory } from '../lib/workload.ts';
import { A2A_PREFIX } from './a2a-route.ts';
import { APP_CSS, indexHtml } from './page/document.ts';
import { proxyA2a } from './proxy.ts';

/** The agent the page talks to, and the namespaces whose agents the proxy reaches. */
export const DEFAULT_AGENT = 'trustusbank-bank-agents/support-bot';
export const DEFAULT_NAMESPACES = ['trustusbank-bank-agents'];

/**
 * Only this origin's own files, no inline script or style, no framing; Trusted Types so that no code path of
 * the page can hand a string to an HTML sink.
 */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

const SECURITY_HEADERS: Readonly<Record<string, string>> = { ...scriptPageHeaders(PAGE_CSP) };

export interface ChatbotOptions {
  /** The page's script bundle (assets.ts). */
  script: Uint8Array;
  /** Where agents are reached; their cluster Service names unless a test points elsewhere. */
  upstream?: (namespace: string, agent: string) => string;
}

export function createChatbot(options: ChatbotOptions): WorkloadFactory {
  return ({ env, log }) => {
    const agent = env.CHATBOT_AGENT || DEFAULT_AGENT;
    const namespaces = (env.CHATBOT_A2A_NAMESPACES ?? '').split(',').map((n) => n.trim()).filter(Boolean);
    const allowed = namespaces.length > 0 ? namespaces : DEFAULT_NAMESPACES;
    const agentNamespace = agent.split('/')[0]!;
    if (!/^[a-z0-9-]+\/[a-z0-9-]+$/.test(agent) || !allowed.includes(agentNamespace)) {
      throw new UserError(`CHATBOT_AGENT must be <namespace>/<agent> in one of ${allowed.join(', ')}, got "${agent}"`);
    }
    const html = Buffer.from(indexHtml(agent));
    const css = Buffer.from(APP_CSS);
    const files: Record<string, { body: Uint8Array; type: string }> = {
      '/': { body: html, type: 'text/html; charset=utf-8' },
      '/index.html': { body: html, type: 'text/html; charset=utf-8' },
      '/app.js': { body: options.script, type: 'text/javascript; charset=utf-8' },
      '/app.css': { body: css, type: 'text/css; charset=utf-8' },
    };
    const serve = (res: ServerResponse, file: { body: Uint8Array; type: string }, head: boolean): void => {
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': file.type, 'content-length': file.body.length, 'cache-control': 'no-cache' });
      res.end(head ? undefined : file.body);
    };
    return {
      handle: async (req, res) => {
        const path = requestTarget(req).pathname;
        for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
        if ((req.url ?? '').startsWith(A2A_PREFIX)) {
          await proxyA2a(req, res, { namespaces: allowed, log, ...(options.upstream ? { upstream: options.upstream } : {}) });
          return true;
        }
        if (path === '/favicon.ico' && req.method === 'GET') {
          // Browsers ask for it unprompted; no icon, and no 404 in the page's console.
          res.writeHead(204, { 'cache-control': 'max-age=86400' });
          res.end();
          return true;
        }
        const file = files[path];
        if (!file) return false;
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify({ error: 'method not allowed' }));
          return true;
        }
        serve(res, file, req.method === 'HEAD');
        return true;
      },
      health: () => ({ agent }),
    };
  };
}
