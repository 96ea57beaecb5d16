import { describe, expect, it } from 'vitest';
import { DLP_BUILTINS, DecodeLimitError, DlpDepthError, DlpMatcherError, DlpScanner, isUnscannable, type DlpBuiltin } from './dlp.ts';
import { DECODE_MAX_LAYERS } from '../../cel/decode.ts';
import { SEED_PROFILE } from '../../../testing/seed.ts';

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

// The evasions a hostile tool or a fooled model reaches for, against every builtin: each must be caught, and the
// clean run's arguments and results must not be.
describe('evasions', () => {
  const full = DlpScanner.compile(DLP_BUILTINS.map((builtin) => ({ builtin })));
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const profileJson = JSON.stringify(PROFILE);
  const nested = (value: unknown, times: number) => {
    let out = value;
    for (let i = 0; i < times; i++) out = b64(typeof out === 'string' ? out : JSON.stringify(out));
    return out as string;
  };

  it.each<[string, unknown, string]>([
    ['NI number with dashes', 'QQ-12-34-56-C', 'uk-ni-number'],
    ['NI number with dots', 'QQ.12.34.56.C', 'uk-ni-number'],
    ['NI number spaced out', 'Q Q 1 2 3 4 5 6 C', 'uk-ni-number'],
    ['NI number, lower case with slashes', 'qq/12/34/56/c', 'uk-ni-number'],
    ['NI number full-width', 'ＱＱ１２３４５６Ｃ', 'uk-ni-number'],
    ['NI number with a zero-width space', 'QQ\u200b123456C', 'uk-ni-number'],
    ['NI number without suffix under its key', { ni: 'QQ123456' }, 'uk-ni-number'],
    ['email with a full-width at sign', 'alex.carter＠gmail.com', 'email'],
    ['email with zero-width characters', 'alex\u200d.carter\u200b@gmail\u2060.com', 'email'],
    ['email spelled [at] [dot]', 'alex.carter [at] gmail [dot] com', 'email'],
    ['email percent-encoded', 'alex.carter%40gmail.com', 'email'],
    ['email as an HTML character reference', 'alex.carter&#64;gmail.com', 'email'],
    ['email with a \\u escape', 'alex.carter\\u0040gmail.com', 'email'],
    ['email in base64', b64('alex.carter@gmail.com'), 'email'],
    ['profile as base64url JSON', Buffer.from(profileJson).toString('base64url'), 'uk-ni-number'],
    ['profile as MIME-wrapped base64', b64(profileJson).replace(/(.{76})/g, '$1\r\n'), 'email'],
    ['NI number base64 twice', nested('QQ123456C', 2), 'uk-ni-number'],
    ['NI number base64 eight times', nested('QQ 12 34 56 C', 8), 'uk-ni-number'],
    ['a data: URL', `data:text/plain;base64,${b64('QQ 12 34 56 C')}`, 'uk-ni-number'],
    ['profile percent-encoded', encodeURIComponent(profileJson), 'email'],
    ['profile JSON inside JSON inside base64', b64(JSON.stringify({ note: profileJson })), 'phone'],
    ['phone without spaces', '+447700900123', 'phone'],
    ['phone with dashes', '+44-7700-900-123', 'phone'],
    ['phone with double spaces', '+44  7700  900  123', 'phone'],
    ['phone with 0044', '0044 7700 900123', 'phone'],
    ['phone with (0)', '+44 (0)7700 900123', 'phone'],
    ['phone full-width', '+４４ ７７００ ９００１２３', 'phone'],
    ['phone as a number under its key', { phone: 447700900123 }, 'phone'],
    ['phone without prefix under a mobile key', { mobile: '7700 900123' }, 'phone'],
    ['date of birth under its key', { dob: '1987-03-14' }, 'date-of-birth'],
    ['date of birth, ISO, anywhere', { note: 'born 1987-03-14' }, 'date-of-birth'],
    ['date of birth, day first', '14/03/1987', 'date-of-birth'],
    ['date of birth, spelled', '14 March 1987', 'date-of-birth'],
    ['date of birth, US order', 'March 14, 1987', 'date-of-birth'],
    ['date of birth, compact under its key', { date_of_birth: '19870314' }, 'date-of-birth'],
    ['date of birth, camelCase key', { birthDate: '14.03.87' }, 'date-of-birth'],
    ['name under name', { name: 'Alex Carter' }, 'person-name'],
    ['name under full_name, lower case', { full_name: 'alex carter' }, 'person-name'],
    ['name split into firstName', { firstName: 'Alex', lastName: 'Carter' }, 'person-name'],
    ['name next to other PII under another key', { who: 'Alex Carter', contact: 'alex.carter@gmail.com' }, 'person-name'],
    ['address without a postcode under its key', { address: 'Flat 6, 88 Bishopsgate' }, 'street-address'],
    ['street address in text', 'lives at 42 King Street, Manchester', 'street-address'],
    ['postcode lower case, no space, under its key', { postcode: 'm27he' }, 'uk-postcode'],
    ['postcode lower case with its space', 'm2 7he', 'uk-postcode'],
    ['NI number split across fields', { a: 'QQ 12 34', b: '56 C' }, 'uk-ni-number'],
    ['email split across array elements', { parts: ['alex.carter', '@', 'gmail.com'] }, 'email'],
    ['email one character per element', { chars: [...'alex.carter@gmail.com'] }, 'email'],
    ['phone split across fields', { p1: '+44 7700', p2: '900123' }, 'phone'],
    ['nested in an array of objects', { x: [{ email: 'alex.carter@gmail.com' }] }, 'email'],
    ['nested profile', { data: { customer_profile: { name: 'Alex Carter', dob: '1987-03-14' } } }, 'person-name'],
  ])('%s', (_what, value, matcher) => {
    const findings = full.scan(value);
    expect(findings.map((finding) => finding.matcher)).toContain(matcher);
    const text = JSON.stringify(findings);
    for (const secret of ['alex', 'Alex', '7700', 'QQ', 'King', '1987']) expect(text).not.toContain(secret);
  });

  // The clean chat's tool calls and results (get_balance, list_recent, convert_currency, create_ticket, notify_human).
  it.each<[string, unknown]>([
    ['get_balance', { account_id: '12345' }],
    ['get_balance, numeric id', { account_id: 12345 }],
    ['list_recent', { account_id: '12345', days: 7 }],
    ['convert_currency', { amount: 4287.55, from_ccy: 'GBP', to_ccy: 'USD' }],
    [
      'create_ticket',
      {
        customer_id: '12345',
        summary: 'Customer 12345 reports a 1499 USD charge at GenericLuxuryGoods (RU) they do not recognise: txn-003 on 2026-03-14T09:26:53Z, risk 92/100.',
        severity: 'high',
      },
    ],
    ['notify_human', { ticket_id: 'TICK-1A2B3C4D', channel: 'slack' }],
    ['get_details', { txn_id: 'txn-003' }],
    ['get_balance result', { content: [{ type: 'text', text: JSON.stringify({ account_id: '12345', balance: 4287.55, currency: 'GBP' }) }], structuredContent: { account_id: '12345', balance: 4287.55, currency: 'GBP' } }],
    [
      'list_recent result',
      [
        { txn_id: 'txn-001', ts: '2026-03-14T07:26:53.120Z', amount: -22.1, merchant: 'Pret a Manger', currency: 'GBP', country: 'GB', flagged: false },
        { txn_id: 'txn-003', ts: '2026-03-13T19:26:53.120Z', amount: -1499, merchant: 'GenericLuxuryGoods', currency: 'USD', country: 'RU', flagged: false },
        { txn_id: 'txn-004', ts: '2026-03-13T09:26:53.120Z', amount: 2300, merchant: 'Salary', currency: 'GBP', country: 'GB', flagged: false },
      ],
    ],
    ['convert_currency result', { amount: 4287.55, from_ccy: 'GBP', to_ccy: 'USD', result: 5445.19, rate: 1.27 }],
    ['create_ticket result', { ticket_id: 'TICK-1A2B3C4D', customer_id: '12345', summary: 'x', severity: 'high', status: 'open', created_at: '2026-03-02T12:00:00.000Z' }],
    ['words that are valid base64', 'GenericLuxuryGoods convert_currency verified Sainsburys Salary'],
    ['a tool name under name', { name: 'convert_currency' }],
    ['one capitalised word under name', { name: 'Savings' }],
    ['a recent date', 'transactions since 2024-01-01'],
    ['amounts', ['1499.00', '-22.10', 4287.55, '+2300.00']],
  ])('clean: %s', (_what, value) => {
    expect(full.scan(value)).toEqual([]);
  });

  it('reports decoded and split findings at the string or common parent, saying how', () => {
    expect(full.scan({ ctx: b64('QQ123456C') })).toEqual([{ matcher: 'uk-ni-number', path: '$.ctx', via: 'base64' }]);
    expect(full.scan({ ctx: { a: 'QQ 12 34', b: '56 C' } })).toEqual([{ matcher: 'uk-ni-number', path: '$.ctx', via: 'split' }]);
    expect(full.scan({ ctx: encodeURIComponent(JSON.stringify({ email: 'alex.carter@gmail.com' })) })).toEqual([{ matcher: 'email', path: '$.ctx', via: 'escape/json' }]);
  });

  it('does not report a value twice when it also reads across a field boundary', () => {
    expect(full.scan({ a: 'alex.carter@gmail.com', b: 'uk' }).map((finding) => finding.matcher)).toEqual(['email']);
  });

  it('redacts decoded, keyed and split values', () => {
    const { value } = full.redact({ blob: `see ${b64('QQ123456C')} now`, dob: '14.03.87', a: 'QQ 12 34', b: '56 C', who: { name: 'Alex Carter', email: 'x' } });
    expect(value).toEqual({ blob: 'see [REDACTED:uk-ni-number] now', dob: '[REDACTED:date-of-birth]', a: '[REDACTED:uk-ni-number]', b: '[REDACTED:uk-ni-number]', who: { name: '[REDACTED:person-name]', email: 'x' } });
    const wide = full.redact({ note: 'mail alex.carter＠gmail.com' }).value as { note: string };
    expect(wide.note).toBe('mail [REDACTED:email]');
  });

  it('refuses text encoded more deeply than it follows, and more decoded text than its budget', () => {
    expect(() => full.scan({ ctx: nested('QQ 12 34 56 C', DECODE_MAX_LAYERS + 1) })).toThrow(DecodeLimitError);
    expect(isUnscannable(catchError(() => full.scan({ ctx: nested('QQ 12 34 56 C', DECODE_MAX_LAYERS + 1) })))).toBe(true);
    // U+FDFA is one character that NFKC turns into eighteen.
    const small = DlpScanner.compile([{ builtin: 'Email' }], { maxDecodedChars: 10_000 });
    expect(() => small.scan({ ctx: '\ufdfa'.repeat(1_000) })).toThrow(DecodeLimitError);
    expect(small.scan({ ctx: 'x'.repeat(5_000) })).toEqual([]);
  });

  it('stays fast on a large encoded body', () => {
    const body = { ctx: b64(JSON.stringify(Array.from({ length: 5_000 }, (_, i) => ({ i, text: `row ${i} of plain text` })))) };
    // CPU time, not wall time: other processes share the machine.
    const started = process.cpuUsage();
    expect(full.scan(body)).toEqual([]);
    const used = process.cpuUsage(started);
    expect((used.user + used.system) / 1000).toBeLessThan(2_000);
  });
});

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}
