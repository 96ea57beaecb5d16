import { describe, expect, it } from 'vitest';
import { blockContains, parseIpAddress, parseIpBlock } from './ip.ts';

describe('parsing', () => {
  it.each([
    { text: '10.1.2.3', valid: true },
    { text: '255.255.255.255', valid: true },
    { text: '256.1.1.1', valid: false },
    { text: '010.1.1.1', valid: false },
    { text: '10.1.1', valid: false },
    { text: '::', valid: true },
    { text: '::1', valid: true },
    { text: '2001:db8::8a2e:370:7334', valid: true },
    { text: '1:2:3:4:5:6:7:8', valid: true },
    { text: '1:2:3:4:5:6:7:8:9', valid: false },
    { text: '1::2::3', valid: false },
    { text: '::ffff:10.1.2.3', valid: true },
    { text: '10.1.2.3::', valid: false },
    { text: 'fe80::1%eth0', valid: false },
    { text: '12345::', valid: false },
    { text: 'not-an-ip', valid: false },
  ])('$text → valid: $valid', ({ text, valid }) => {
    expect(parseIpAddress(text) !== undefined).toBe(valid);
  });

  it('canonicalises addresses seen on a connection', () => {
    expect(parseIpAddress('::ffff:10.1.2.3', { fromConnection: true })).toEqual(parseIpAddress('10.1.2.3'));
    expect(parseIpAddress('fe80::1%eth0', { fromConnection: true })).toEqual(parseIpAddress('fe80::1'));
    expect(parseIpAddress('::ffff:10.1.2.3')!.family).toBe(6);
  });

  it.each([
    { text: '10.0.0.0/8', valid: true },
    { text: '10.0.0.0/33', valid: false },
    { text: '10.0.0.0/', valid: false },
    { text: '10.0.0.0/-1', valid: false },
    { text: '2001:db8::/32', valid: true },
    { text: '2001:db8::/129', valid: false },
    { text: 'fe80::%eth0/64', valid: false },
  ])('block $text → valid: $valid', ({ text, valid }) => {
    expect(parseIpBlock(text) !== undefined).toBe(valid);
  });
});

describe('containment', () => {
  it.each([
    { block: '10.0.0.0/8', address: '10.255.1.1', inside: true },
    { block: '10.0.0.0/8', address: '11.0.0.1', inside: false },
    { block: '10.1.2.3/24', address: '10.1.2.200', inside: true },
    { block: '10.1.2.3', address: '10.1.2.3', inside: true },
    { block: '10.1.2.3', address: '10.1.2.4', inside: false },
    { block: '0.0.0.0/0', address: '192.0.2.1', inside: true },
    { block: '192.168.0.0/17', address: '192.168.127.255', inside: true },
    { block: '192.168.0.0/17', address: '192.168.128.0', inside: false },
    { block: '2001:db8::/32', address: '2001:db8:ffff::1', inside: true },
    { block: '2001:db8::/32', address: '2001:db9::1', inside: false },
    { block: 'fd00::/7', address: 'fc00::1', inside: true },
    { block: '2001:db8:0:0:8000::/65', address: '2001:db8::8000:0:0:1', inside: true },
    { block: '2001:db8:0:0:8000::/65', address: '2001:db8::7fff:0:0:1', inside: false },
    { block: '::/0', address: '10.0.0.1', inside: false },
  ])('$address in $block → $inside', ({ block, address, inside }) => {
    expect(blockContains(parseIpBlock(block)!, parseIpAddress(address, { fromConnection: true })!)).toBe(inside);
  });
});
