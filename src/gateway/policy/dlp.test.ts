import { describe, expect, it } from 'vitest';
import { DlpDepthError, DlpMatcherError, DlpScanner, type DlpBuiltin } from './dlp.ts';
import { SEED_PROFILE } from '../../../test/support/seed.ts';

const ALL_BUILTINS: DlpBuiltin[] = ['UkNiNumber', 'Email', 'UkPostcode', 'Phone', 'CreditCard'];
const scanner = DlpScanner.compile(ALL_BUILTINS.map((builtin) => ({ builtin })));

const PROFILE = SEED_PROFILE;

const matchersIn = (text: string) => scanner.scan(text).map((finding) => finding.matcher);

describe('builtins', () => {
  it.each([
    ['QQ 12 34 56 C', 'uk-ni-number'],
    ['QQ123456C', 'uk-ni-number'],
    ['AB 123456 D', 'uk-ni-number'],
    ['ni: qq123456c.', 'uk-ni-number'],
    ['alex.carter@gmail.com', 'email'],
    ['mail ops+dlp@trustusbank.co.uk now', 'email'],
    ['M2 7HE', 'uk-postcode'],
    ['EH3 9HJ', 'uk-postcode'],
    ['EC2N 4BQ', 'uk-postcode'],
    ['SW1A1AA', 'uk-postcode'],
    ['42 King Street, Manchester M2 7HE, United Kingdom', 'uk-postcode'],
    ['+44 7700 900123', 'phone'],
    ['07700 900123', 'phone'],
    ['+1 415 555 0100', 'phone'],
    ['+44 (0) 20 7946 0958', 'phone'],
    ['(020) 7946 0958', 'phone'],
    ['call 07700-900-123.', 'phone'],
    ['4111 1111 1111 1111', 'credit-card'],
    ['4111-1111-1111-1111', 'credit-card'],
    ['card=5500005555555559;', 'credit-card'],
    ['378282246310005', 'credit-card'],
  ])('%s → %s', (text, matcher) => {
    expect(matchersIn(text)).toEqual([matcher]);
  });

  it.each([
    '4111 1111 1111 1112', // fails Luhn
    '4287.55',
    '12345',
    'GBP',
    'USD',
    'txn-003',
    'TICK-1A2B3C4D',
    '2026-03-14T09:26:53Z',
    '2026-03-14T09:26:53.120+01:00',
    '1987-03-14',
    '40-11-62',
    'Invoice 2291',
    '1700000000',
    'verified',
    'Alex Carter',
    'GB29 NWBK 6016 1331 9268 19',
    'QQ 12 34 56', // no suffix letter
    'GB123456A', // unallocated prefix
    'DA123456A', // D is never a first letter
    'ab12cd', // postcode shape, but lower case
    '+1234567.89', // a signed amount
    '01234567.50',
    'user@localhost',
    'a@b',
    '12345678901234567890123',
  ])('%s → nothing', (text) => {
    expect(matchersIn(text)).toEqual([]);
  });

  it('stays quiet on ordinary tool arguments of a bank', () => {
    const ordinary = [
      { amount: 4287.55, from_ccy: 'GBP', to_ccy: 'USD' },
      { account_id: '12345', sort_code: '40-11-62', limit: 10 },
      { transactions: [{ id: 'txn-003', amount: -12.5, at: '2026-03-14T09:26:53Z', merchant: 'Tesco Stores 2291' }] },
      { ticket: 'TICK-1A2B3C4D', status: 'open', priority: 2, created: 1710408413 },
    ];
    for (const args of ordinary) expect(scanner.scan(args)).toEqual([]);
  });
});

describe('scan', () => {
  it('finds the seed profile under any key, at any depth, and never reports what matched', () => {
    const expected = ['email', 'phone', 'uk-postcode', 'uk-ni-number'];
    const cases: [unknown, string][] = [
      [{ customer_profile: PROFILE }, '$.customer_profile'],
      [{ ctx: PROFILE }, '$.ctx'],
      [{ items: [{ note: 'x' }, 1, PROFILE] }, '$.items[2]'],
      [{ deeply: { nested: { 'odd key': PROFILE } } }, '$.deeply.nested["odd key"]'],
    ];
    for (const [value, prefix] of cases) {
      const findings = scanner.scan(value);
      expect(findings.map((finding) => finding.matcher)).toEqual(expected);
      expect(findings.map((finding) => finding.path)).toEqual(['email', 'phone', 'address', 'ni_number'].map((key) => `${prefix}.${key}`));
      const text = JSON.stringify(findings);
      for (const secret of ['alex.carter', '7700', 'M2 7HE', 'QQ']) expect(text).not.toContain(secret);
    }
  });

  it('finds the profile as JSON text inside a string', () => {
    const findings = scanner.scan({ ctx: JSON.stringify({ customer_profile: PROFILE }) });
    expect(findings.map((finding) => finding.matcher).sort()).toEqual(['email', 'phone', 'uk-ni-number', 'uk-postcode']);
    expect(new Set(findings.map((finding) => finding.path))).toEqual(new Set(['$.ctx']));
    // Twice encoded, as a tool result inside a JSON-RPC envelope would be.
    expect(scanner.scan(JSON.stringify({ result: JSON.stringify(PROFILE) }))).toHaveLength(4);
  });

  it('scans numbers as their decimal text', () => {
    expect(scanner.scan({ card: 4111111111111111 })).toEqual([{ matcher: 'credit-card', path: '$.card' }]);
    expect(scanner.scan({ amount: 4287.55, count: 3 })).toEqual([]);
  });

  it('scans keys, and never writes out a key that matched', () => {
    const findings = scanner.scan({ contacts: { 'alex.carter@gmail.com': { note: 'QQ123456C' }, plain: 'x' } });
    expect(findings).toEqual([
      { matcher: 'email', path: '$.contacts[#0]' },
      { matcher: 'uk-ni-number', path: '$.contacts[#0].note' },
    ]);
  });

  it('reports each match, in order', () => {
    expect(scanner.scan('a@b.io and c@d.io, QQ123456C')).toEqual([
      { matcher: 'email', path: '$' },
      { matcher: 'email', path: '$' },
      { matcher: 'uk-ni-number', path: '$' },
    ]);
  });

  it('refuses values nested deeper than it follows', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 300; i++) deep = [deep];
    expect(() => scanner.scan(deep)).toThrow(DlpDepthError);
    expect(DlpScanner.compile([{ builtin: 'Email' }], { maxDepth: 400 }).scan(deep)).toEqual([]);
  });

  it('stays linear on long adversarial strings', () => {
    const long = ['a'.repeat(200_000), `x@${'a.'.repeat(100_000)}!`, '1 '.repeat(100_000), '+1'.repeat(100_000)].join(' ');
    const started = performance.now();
    scanner.scan(long);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('redact', () => {
  it('replaces each match and leaves the rest, without touching the input', () => {
    const input = { customer_profile: { ...PROFILE } };
    const snapshot = structuredClone(input);
    const { value, findings } = scanner.redact(input);
    expect(value).toEqual({
      customer_profile: {
        account_id: '12345',
        name: 'Alex Carter',
        email: '[REDACTED:email]',
        phone: '[REDACTED:phone]',
        address: '42 King Street, Manchester [REDACTED:uk-postcode], United Kingdom',
        dob: '1987-03-14',
        ni_number: '[REDACTED:uk-ni-number]',
        kyc_status: 'verified',
      },
    });
    expect(findings).toEqual(scanner.scan(input));
    expect(input).toEqual(snapshot);
    expect((value as typeof input).customer_profile).not.toBe(input.customer_profile);
  });

  it('redacts inside JSON text, which stays JSON', () => {
    const { value } = scanner.redact({ ctx: JSON.stringify(PROFILE) });
    const inner = JSON.parse((value as { ctx: string }).ctx) as Record<string, string>;
    expect(inner.email).toBe('[REDACTED:email]');
    expect(inner.address).toBe('42 King Street, Manchester [REDACTED:uk-postcode], United Kingdom');
  });

  it('turns a matched number into the redacted string, and keys too, without losing members', () => {
    const { value } = scanner.redact({ card: 4111111111111111, amount: 4287.55, people: { 'a@b.io': 1, 'c@d.io': 2 }, list: ['07700 900123', 7] });
    expect(value).toEqual({
      card: '[REDACTED:credit-card]',
      amount: 4287.55,
      people: { '[REDACTED:email]': 1, '[REDACTED:email]#2': 2 },
      list: ['[REDACTED:phone]', 7],
    });
  });

  it('keeps a `__proto__` key as data', () => {
    const { value } = scanner.redact(JSON.parse('{"__proto__": {"email": "a@b.io"}}'));
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value as object, '__proto__')).toBe(true);
    expect((value as Record<string, unknown>)['__proto__']).toEqual({ email: '[REDACTED:email]' });
  });

  it('returns a deep copy even when nothing matched', () => {
    const input = { a: { b: ['c'] } };
    const { value, findings } = scanner.redact(input);
    expect(findings).toEqual([]);
    expect(value).toEqual(input);
    expect((value as typeof input).a).not.toBe(input.a);
    expect((value as typeof input).a.b).not.toBe(input.a.b);
  });
});

describe('custom matchers', () => {
  it('match by name, alongside builtins', () => {
    const custom = DlpScanner.compile([{ builtin: 'Email' }, { name: 'account-number', regex: '\\bACC-[0-9]{8}\\b' }, { builtin: 'Phone', name: 'telephone' }]);
    expect(custom.scan({ ref: 'see ACC-12345678 or ops@trustusbank.co.uk', tel: '07700 900123' })).toEqual([
      { matcher: 'account-number', path: '$.ref' },
      { matcher: 'email', path: '$.ref' },
      { matcher: 'telephone', path: '$.tel' },
    ]);
    expect(custom.redact('ACC-12345678').value).toBe('[REDACTED:account-number]');
  });

  it.each([
    [{ name: 'bad', regex: '(' }, /invalid regular expression/],
    [{ regex: 'x' }, /needs a name/],
    [{ name: 'empty', regex: 'x*' }, /empty string/],
    [{ name: 'has space', regex: 'x' }, /must be letters/],
    [{ builtin: 'Email' as const, regex: 'x' }, /not both/],
    [{ builtin: 'Nope' as DlpBuiltin }, /unknown builtin/],
    [{}, /builtin or a regex/],
  ])('refuses %j', (spec, message) => {
    expect(() => DlpScanner.compile([spec])).toThrow(DlpMatcherError);
    expect(() => DlpScanner.compile([spec])).toThrow(message);
  });

  it('refuses duplicate names', () => {
    expect(() => DlpScanner.compile([{ builtin: 'Email' }, { name: 'email', regex: 'x' }])).toThrow(/duplicate/);
  });
});
