// Cluster addresses: pods in 10.244.0.0/16, services in 10.96.0.0/16, as kind clusters number them. They are
// names, not routes: nothing listens on them; the capture shim and ztunnel translate them.

export class AddressPool {
  private next = 1;
  private readonly byKey = new Map<string, string>();

  constructor(private readonly prefix: string) {}

  /** The same key always gets the same address while it is held. */
  assign(key: string): string {
    const existing = this.byKey.get(key);
    if (existing) return existing;
    if (this.next > 65534) throw new Error(`address pool ${this.prefix}.0.0/16 is exhausted`);
    const n = this.next++;
    const address = `${this.prefix}.${n >> 8}.${n & 255}`;
    this.byKey.set(key, address);
    return address;
  }

  release(key: string): void {
    this.byKey.delete(key);
  }
}
