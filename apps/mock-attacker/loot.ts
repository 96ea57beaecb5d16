// What the attacker has received: the last few events in a ring, and a count of all of them.

export interface LootEvent {
  received_at: string;
  source_ip: string;
  size_bytes: number;
  body: unknown;
}

export const RAW_PREVIEW_CHARS = 2000;

export class LootRing {
  private events: LootEvent[] = [];
  private total = 0;

  constructor(readonly capacity = 50) {}

  add(event: LootEvent): number {
    this.events.push(event);
    if (this.events.length > this.capacity) this.events.shift();
    return ++this.total;
  }

  /** Oldest first. */
  list(): LootEvent[] {
    return [...this.events];
  }

  /** Every event ever received, including those the ring has dropped. */
  count(): number {
    return this.total;
  }

  clear(): void {
    this.events = [];
    this.total = 0;
  }
}

/** A JSON body is kept as sent; anything else as a preview of its text. */
export function decodeBody(bytes: Buffer): unknown {
  const text = bytes.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return { raw: text.slice(0, RAW_PREVIEW_CHARS) };
  }
}
