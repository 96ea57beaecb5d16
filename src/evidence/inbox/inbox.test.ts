// The SOC inbox: mail in over real SMTP, out through MailHog's API and a page. The attacks: an oversized or
// malformed mail, a hostile SMTP client, and mail whose headers try to inject markup, headers or terminal
// escapes. The clean run: mail arrives, is listed, searched, shown and deleted.
import { connect } from 'node:net';
import nodemailer from 'nodemailer';
import type { SendMailOptions } from 'nodemailer';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningInbox } from './index.ts';
import { formatInbox, inboxLineFromMailHog, startInbox } from './index.ts';
import { expositionProblems } from '../../core/metric-names.ts';

let inbox: RunningInbox;

beforeAll(async () => {
  inbox = await startInbox({ smtpPort: 0, httpPort: 0, maxMessageBytes: 64 * 1024, maxMessages: 5, log: () => {} });
});
afterAll(async () => {
  await inbox.close();
});
beforeEach(() => inbox.reset());

function send(mail: SendMailOptions): Promise<unknown> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: inbox.smtpPort, secure: false, ignoreTLS: true });
  return transport.sendMail({ from: 'alerts@trustusbank.example', to: 'soc@trustusbank.example', ...mail }).finally(() => transport.close());
}

interface MailHogItem {
  ID: string;
  From: unknown;
  To: unknown[];
  Content: { Headers: Record<string, string[]>; Body: string };
  MIME: { Parts: unknown[] } | null;
  Raw: { From: string; To: string[]; Data: string };
  Created: string;
  Decoded: { Subject: string; Text: string | null };
}
type MailHogBody = { total: number; count: number; start: number; items: MailHogItem[] } & MailHogItem[] & MailHogItem;

async function getJson(path: string): Promise<{ status: number; body: MailHogBody }> {
  const response = await fetch(`${inbox.url}${path}`);
  return { status: response.status, body: (await response.json()) as MailHogBody };
}

/** A raw SMTP conversation: each command's reply (the code and text), in order. */
async function converse(commands: string[]): Promise<string[]> {
  const socket = connect(inbox.smtpPort, '127.0.0.1');
  const replies: string[] = [];
  let buffer = '';
  let waiting: ((reply: string) => void) | undefined;
  const queue: string[] = [];
  socket.on('data', (chunk) => {
    buffer += chunk.toString('utf8');
    let index: number;
    while ((index = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, index);
      buffer = buffer.slice(index + 2);
      if (/^\d{3}-/.test(line)) continue; // multi-line reply: wait for the last line
      if (waiting) {
        const w = waiting;
        waiting = undefined;
        w(line);
      } else queue.push(line);
    }
  });
  const next = (): Promise<string> => (queue.length > 0 ? Promise.resolve(queue.shift() as string) : new Promise((resolve) => (waiting = resolve)));
  await next(); // greeting
  for (const command of commands) {
    socket.write(`${command}\r\n`);
    replies.push(await next());
  }
  socket.end();
  return replies;
}

describe('clean run: mail in over SMTP, out through the MailHog API', () => {
  it('lists a mail in MailHog v2 shape, with raw headers, MIME parts and the parsed values', async () => {
    await send({ subject: '[FIRING:1] IstioAuthZDeny — TrustUsBank SOC alert', text: 'Pod: currency-converter\n', html: '<p>Pod: currency-converter</p>' });
    const { status, body } = await getJson('/api/v2/messages');
    expect(status).toBe(200);
    expect(body).toMatchObject({ total: 1, count: 1, start: 0 });
    const item = body.items[0] as MailHogItem;
    expect(item.From).toEqual({ Relays: null, Mailbox: 'alerts', Domain: 'trustusbank.example', Params: '' });
    expect(item.To).toEqual([{ Relays: null, Mailbox: 'soc', Domain: 'trustusbank.example', Params: '' }]);
    expect(item.Raw.From).toBe('alerts@trustusbank.example');
    expect(item.Raw.To).toEqual(['soc@trustusbank.example']);
    expect(item.Raw.Data).toContain('Subject: ');
    expect(item.Content.Headers.Subject?.[0]).toMatch(/^=\?UTF-8\?/); // raw, as MailHog shows it
    expect(item.Content.Headers.From).toEqual(['alerts@trustusbank.example']);
    expect(item.MIME?.Parts.length).toBeGreaterThanOrEqual(2);
    expect(new Date(item.Created).getTime()).not.toBeNaN();
    expect(item.Decoded.Subject).toBe('[FIRING:1] IstioAuthZDeny — TrustUsBank SOC alert');
    expect(item.Decoded.Text).toContain('Pod: currency-converter');
  });

  it('pages with start and limit, newest first, and refuses a bad limit', async () => {
    for (const n of [1, 2, 3]) await send({ subject: `mail ${n}`, text: 'x' });
    const { body } = await getJson('/api/v2/messages?start=1&limit=1');
    expect(body).toMatchObject({ total: 3, count: 1, start: 1 });
    expect(body.items[0]?.Decoded.Subject).toBe('mail 2');
    expect((await getJson('/api/v2/messages?limit=-1')).status).toBe(400);
  });

  it('searches by from, to and content', async () => {
    await send({ subject: 'one', text: 'needle in here' });
    await send({ from: 'someone@else.example', to: 'other@else.example', subject: 'two', text: 'nothing' });
    expect((await getJson('/api/v2/search?kind=containing&query=NEEDLE')).body.total).toBe(1);
    expect((await getJson('/api/v2/search?kind=from&query=someone@')).body.items[0]?.Decoded.Subject).toBe('two');
    expect((await getJson('/api/v2/search?kind=to&query=soc@')).body.items[0]?.Decoded.Subject).toBe('one');
    expect((await getJson('/api/v2/search?kind=subject&query=x')).status).toBe(400);
  });

  it('gets and deletes one message and all of them through v1', async () => {
    await send({ subject: 'a', text: 'a' });
    await send({ subject: 'b', text: 'b' });
    const list = (await getJson('/api/v1/messages')).body;
    expect(list).toHaveLength(2);
    const id = encodeURIComponent(list[0]?.ID ?? '');
    expect((await getJson(`/api/v1/messages/${id}`)).body.ID).toBe(list[0]?.ID);
    expect((await fetch(`${inbox.url}/api/v1/messages/${id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await getJson(`/api/v1/messages/${id}`)).status).toBe(404);
    expect((await fetch(`${inbox.url}/api/v1/messages/${id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await fetch(`${inbox.url}/api/v1/messages`, { method: 'DELETE' })).status).toBe(200);
    expect((await getJson('/api/v2/messages')).body.total).toBe(0);
  });

  it('keeps at most maxMessages, dropping the oldest', async () => {
    for (let n = 1; n <= 7; n++) await send({ subject: `m${n}`, text: 'x' });
    const subjects = (await getJson('/api/v2/messages')).body.items.map((i) => i.Decoded.Subject);
    expect(subjects).toEqual(['m7', 'm6', 'm5', 'm4', 'm3']);
  });
});

describe('attack: oversized, malformed and hostile SMTP input', () => {
  it('refuses an oversized mail with 552 and keeps accepting mail', async () => {
    const error = await send({ subject: 'big', text: 'x'.repeat(100 * 1024) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ responseCode: 552 });
    await send({ subject: 'after', text: 'small' });
    expect(inbox.messages().map((m) => m.decoded.subject)).toEqual(['after']);
  });

  it('refuses a declared SIZE over the limit before any data is sent', async () => {
    const replies = await converse(['EHLO test', 'MAIL FROM:<a@b.example> SIZE=99999999', 'QUIT']);
    expect(replies[1]).toMatch(/^552 /);
  });

  it('refuses a message that is not a mail (554), answers bad commands with 5xx, and stays up', async () => {
    const replies = await converse(['EHLO test', 'NONSENSE', 'MAIL FROM:<a@b.example>', 'RCPT TO:<soc@trustusbank.example>', 'DATA', 'this is not a mail at all\r\n.', 'QUIT']);
    expect(replies[1]).toMatch(/^5\d\d /);
    expect(replies[5]).toMatch(/^554 /);
    expect(inbox.messages()).toHaveLength(0);
    await send({ subject: 'still up', text: 'x' });
    expect(inbox.messages()).toHaveLength(1);
  });

  it('counts what SMTP took and refused, by reply code, on its /metrics', async () => {
    const value = async (series: string): Promise<number> => {
      const text = await (await fetch(`${inbox.url}/metrics`)).text();
      expect(expositionProblems(text)).toEqual([]);
      return Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
    };
    const before = { accepted: await value('trustusbank_inbox_smtp_messages_total{result="accepted",code="250"}'), big: await value('trustusbank_inbox_smtp_messages_total{result="refused",code="552"}') };
    await send({ subject: 'counted', text: 'x' });
    await send({ subject: 'big', text: 'x'.repeat(100 * 1024) }).catch(() => undefined);
    expect(await value('trustusbank_inbox_smtp_messages_total{result="accepted",code="250"}')).toBe(before.accepted + 1);
    expect(await value('trustusbank_inbox_smtp_messages_total{result="refused",code="552"}')).toBe(before.big + 1);
    expect(await value('trustusbank_inbox_messages')).toBe(1);
  });

  it('limits recipients per message', async () => {
    const rcpts = Array.from({ length: 51 }, (_, i) => `RCPT TO:<r${i}@x.example>`);
    const replies = await converse(['EHLO test', 'MAIL FROM:<a@b.example>', ...rcpts, 'QUIT']);
    expect(replies[51]).toMatch(/^250/);
    expect(replies[52]).toMatch(/^452 /);
  });
});

describe('attack: hostile mail content in the page and the terminal', () => {
  const hostileSubject = '<script>alert(1)</script>\r\nBcc: attacker@evil.example';

  it('escapes everything on the list page and the message page, and renders no mail HTML', async () => {
    await send({ subject: hostileSubject, text: '</pre><img src=x onerror=alert(1)>', html: '<img src=x onerror=alert(2)>', headers: { 'X-Evil': '"><svg onload=alert(3)>' } });
    const list = await fetch(`${inbox.url}/`);
    expect(list.headers.get('content-security-policy')).toContain("default-src 'none'");
    const listHtml = await list.text();
    expect(listHtml).not.toContain('<script>alert');
    expect(listHtml).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    const id = inbox.messages()[0]?.id as string;
    const page = await (await fetch(`${inbox.url}/messages/${encodeURIComponent(id)}`)).text();
    for (const bad of ['<script', '<img', '<svg', '</pre><']) expect(page).not.toContain(bad);
    expect(page).toContain('&lt;img src=x onerror=alert(2)&gt;');
    expect(page).not.toMatch(/Bcc: attacker[^<]*<\/th>/); // the injected "header" is never a header row
  });

  it('a malformed request-target gets 400 and the API keeps serving', async () => {
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(inbox.httpPort, '127.0.0.1', () => socket.write('GET http://evil.example/api/v2/messages HTTP/1.1\r\nHost: a\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('close', () => resolve(text));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect((await getJson('/api/v2/messages')).status).toBe(200);
  });

  it('a 404 page escapes the id it was asked for', async () => {
    const response = await fetch(`${inbox.url}/messages/${encodeURIComponent('<b>x</b>')}`);
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('&lt;b&gt;x&lt;/b&gt;');
  });

  it('the terminal list strips escape sequences and line breaks', () => {
    const out = formatInbox([{ id: '1', created: Date.parse('2026-12-02T13:00:00Z'), from: 'alerts@trustusbank.example', to: ['soc@trustusbank.example'], subject: 'ok\u001b]8;;http://evil\u0007\r\nBcc: x\u001b[2J' }], { width: 200 });
    // eslint-disable-next-line no-control-regex -- looking for exactly the characters that must not reach a terminal
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    expect(out.split('\n')).toHaveLength(4); // header, one row, count, trailing newline
    expect(out).toContain('2026-12-02 13:00:00');
    expect(out).toContain('1 mail');
  });

  it('the terminal list reads the MailHog API as `trustusbank mail` will', async () => {
    await send({ subject: '[FIRING:1] IstioAuthZDeny — TrustUsBank SOC alert', text: 'x' });
    const { body } = await getJson('/api/v2/messages');
    const out = formatInbox(body.items.map(inboxLineFromMailHog), { width: 160 });
    expect(out).toMatch(/alerts@trustusbank\.example\s+soc@trustusbank\.example\s+\[FIRING:1\] IstioAuthZDeny — TrustUsBank SOC alert/);
    expect(inboxLineFromMailHog({ nonsense: true })).toEqual({ id: '', created: 0, from: '', to: [], subject: '' });
  });

  it('the terminal list says when there is no mail, and cuts long subjects to the width', () => {
    expect(formatInbox([])).toBe('No mail in the SOC inbox.\n');
    const out = formatInbox([{ id: '1', created: 0, from: 'a@b', to: ['c@d'], subject: 'x'.repeat(500) }], { width: 80 });
    for (const line of out.trimEnd().split('\n')) expect([...line].length).toBeLessThanOrEqual(80);
    expect(out).toContain('…');
  });
});
