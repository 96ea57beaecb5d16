// The source line the node writes before a pod's listener sees a connection: what it encodes, and what the
// shim accepts (anything else and the workload never sees the connection).
import { describe, expect, it } from 'vitest';
import { MAX_SOURCE_LINE_BYTES, decodeSourceLine, encodeSourceLine } from './protocol.ts';

describe('the source line', () => {
  it('round-trips a pod address, an IPv6 address and the node itself', () => {
    const line = encodeSourceLine({ address: '10.244.0.7', port: 0 }, { address: '10.244.0.9', port: 8080 });
    expect(line).toBe('PROXY TCP4 10.244.0.7 10.244.0.9 0 8080\r\n');
    expect(decodeSourceLine(line.slice(0, -2))).toEqual({ address: '10.244.0.7', port: 0 });
    expect(decodeSourceLine(encodeSourceLine({ address: '::1', port: 5 }).slice(0, -2))).toEqual({ address: '::1', port: 5 });
    expect(encodeSourceLine(undefined)).toBe('PROXY UNKNOWN\r\n');
    expect(decodeSourceLine('PROXY UNKNOWN')).toBeNull();
    const longest = encodeSourceLine({ address: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', port: 65535 }, { address: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', port: 65535 });
    expect(longest.length).toBeLessThanOrEqual(MAX_SOURCE_LINE_BYTES);
  });

  it.each([
    'GET / HTTP/1.1',
    'PROXY TCP4 10.244.0.7 10.244.0.9 0',
    'PROXY TCP4 256.1.1.1 10.244.0.9 0 8080',
    'PROXY TCP4 evil.example 10.244.0.9 0 8080',
    'PROXY TCP6 10.244.0.7 ::1 0 8080',
    'PROXY TCP4 10.244.0.7 10.244.0.9 0 99999',
    'PROXY TCP4  10.244.0.7 10.244.0.9 0 8080',
    'proxy TCP4 10.244.0.7 10.244.0.9 0 8080',
  ])('refuses %j', (line) => {
    expect(decodeSourceLine(line)).toBeUndefined();
  });
});
