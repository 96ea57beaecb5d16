// The inbox page: the list of mails and one mail, everything escaped. A mail's HTML is shown as source,
// never rendered: it is attacker-shaped text (alert labels end up in it), and the page forbids script anyway.
import { escapeHtml, htmlDocument } from '../../core/html.ts';
import type { StoredMessage } from './message.ts';
import { splitMessage } from './message.ts';
import { printable } from './terminal.ts';

const STYLE = `body{font:14px system-ui,sans-serif;margin:2rem;color:#1b1f24}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #ddd;vertical-align:top}pre{white-space:pre-wrap;background:#f6f8fa;padding:1rem}
.subject{font-weight:600}a{color:#0a58ca}`;

const line = (text: string): string => escapeHtml(printable(text));

export function listPage(messages: readonly StoredMessage[]): string {
  const rows = messages
    .map(
      (m) =>
        `<tr><td>${escapeHtml(new Date(m.created).toISOString())}</td><td>${line(m.decoded.from || m.envelopeFrom)}</td><td>${line((m.decoded.to.length ? m.decoded.to : m.envelopeTo).join(', '))}</td>` +
        `<td class="subject"><a href="/messages/${escapeHtml(encodeURIComponent(m.id))}">${line(m.decoded.subject || '(no subject)')}</a></td></tr>`,
    )
    .join('\n');
  const body = `<h1>SOC inbox</h1>
<p>${messages.length} mail${messages.length === 1 ? '' : 's'} · MailHog API at <code>/api/v2/messages</code></p>
<table><thead><tr><th>Received</th><th>From</th><th>To</th><th>Subject</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="4">No mail yet.</td></tr>'}
</tbody></table>`;
  return htmlDocument('Inbox', 'SOC inbox', STYLE, body);
}

export function messagePage(message: StoredMessage): string {
  const { headers } = splitMessage(message.raw);
  const headerRows = Object.entries(headers)
    .flatMap(([name, values]) => values.map((value) => `<tr><th>${line(name)}</th><td>${line(value)}</td></tr>`))
    .join('\n');
  const text = message.decoded.text ?? '';
  const html = message.decoded.html;
  const body = `<p><a href="/">← all mail</a></p>
<h1 class="subject">${line(message.decoded.subject || '(no subject)')}</h1>
<table>
<tr><th>From</th><td>${line(message.decoded.from || message.envelopeFrom)}</td></tr>
<tr><th>To</th><td>${line(message.decoded.to.join(', '))}</td></tr>
<tr><th>Envelope</th><td>${line(message.envelopeFrom)} → ${line(message.envelopeTo.join(', '))}</td></tr>
<tr><th>Received</th><td>${escapeHtml(new Date(message.created).toISOString())}</td></tr>
</table>
<h2>Text</h2>
<pre>${escapeHtml(text) || '(no text part)'}</pre>
${html === undefined ? '' : `<h2>HTML part (source, not rendered)</h2>\n<pre>${escapeHtml(html)}</pre>`}
<details><summary>All headers</summary><table>${headerRows}</table></details>`;
  return htmlDocument(printable(message.decoded.subject || 'Mail'), 'SOC inbox', STYLE, body);
}

export function notFoundPage(id: string): string {
  return htmlDocument('Not found', 'SOC inbox', STYLE, `<h1>No such mail</h1><p>${line(id)}</p><p><a href="/">← all mail</a></p>`);
}
