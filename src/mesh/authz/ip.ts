// IP addresses and CIDR blocks for `ipBlocks`, `source.ip` and `destination.ip`. Parsing is as strict as Go's
// net/netip (what istiod uses), so a value Istio would reject is rejected here too rather than guessed at.

export type IpFamily = 4 | 6;

/** An address as four 32-bit words; IPv4 uses only the last word. */
export interface IpAddress {
  readonly family: IpFamily;
  readonly words: readonly [number, number, number, number];
}

export interface IpBlock {
  readonly family: IpFamily;
  readonly network: readonly [number, number, number, number];
  readonly mask: readonly [number, number, number, number];
}

const IPV6_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Dotted quad, decimal, no leading zeros (netip refuses them: "010" could be read as octal). */
function parseIpv4Word(text: string): number | undefined {
  // Scanned by hand: peer addresses are parsed on the decision path.
  let word = 0;
  let octets = 0;
  let index = 0;
  while (octets < 4) {
    const start = index;
    let octet = 0;
    while (index < text.length) {
      const digit = text.charCodeAt(index) - 48;
      if (digit < 0 || digit > 9) break;
      octet = octet * 10 + digit;
      index++;
    }
    const length = index - start;
    if (length === 0 || length > 3 || octet > 255 || (length > 1 && text.charCodeAt(start) === 48)) return undefined;
    word = word * 256 + octet;
    octets++;
    if (octets < 4) {
      if (text.charCodeAt(index) !== 46) return undefined;
      index++;
    }
  }
  return index === text.length ? word : undefined;
}

function parseIpv6Words(text: string): [number, number, number, number] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (half: string): number[] | undefined => {
    if (half === '') return [];
    const groups: number[] = [];
    const parts = half.split(':');
    for (const [index, part] of parts.entries()) {
      if (index === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4Word(part);
        if (v4 === undefined) return undefined;
        groups.push(v4 >>> 16, v4 & 0xffff);
      } else if (IPV6_GROUP.test(part)) {
        groups.push(parseInt(part, 16));
      } else {
        return undefined;
      }
    }
    return groups;
  };
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  // An embedded IPv4 address may only end the address.
  if (halves.length === 2 && halves[0]!.includes('.')) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const word = (i: number) => ((groups[i]! << 16) | groups[i + 1]!) >>> 0;
  return [word(0), word(2), word(4), word(6)];
}

function isIpv4Mapped(words: readonly number[]): boolean {
  return words[0] === 0 && words[1] === 0 && words[2] === 0xffff;
}

/**
 * Parses a literal address. For addresses seen on a connection, a zone (`%eth0`) is dropped and an IPv4-mapped
 * IPv6 address becomes IPv4, as ztunnel canonicalises peer addresses; policy values keep their written form.
 */
export function parseIpAddress(text: string, options: { fromConnection?: boolean } = {}): IpAddress | undefined {
  let literal = text;
  if (options.fromConnection) {
    const zone = literal.indexOf('%');
    if (zone >= 0) literal = literal.slice(0, zone);
  }
  if (!literal.includes(':')) {
    const word = parseIpv4Word(literal);
    return word === undefined ? undefined : { family: 4, words: [0, 0, 0, word] };
  }
  const words = parseIpv6Words(literal);
  if (words === undefined) return undefined;
  if (options.fromConnection && isIpv4Mapped(words)) return { family: 4, words: [0, 0, 0, words[3]] };
  return { family: 6, words };
}

/** A single address (`10.1.2.3`, `2001:db8::1`) or a CIDR block (`10.1.0.0/16`); host bits are ignored. */
export function parseIpBlock(text: string): IpBlock | undefined {
  const slash = text.indexOf('/');
  const address = parseIpAddress(slash < 0 ? text : text.slice(0, slash));
  if (address === undefined) return undefined;
  const bits = address.family === 4 ? 32 : 128;
  let prefix = bits;
  if (slash >= 0) {
    const length = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(length) || Number(length) > bits) return undefined;
    prefix = Number(length);
  }
  // IPv4 occupies the last word, so its prefix starts 96 bits in.
  const offset = address.family === 4 ? 96 : 0;
  const mask = [0, 1, 2, 3].map((i) => {
    const covered = Math.min(32, Math.max(0, prefix + offset - i * 32));
    if (address.family === 4 && i < 3) return 0;
    return covered === 0 ? 0 : (0xffffffff << (32 - covered)) >>> 0;
  }) as [number, number, number, number];
  const network = address.words.map((word, i) => (word & mask[i]!) >>> 0) as [number, number, number, number];
  return { family: address.family, network, mask };
}

export function blockContains(block: IpBlock, address: IpAddress): boolean {
  if (block.family !== address.family) return false;
  for (let i = 0; i < 4; i++) {
    if (((address.words[i]! & block.mask[i]!) >>> 0) !== block.network[i]) return false;
  }
  return true;
}

export interface IpBlockSet {
  contains(address: IpAddress | undefined): boolean;
}

export function compileIpBlocks(blocks: readonly IpBlock[]): IpBlockSet {
  return {
    contains(address) {
      if (address === undefined) return false;
      for (const block of blocks) if (blockContains(block, address)) return true;
      return false;
    },
  };
}
