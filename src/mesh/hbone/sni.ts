// A reversible mapping between a SPIFFE id and a DNS name a client can send as TLS SNI, so one listener can
// present the SVID of whichever workload the client asked for (a ztunnel serves all the pods on its node).
//
//   spiffe://cluster.local/ns/trustusbank-bank-mcp/sa/account-mcp
//     ⇄ account-mcp.sa.trustusbank-bank-mcp.ns.cluster.local
//
// The service account and the namespace are one label each, followed by the literal labels "sa" and "ns";
// everything after "ns" is the trust domain. A component that is not a plain lowercase DNS label (uppercase,
// dots or underscores, which SPIFFE allows) is written as "x--" + its UTF-8 bytes in lowercase base32, and a
// plain label never starts with "x--", so every name decodes one way only. Decoding re-encodes and compares,
// which keeps the mapping one-to-one: there is exactly one SNI name per SPIFFE id.
import { formatSpiffeId, parseSpiffeId, SpiffeIdError } from '../ca/index.ts';

/** A SPIFFE id with no SNI form (too long for DNS), or a server name that is not one of ours. */
export class SniError extends Error {
  override readonly name = 'SniError';
}

const PLAIN_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const ESCAPE = 'x--';
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const MAX_LABEL = 63;
const MAX_NAME = 253;

export function sniForSpiffeId(spiffeId: string): string | SniError {
  const identity = parseSpiffeId(spiffeId);
  if (identity instanceof SpiffeIdError) return new SniError(identity.message);
  const trustDomainLabels = identity.trustDomain.split('.');
  const trustDomain = trustDomainLabels.every(isPlainLabel) ? identity.trustDomain : escape(identity.trustDomain);
  const name = `${label(identity.serviceAccount)}.sa.${label(identity.namespace)}.ns.${trustDomain}`;
  const tooLong = name.split('.').find((part) => part.length > MAX_LABEL);
  if (tooLong !== undefined) return new SniError(`${spiffeId} has no SNI form: a component needs a ${tooLong.length}-character DNS label (at most ${MAX_LABEL})`);
  if (name.length > MAX_NAME) return new SniError(`${spiffeId} has no SNI form: ${name.length} characters (at most ${MAX_NAME})`);
  return name;
}

export function spiffeIdFromSni(serverName: string): string | SniError {
  const labels = serverName.toLowerCase().split('.');
  if (labels.length < 5 || labels[1] !== 'sa' || labels[3] !== 'ns') {
    return new SniError(`server name ${JSON.stringify(serverName)} is not of the form <sa>.sa.<namespace>.ns.<trust-domain>`);
  }
  const rest = labels.slice(4);
  const parts = [labels[0]!, labels[2]!, rest.length === 1 && rest[0]!.startsWith(ESCAPE) ? rest[0]! : rest.join('.')];
  const [serviceAccount, namespace, trustDomain] = parts.map(unescape);
  if (serviceAccount === undefined || namespace === undefined || trustDomain === undefined) {
    return new SniError(`server name ${JSON.stringify(serverName)} holds a malformed escaped label`);
  }
  let spiffeId: string;
  try {
    spiffeId = formatSpiffeId({ trustDomain, namespace, serviceAccount });
  } catch (error) {
    return new SniError(`server name ${JSON.stringify(serverName)} does not name a SPIFFE id: ${(error as Error).message}`);
  }
  if (sniForSpiffeId(spiffeId) !== serverName.toLowerCase()) {
    return new SniError(`server name ${JSON.stringify(serverName)} is not the canonical SNI form of ${spiffeId}`);
  }
  return spiffeId;
}

function isPlainLabel(value: string): boolean {
  return PLAIN_LABEL.test(value) && !value.startsWith(ESCAPE);
}

function label(value: string): string {
  return isPlainLabel(value) ? value : escape(value);
}

function escape(value: string): string {
  let bits = 0;
  let buffer = 0;
  let out = ESCAPE;
  for (const byte of Buffer.from(value, 'utf8')) {
    buffer = ((buffer << 8) | byte) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/** The component a label stands for; undefined for an escape that is not canonical base32. */
function unescape(value: string): string | undefined {
  if (!value.startsWith(ESCAPE)) return value;
  const bytes: number[] = [];
  let bits = 0;
  let buffer = 0;
  for (const char of value.slice(ESCAPE.length)) {
    const digit = BASE32.indexOf(char);
    if (digit < 0) return undefined;
    buffer = ((buffer << 5) | digit) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bytes.push((buffer >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
