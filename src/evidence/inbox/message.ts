// One received mail, and MailHog's JSON shape for it. MailHog shows headers and bodies raw (encoded words,
// quoted-printable and all); we do the same in `Content` and `MIME`, and add the parsed values postal-mime
// found under `Decoded`, which MailHog clients ignore.
import PostalMime from 'postal-mime';
import type { Address, Email } from 'postal-mime';

export interface StoredMessage {
  readonly id: string;
  readonly created: number;
  readonly helo: string;
  readonly envelopeFrom: string;
  readonly envelopeTo: readonly string[];
  readonly raw: string;
  readonly decoded: DecodedMessage;
}

export interface DecodedMessage {
  readonly subject: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly date?: string;
  readonly text?: string;
  readonly html?: string;
}

export class MalformedMessageError extends Error {
  override readonly name = 'MalformedMessageError';
}

type Headers = Record<string, string[]>;

interface Part {
  headers: Headers;
  body: string;
}

/** Split raw RFC 5322 text into unfolded headers and the body, as MailHog does. */
export function splitMessage(raw: string): Part {
  const match = /\r?\n\r?\n/.exec(raw);
  const head = match ? raw.slice(0, match.index) : raw;
  const body = match ? raw.slice(match.index + match[0].length) : '';
  const headers: Headers = {};
  let last: string | undefined;
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && last) {
      const values = headers[last] as string[];
      values[values.length - 1] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim();
    (headers[last] ??= []).push(line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function boundaryOf(headers: Headers): string | undefined {
  const type = Object.entries(headers).find(([name]) => name.toLowerCase() === 'content-type')?.[1][0] ?? '';
  if (!/^multipart\//i.test(type)) return undefined;
  return /boundary="?([^";]+)"?/i.exec(type)?.[1];
}

interface MailHogMime {
  Parts: Array<{ Headers: Headers; Body: string; Size: number; MIME: MailHogMime | null }>;
}

const MAX_MIME_DEPTH = 5;

function mimeParts(part: Part, depth = 0): MailHogMime | null {
  const boundary = boundaryOf(part.headers);
  if (!boundary || depth >= MAX_MIME_DEPTH) return null;
  const chunks = part.body.split(`--${boundary}`).slice(1);
  const parts = chunks
    .filter((chunk) => !chunk.startsWith('--'))
    .map((chunk) => {
      const inner = splitMessage(chunk.replace(/^\r?\n/, ''));
      return { Headers: inner.headers, Body: inner.body, Size: Buffer.byteLength(inner.body), MIME: mimeParts(inner, depth + 1) };
    });
  return { Parts: parts };
}

function path(address: string): { Relays: null; Mailbox: string; Domain: string; Params: string } {
  const at = address.lastIndexOf('@');
  return { Relays: null, Mailbox: at < 0 ? address : address.slice(0, at), Domain: at < 0 ? '' : address.slice(at + 1), Params: '' };
}

export function toMailHog(message: StoredMessage): Record<string, unknown> {
  const part = splitMessage(message.raw);
  return {
    ID: message.id,
    From: path(message.envelopeFrom),
    To: message.envelopeTo.map(path),
    Content: { Headers: part.headers, Body: part.body, Size: Buffer.byteLength(message.raw), MIME: null },
    Created: new Date(message.created).toISOString(),
    MIME: mimeParts(part),
    Raw: { From: message.envelopeFrom, To: message.envelopeTo, Data: message.raw, Helo: message.helo },
    Decoded: { Subject: message.decoded.subject, From: message.decoded.from, To: message.decoded.to, Date: message.decoded.date ?? null, Text: message.decoded.text ?? null, Html: message.decoded.html ?? null },
  };
}

/** Parse with postal-mime; a message without a header section is refused (the SMTP side answers 554). */
export async function decodeMessage(raw: Buffer): Promise<DecodedMessage> {
  const firstLine = raw.subarray(0, Math.min(raw.length, 1000)).toString('latin1').split(/\r?\n/)[0] ?? '';
  if (!/^[!-9;-~]+:/.test(firstLine)) throw new MalformedMessageError('the message does not start with a header field');
  let email: Email;
  try {
    email = await PostalMime.parse(raw);
  } catch (error) {
    throw new MalformedMessageError(`the message could not be parsed: ${(error as Error).message}`);
  }
  const mailbox = (a: Address | undefined): string => (a ? ('address' in a && a.address ? (a.name ? `${a.name} <${a.address}>` : a.address) : a.name) : '');
  return {
    subject: email.subject ?? '',
    from: mailbox(email.from),
    to: (email.to ?? []).map(mailbox),
    date: email.date,
    text: email.text,
    html: email.html,
  };
}
