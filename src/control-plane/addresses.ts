// Cluster addresses: pods in 10.244.0.0/16, services in 10.96.0.0/16, as kind clusters number them. They are
// names, not routes: nothing listens on them; the capture shim and ztunnel translate them.
//
// Released addresses are reused, oldest released first, but only once every fresh one has been handed out:
// every `chat` takes a pod address for its ephemeral workload, so without reuse a long-running stack ran out
// after 65,534 chats and pod starts; reusing as late as possible keeps an address's old owner out of
// anything that still names it (logs, a connection about to close).

const LAST = 65534;

export class AddressPool {
  private next = 1;
  private readonly byKey = new Map<string, number>();
  /** Released host numbers, oldest first; at most LAST of them. */
  private readonly released: number[] = [];

  constructor(private readonly prefix: string) {}

  /** The same key always gets the same address while it is held. */
  assign(key: string): string {
    const existing = this.byKey.get(key);
    if (existing !== undefined) return this.format(existing);
    const n = this.next <= LAST ? this.next++ : this.released.shift();
    if (n === undefined) throw new Error(`address pool ${this.prefix}.0.0/16 is exhausted`);
    this.byKey.set(key, n);
    return this.format(n);
  }

  release(key: string): void {
    const n = this.byKey.get(key);
    if (n === undefined) return;
    this.byKey.delete(key);
    this.released.push(n);
  }

  private format(n: number): string {
    return `${this.prefix}.${n >> 8}.${n & 255}`;
  }
}
