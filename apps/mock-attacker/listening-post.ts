// The attacker's listening post outside the cluster: where a rug-pull sends what it cannot post over HTTP. A
// UDP port that takes a datagram of loot and acknowledges it, and a name server for the attacker's zone that
// answers every name (127.0.0.1) and rebuilds the loot from the hex labels of the names it was asked
// (`<hex>.<hex>.<hex>.<seq>-<total>-<id>.<zone>`). Each completed exfiltration is counted by channel
// (`mock_attacker_listening_post_received_total{channel}`) and logged as `EXFIL RECEIVED`.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../../src/core/log.ts';
import { EXFIL_ZONE } from '../currency-converter/rugpull/variants.ts';

export interface ListeningPost {
  udp: string;
  dns: string;
  received(): { udp: number; dns: number };
  close(): Promise<void>;
}

export async function startListeningPost(options: { host?: string; metrics: Registry; log: Logger }): Promise<ListeningPost> {
  const host = options.host ?? '127.0.0.1';
  const counter = new Counter({
    name: 'mock_attacker_listening_post_received_total',
    help: "Exfiltrations completed at the attacker's listening post outside the cluster, by channel (udp, dns).",
    labelNames: ['channel'] as const,
    registers: [options.metrics],
  });
  const received = { udp: 0, dns: 0 };
  const loot = (channel: 'udp' | 'dns', body: string, from: RemoteInfo): void => {
    received[channel]++;
    counter.inc({ channel });
    options.log.warn('EXFIL RECEIVED', { channel, source: `${from.address}:${from.port}`, size_bytes: body.length });
  };

  const udp = await bind(host);
  udp.on('message', (message, from) => {
    loot('udp', message.toString('utf8'), from);
    udp.send('ok', from.port, from.address);
  });

  const dns = await bind(host);
  const partial = new Map<string, string[]>();
  dns.on('message', (message, from) => {
    const question = parseQuestion(message);
    if (!question) return;
    dns.send(answer(message, question.end), from.port, from.address);
    const chunk = parseExfilName(question.name);
    if (!chunk) return;
    const parts = partial.get(chunk.id) ?? Array<string>(chunk.total).fill('');
    // Resolvers retry: a chunk seen again is the same chunk.
    parts[chunk.seq] = chunk.hex;
    partial.delete(chunk.id);
    partial.set(chunk.id, parts);
    // Messages that never complete (lost chunks, junk names) must not pile up: the oldest unfinished goes.
    if (partial.size > MAX_PARTIAL_MESSAGES) partial.delete(partial.keys().next().value!);
    if (parts.every((p) => p !== '')) {
      partial.delete(chunk.id);
      loot('dns', Buffer.from(parts.join(''), 'hex').toString('utf8'), from);
    }
  });

  const address = (socket: Socket): string => `${socket.address().address}:${socket.address().port}`;
  return {
    udp: address(udp),
    dns: address(dns),
    received: () => ({ ...received }),
    close: async () => {
      await Promise.all([udp, dns].map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
    },
  };
}

function bind(host: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, host, () => {
      socket.off('error', reject);
      // A malformed datagram must not take the post down.
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}

/** The first question of a DNS query: its name and where the question section ends. */
export function parseQuestion(message: Buffer): { name: string; end: number } | undefined {
  if (message.length < 12 || (message[2]! & 0x80) !== 0 || message.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let at = 12;
  while (at < message.length) {
    const length = message[at]!;
    if (length === 0) {
      at += 1;
      return at + 4 <= message.length ? { name: labels.join('.').toLowerCase(), end: at + 4 } : undefined;
    }
    if (length > 63 || at + 1 + length > message.length) return undefined;
    labels.push(message.toString('latin1', at + 1, at + 1 + length));
    at += 1 + length;
  }
  return undefined;
}

/** A response with the question and one A record, 127.0.0.1, TTL 0. */
function answer(query: Buffer, questionEnd: number): Buffer {
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2);
  header.writeUInt16BE(0x8180, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(1, 6);
  const record = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 127, 0, 0, 1]);
  return Buffer.concat([header, query.subarray(12, questionEnd), record]);
}

/** Unfinished DNS-exfil messages kept (each at most 64 chunks of one name). */
const MAX_PARTIAL_MESSAGES = 256;

export function parseExfilName(name: string): { hex: string; seq: number; total: number; id: string } | undefined {
  if (!name.endsWith(`.${EXFIL_ZONE}`)) return undefined;
  const labels = name.slice(0, -EXFIL_ZONE.length - 1).split('.');
  const marker = /^(\d+)-(\d+)-([a-z0-9]+)$/.exec(labels.at(-1) ?? '');
  const hex = labels.slice(0, -1).join('');
  if (!marker || !/^[0-9a-f]*$/.test(hex) || hex.length % 2 !== 0) return undefined;
  const seq = Number(marker[1]);
  const total = Number(marker[2]);
  if (total < 1 || total > 64 || seq >= total) return undefined;
  return { hex, seq, total, id: marker[3]! };
}
