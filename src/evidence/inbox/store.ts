// The inbox's messages, in memory and bounded: past `maxMessages` the oldest go first. `clear` is the reset.
import type { StoredMessage } from './message.ts';

export type SearchKind = 'from' | 'to' | 'containing';

export class MessageStore {
  private readonly messages = new Map<string, StoredMessage>();

  constructor(readonly maxMessages: number) {}

  add(message: StoredMessage): void {
    this.messages.set(message.id, message);
    while (this.messages.size > this.maxMessages) this.messages.delete(this.messages.keys().next().value as string);
  }

  /** Newest first, as MailHog lists them. */
  list(): StoredMessage[] {
    return [...this.messages.values()].reverse();
  }

  get(id: string): StoredMessage | undefined {
    return this.messages.get(id);
  }

  delete(id: string): boolean {
    return this.messages.delete(id);
  }

  clear(): void {
    this.messages.clear();
  }

  /** MailHog's search: case-insensitive substring of the sender, the recipients, or anything in the message. */
  search(kind: SearchKind, query: string): StoredMessage[] {
    const needle = query.toLowerCase();
    const has = (text: string | undefined): boolean => (text ?? '').toLowerCase().includes(needle);
    return this.list().filter((m) => {
      if (kind === 'from') return has(m.envelopeFrom) || has(m.decoded.from);
      if (kind === 'to') return m.envelopeTo.some(has) || m.decoded.to.some(has);
      return has(m.raw) || has(m.decoded.subject) || has(m.decoded.text) || has(m.decoded.html);
    });
  }

  get size(): number {
    return this.messages.size;
  }
}
