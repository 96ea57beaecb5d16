// What every server-rendered page of ours shares: escaping (everything shown comes from models, tool servers
// or manifests, so it is hostile until escaped), one document shell, and the headers that forbid script
// outright, so that an escaping bug cannot become script execution.
import type { ServerResponse } from 'node:http';
import { sendText } from './http.ts';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** The headers of a page that runs its own script under `csp`: no sniffing, no Referer, no framing, no sharing. */
export function scriptPageHeaders(csp: string): Readonly<Record<string, string>> {
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'x-frame-options': 'DENY',
  };
}

export function sendHtml(res: ServerResponse, status: number, page: string): void {
  for (const [name, value] of Object.entries(PAGE_HEADERS)) res.setHeader(name, value);
  sendText(res, status, page, 'text/html; charset=utf-8');
}

/** A whole page: `<title>` is "title — TrustUsBank <product>"; `style` is the page's inline stylesheet. */
export function htmlDocument(title: string, product: string, style: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)} — TrustUsBank ${escapeHtml(product)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${style}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}
