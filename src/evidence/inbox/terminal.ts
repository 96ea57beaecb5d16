// The inbox as a terminal table (for `trustusbank mail`). Mail text is hostile: control characters, escape
// sequences and line breaks are replaced before anything reaches the terminal.
import type { StoredMessage } from './message.ts';

export interface InboxLine {
  readonly id: string;
  readonly created: number;
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
}

export function inboxLine(message: StoredMessage): InboxLine {
  return { id: message.id, created: message.created, from: message.decoded.from || message.envelopeFrom, to: message.decoded.to.length > 0 ? message.decoded.to : message.envelopeTo, subject: message.decoded.subject };
}

/** From an item of /api/v2/messages (what `trustusbank mail` reads from the running stack). */
export function inboxLineFromMailHog(item: unknown): InboxLine {
  const i = (item ?? {}) as {
    ID?: unknown;
    Created?: unknown;
    Raw?: { From?: unknown; To?: unknown };
    Content?: { Headers?: Record<string, unknown> };
    Decoded?: { Subject?: unknown; From?: unknown; To?: unknown };
  };
  const text = (value: unknown): string => (typeof value === 'string' ? value : '');
  const header = (name: string): string => {
    const values = i.Content?.Headers?.[name];
    return Array.isArray(values) ? text(values[0]) : '';
  };
  const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(text).filter(Boolean) : []);
  const decodedTo = list(i.Decoded?.To);
  return {
    id: text(i.ID),
    created: Date.parse(text(i.Created)) || 0,
    from: text(i.Decoded?.From) || header('From') || text(i.Raw?.From),
    to: decodedTo.length > 0 ? decodedTo : list(i.Raw?.To),
    subject: text(i.Decoded?.Subject) || header('Subject'),
  };
}

/** Printable on one line: C0/C1 controls (ESC included), DEL and line separators become a space. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must go
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, ' ');
}

function fit(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text + ' '.repeat(width - chars.length) : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}

/** Pure: newest first, one mail per line, subjects cut to `width` columns. */
export function formatInbox(lines: readonly InboxLine[], options: { width?: number } = {}): string {
  if (lines.length === 0) return 'No mail in the SOC inbox.\n';
  const width = Math.max(60, options.width ?? 120);
  const rows = lines.map((l) => ({
    time: new Date(l.created).toISOString().replace('T', ' ').slice(0, 19),
    from: printable(l.from),
    to: printable(l.to.join(', ')),
    subject: printable(l.subject),
  }));
  const fromWidth = Math.min(30, Math.max(4, ...rows.map((r) => [...r.from].length)));
  const toWidth = Math.min(30, Math.max(2, ...rows.map((r) => [...r.to].length)));
  const subjectWidth = Math.max(10, width - 19 - fromWidth - toWidth - 6);
  const line = (time: string, from: string, to: string, subject: string): string => `${fit(time, 19)}  ${fit(from, fromWidth)}  ${fit(to, toWidth)}  ${fit(subject, subjectWidth).trimEnd()}`;
  return [line('RECEIVED (UTC)', 'FROM', 'TO', 'SUBJECT'), ...rows.map((r) => line(r.time, r.from, r.to, r.subject))].join('\n') + `\n${lines.length} mail${lines.length === 1 ? '' : 's'}\n`;
}
