import { describe, expect, it } from 'vitest';
import { ARGUMENT_MAX_DEPTH, CelCompileError, RuleSet, celContext, celValue, toolArgumentAttributes, type AuthorizationDecision, type RuleAction, type RuleSource } from './cel.ts';
import { DecodeLimitError } from './decode.ts';

const SEED_ALLOWLIST = 'mcp.method == "tools/call" && mcp.tool.name in ["get_balance","get_profile"]';
const SEED_PII = 'mcp.tool.arguments.exists(k, k in ["customer_profile","ni_number","email","dob","address"])';

interface Attributes {
  mcpMethod?: string;
  tool?: { name: string; target?: string; arguments?: Record<string, unknown>; argumentKeys?: string[]; argumentValues?: string[] } | undefined;
  jwt?: Record<string, unknown>;
  labels?: Record<string, string>;
  serviceAccount?: string;
}

/** The gateway's attribute object, shaped like agentgateway's, as JSON. */
function context(attributes: Attributes = {}): Record<string, unknown> {
  const { mcpMethod = 'tools/call', jwt, labels = { 'kubernetes.io/metadata.name': 'trustusbank-bank-agents' }, serviceAccount = 'support-bot' } = attributes;
  const tool = 'tool' in attributes ? attributes.tool : { name: 'get_balance', target: 'account', arguments: { account_id: '12345' } };
  return {
    request: { method: 'POST', path: '/mcp', host: 'gateway.trustusbank.local', headers: { 'user-agent': 'support-bot/1.4', 'content-type': 'application/json' } },
    source: {
      address: '10.244.1.7',
      identity: { trustDomain: 'cluster.local', namespace: 'trustusbank-bank-agents', serviceAccount },
      namespace: { labels },
    },
    ...(jwt === undefined ? {} : { jwt }),
    mcp: { method: mcpMethod, ...(tool === undefined ? {} : { tool: { target: 'account', ...tool } }) },
  };
}

function rules(...sources: [RuleAction, string[], string?][]): RuleSet {
  return RuleSet.compile(sources.map(([action, expressions, policy]) => ({ action, expressions, policy: policy ?? `trustusbank/${action.toLowerCase()}` })));
}

function allowedBy(expression: string, ctx: Record<string, unknown>): AuthorizationDecision {
  return rules(['Allow', [expression]]).evaluate(ctx);
}

describe('seed policies', () => {
  const allowlist = rules(['Allow', [SEED_ALLOWLIST], 'trustusbank-bank-mcp/tool-allowlist']);

  it('allows the allowlisted tools', () => {
    expect(allowlist.evaluate(context({ tool: { name: 'get_balance' } }))).toEqual({ allowed: true, errors: [] });
    expect(allowlist.evaluate(context({ tool: { name: 'get_profile' } })).allowed).toBe(true);
  });

  it('refuses other tools, and other methods without an error (the && short-circuits)', () => {
    expect(allowlist.evaluate(context({ tool: { name: 'transfer_funds' } }))).toEqual({
      allowed: false,
      action: 'Allow',
      policy: 'trustusbank-bank-mcp/tool-allowlist',
      reason: 'no allow rule matched (allow policies: trustusbank-bank-mcp/tool-allowlist)',
      errors: [],
    });
    expect(allowlist.evaluate(context({ mcpMethod: 'tools/list', tool: undefined }))).toMatchObject({ allowed: false, errors: [] });
  });

  const pii = rules(['Deny', [SEED_PII], 'trustusbank-bank-mcp/no-pii-to-vendors']);

  it('denies a call whose arguments carry a PII field', () => {
    const decision = pii.evaluate(context({ tool: { name: 'convert', arguments: { amount: 10, ni_number: 'QQ123456C' } } }));
    expect(decision).toEqual({
      allowed: false,
      action: 'Deny',
      policy: 'trustusbank-bank-mcp/no-pii-to-vendors',
      expression: SEED_PII,
      reason: `denied by trustusbank-bank-mcp/no-pii-to-vendors: ${SEED_PII}`,
      errors: [],
    });
    expect(pii.evaluate(context({ tool: { name: 'convert', arguments: { customer_profile: { name: 'Alex' } } } })).allowed).toBe(false);
  });

  it('lets ordinary arguments through', () => {
    expect(pii.evaluate(context({ tool: { name: 'convert', arguments: { amount: 4287.55, from_ccy: 'GBP', to_ccy: 'USD' } } }))).toEqual({ allowed: true, errors: [] });
  });

  it('reports, and does not deny on, a deny rule that cannot evaluate (no tool on tools/list)', () => {
    const decision = pii.evaluate(context({ mcpMethod: 'tools/list', tool: undefined }));
    expect(decision.allowed).toBe(true);
    expect(decision.errors).toEqual([{ policy: 'trustusbank-bank-mcp/no-pii-to-vendors', expression: SEED_PII, error: 'No such key: tool', action: 'Deny' }]);
  });

  it('keys named like Object.prototype members are data, and a `constructor` key cannot switch the rule off', () => {
    const args = JSON.parse('{"constructor": "x", "toString": "y", "__proto__": "z", "email": "alex.carter@gmail.com"}') as Record<string, unknown>;
    const ctx = context({ tool: { name: 'convert', arguments: args } });
    expect(pii.evaluate(ctx).allowed).toBe(false);
    expect(allowedBy('mcp.tool.arguments.constructor == "x" && mcp.tool.arguments.__proto__ == "z"', ctx).allowed).toBe(true);
    expect(allowedBy('has(mcp.tool.arguments.toString)', context())).toMatchObject({ allowed: false, errors: [] });
    expect(allowedBy('mcp.tool.arguments.toString == "y"', context()).errors[0]?.error).toBe('No such key: toString');
  });
});

describe('attributes', () => {
  it('source identity', () => {
    const rule = 'source.identity.serviceAccount == "support-bot"';
    expect(allowedBy(rule, context()).allowed).toBe(true);
    expect(allowedBy(rule, context({ serviceAccount: 'currency-converter' })).allowed).toBe(false);
  });

  it('namespace labels: a missing label is an error, which never grants', () => {
    const rule = 'source.namespace.labels["data.solo.io/classification"] == "pii"';
    expect(allowedBy(rule, context({ labels: { 'data.solo.io/classification': 'pii' } }))).toEqual({ allowed: true, errors: [] });
    expect(allowedBy(rule, context({ labels: { 'data.solo.io/classification': 'public' } }))).toMatchObject({ allowed: false, errors: [] });
    const without = allowedBy(rule, context({ labels: {} }));
    expect(without).toMatchObject({ allowed: false, action: 'Allow' });
    expect(without.errors).toEqual([{ policy: 'trustusbank/allow', expression: rule, error: 'No such key: data.solo.io/classification', action: 'Allow' }]);
    // The CEL way to tolerate the absence:
    expect(allowedBy('"data.solo.io/classification" in source.namespace.labels', context({ labels: {} }))).toMatchObject({ allowed: false, errors: [] });
  });

  it('jwt claims: no token is an error, which never grants', () => {
    const rule = 'jwt.sub == "alice" && mcp.tool.target == "catalog"';
    const anonymous = allowedBy(rule, context({ tool: { name: 'search', target: 'catalog' } }));
    expect(anonymous.allowed).toBe(false);
    expect(anonymous.errors).toEqual([{ policy: 'trustusbank/allow', expression: rule, error: 'Unknown variable: jwt', action: 'Allow' }]);
    expect(allowedBy(rule, context({ jwt: { sub: 'alice', iss: 'https://idp' }, tool: { name: 'search', target: 'catalog' } }))).toEqual({ allowed: true, errors: [] });
    expect(allowedBy(rule, context({ jwt: { sub: 'bob' }, tool: { name: 'search', target: 'catalog' } }))).toMatchObject({ allowed: false, errors: [] });
    // A decisive operand wins over the error on the other side, as in CEL.
    expect(allowedBy('jwt.sub == "alice" || mcp.tool.target == "account"', context())).toEqual({ allowed: true, errors: [] });
    expect(rules(['Deny', ['jwt.sub == "alice" && mcp.tool.target == "catalog"']]).evaluate(context())).toEqual({ allowed: true, errors: [] });
  });

  it('numbers from JSON: ints and doubles both compare with int literals', () => {
    const rule = 'mcp.tool.arguments.amount > 1000';
    const call = (amount: unknown) => context({ tool: { name: 'transfer', arguments: { amount } } });
    expect(allowedBy(rule, call(1499)).allowed).toBe(true);
    expect(allowedBy(rule, call(4287.55)).allowed).toBe(true);
    expect(allowedBy(rule, call(999.99)).allowed).toBe(false);
    expect(allowedBy('mcp.tool.arguments.amount == 1499', call(1499)).allowed).toBe(true);
    expect(allowedBy('mcp.tool.arguments.amount == 1499.0', call(1499)).allowed).toBe(true);
    expect(allowedBy('mcp.tool.arguments.amount >= 4287.55 && mcp.tool.arguments.amount < 4288', call(4287.55)).allowed).toBe(true);
    // Arithmetic runs in the library, on a celContext copy where JSON integers are CEL ints.
    expect(allowedBy('mcp.tool.arguments.amount + 1 == 1500', call(1499)).allowed).toBe(true);
    expect(allowedBy('mcp.tool.arguments.amount % 2 == 1', call(1499)).allowed).toBe(true);
    expect(allowedBy('mcp.tool.arguments.amount + 1.0 > 4288.0', call(4287.55)).allowed).toBe(true);
    expect(allowedBy('mcp.tool.arguments.amount + 1 > 4288', call(4287.55)).errors[0]?.error).toMatch(/no such overload/);
    expect(allowedBy('mcp.tool.arguments.amount > "1000"', celContext(call(1499))).errors[0]?.error).toBe('no such overload: int > string');
    // The same answers whether the caller converted the context or not.
    for (const expression of [rule, 'mcp.tool.arguments.amount * 2 > 2000', 'mcp.tool.arguments.amount in [1499]']) {
      expect(allowedBy(expression, celContext(call(1499)))).toEqual(allowedBy(expression, call(1499)));
    }
  });

  it('string functions', () => {
    expect(allowedBy('request.path.startsWith("/mcp")', context()).allowed).toBe(true);
    expect(allowedBy('request.path.endsWith("/admin")', context()).allowed).toBe(false);
    expect(allowedBy('request.headers["user-agent"].matches("^support-bot/[0-9.]+$")', context()).allowed).toBe(true);
    expect(allowedBy('request.headers["user-agent"].matches("^fraud-bot/")', context()).allowed).toBe(false);
    expect(allowedBy('request.host.contains("trustusbank")', context()).allowed).toBe(true);
    expect(allowedBy('size(mcp.tool.name) == 11 && mcp.tool.arguments.size() == 1', context()).allowed).toBe(true);
    expect(allowedBy('mcp.tool.arguments.account_id.matches(request.path)', context()).allowed).toBe(false);
    expect(allowedBy('mcp.tool.arguments.all(k, k.startsWith("account"))', context()).allowed).toBe(true);
  });
});

describe('combining rules', () => {
  const ctx = context({ tool: { name: 'get_balance' } });
  const TRUE = 'mcp.method == "tools/call"';
  const FALSE = 'mcp.method == "tools/list"';
  const ERROR = 'jwt.sub == "alice"';

  it('no rules allow', () => {
    expect(RuleSet.empty.evaluate(ctx)).toEqual({ allowed: true, errors: [] });
    expect(RuleSet.empty.size).toBe(0);
    expect(RuleSet.compile([{ action: 'Allow', expressions: [], policy: 'ns/empty' }]).evaluate(ctx).allowed).toBe(true);
  });

  it('any true deny denies, even over a matching allow', () => {
    const decision = rules(['Allow', [TRUE], 'ns/allow'], ['Deny', [FALSE, TRUE], 'ns/deny']).evaluate(ctx);
    expect(decision).toMatchObject({ allowed: false, action: 'Deny', policy: 'ns/deny', expression: TRUE, reason: `denied by ns/deny: ${TRUE}` });
  });

  it('every require must be true', () => {
    expect(rules(['Require', [TRUE, TRUE]]).evaluate(ctx).allowed).toBe(true);
    const decision = rules(['Require', [TRUE, FALSE], 'ns/require']).evaluate(ctx);
    expect(decision).toEqual({ allowed: false, action: 'Require', policy: 'ns/require', expression: FALSE, reason: `required by ns/require not met: ${FALSE}`, errors: [] });
  });

  it('a require that errors denies, and says why', () => {
    const decision = rules(['Require', [ERROR], 'ns/require']).evaluate(ctx);
    expect(decision).toMatchObject({ allowed: false, action: 'Require', expression: ERROR });
    expect(decision.errors).toEqual([{ policy: 'ns/require', expression: ERROR, error: 'Unknown variable: jwt', action: 'Require' }]);
  });

  it('with allow rules, one must be true; the reason lists the allow policies', () => {
    expect(rules(['Allow', [FALSE], 'ns/a'], ['Allow', [TRUE], 'ns/b']).evaluate(ctx).allowed).toBe(true);
    const decision = rules(['Allow', [FALSE], 'ns/a'], ['Allow', [ERROR, FALSE], 'ns/b']).evaluate(ctx);
    expect(decision).toMatchObject({ allowed: false, action: 'Allow', reason: 'no allow rule matched (allow policies: ns/a, ns/b)' });
    expect(decision.errors).toHaveLength(1);
  });

  it('deny is evaluated first, then require, then allow, stopping at the first true allow', () => {
    const set = rules(['Allow', [TRUE, ERROR]], ['Require', [TRUE]], ['Deny', [ERROR, FALSE]]);
    expect(set.size).toBe(5);
    const decision = set.evaluate(ctx);
    expect(decision.allowed).toBe(true);
    // The deny error is reported; the allow error is never evaluated.
    expect(decision.errors).toEqual([{ policy: 'trustusbank/deny', expression: ERROR, error: 'Unknown variable: jwt', action: 'Deny' }]);
    expect(rules(['Deny', [TRUE]], ['Require', [ERROR]]).evaluate(ctx)).toMatchObject({ allowed: false, action: 'Deny', errors: [] });
  });

  it('a non-bool result is an error, never a grant', () => {
    const decision = allowedBy('mcp.tool.name', ctx);
    expect(decision.allowed).toBe(false);
    expect(decision.errors[0]?.error).toBe('returned string, not bool');
    expect(rules(['Deny', ['mcp.tool.arguments']]).evaluate(context())).toMatchObject({ allowed: true, errors: [{ error: 'returned map, not bool' }] });
    expect(allowedBy('mcp.tool.name && true', ctx).errors[0]?.error).toBe("Logical operator requires bool operands, got 'string'");
  });

  it('decisions without errors are shared and frozen; errors come in a fresh array', () => {
    const set = rules(['Allow', [TRUE]]);
    expect(set.evaluate(ctx)).toBe(set.evaluate(ctx));
    expect(Object.isFrozen(set.evaluate(ctx))).toBe(true);
  });
});

describe('compile errors', () => {
  function compileError(source: RuleSource): CelCompileError {
    try {
      RuleSet.compile([{ action: 'Allow', expressions: ['true'], policy: 'ns/fine' }, source]);
    } catch (error) {
      if (error instanceof CelCompileError) return error;
      throw error;
    }
    throw new Error('compiled');
  }

  it('names the policy and the expression', () => {
    const error = compileError({ action: 'Deny', expressions: ['mcp.method == "tools/call"', 'mcp.tool.name in ['], policy: 'trustusbank-bank-mcp/broken' });
    expect(error.name).toBe('CelCompileError');
    expect(error.policy).toBe('trustusbank-bank-mcp/broken');
    expect(error.expression).toBe('mcp.tool.name in [');
    expect(error.message).toContain('trustusbank-bank-mcp/broken: cannot compile "mcp.tool.name in ["');
  });

  it('refuses unknown variables (a typo would fail open in a deny rule), statically non-bool rules and bad regexes', () => {
    expect(compileError({ action: 'Deny', expressions: ['mpc.method == "tools/call"'], policy: 'ns/typo' }).message).toContain('Unknown variable: mpc');
    expect(compileError({ action: 'Allow', expressions: ['1 + 2'], policy: 'ns/int' }).message).toContain('has type int');
    expect(compileError({ action: 'Allow', expressions: ['"x" > 1'], policy: 'ns/types' }).expression).toBe('"x" > 1');
    expect(compileError({ action: 'Allow', expressions: ['request.path.matches("[")'], policy: 'ns/regex' }).policy).toBe('ns/regex');
  });

  it('accepts other top-level names when told', () => {
    const set = RuleSet.compile([{ action: 'Allow', expressions: ['llm.model == "gpt"'], policy: 'ns/llm' }], { variables: ['llm'] });
    expect(set.evaluate({ llm: { model: 'gpt' } }).allowed).toBe(true);
  });
});

describe('celValue', () => {
  it('makes JSON integers CEL ints and leaves doubles, deeply, without touching the input', () => {
    const input = { a: 1, b: 4287.55, c: [2, { d: -3 }], e: 'x', f: null, g: true, h: undefined, big: 2 ** 60 };
    const output = celValue(input) as Record<string, unknown>;
    expect(output).toEqual({ a: 1n, b: 4287.55, c: [2n, { d: -3n }], e: 'x', f: null, g: true, big: 2 ** 60 });
    expect('h' in output).toBe(false);
    expect(input.a).toBe(1);
  });

  it('shares what needs no conversion', () => {
    const input = { request: { headers: { a: 'b' } }, mcp: { tool: { arguments: { amount: 4287.55, count: 3 } } }, list: ['a', 1.5] };
    const output = celValue(input) as typeof input;
    expect(output.request).toBe(input.request);
    expect(output.list).toBe(input.list);
    expect(output.mcp.tool.arguments).toEqual({ amount: 4287.55, count: 3n });
    expect(input.mcp.tool.arguments.count).toBe(3);
    expect(celValue([1, 'a'])).toEqual([1n, 'a']);
  });

  it('turns objects with `constructor` or `__proto__` keys into Maps', () => {
    const output = celValue(JSON.parse('{"x": {"constructor": 1, "__proto__": {"y": 2}}}')) as { x: Map<string, unknown> };
    expect(output.x).toBeInstanceOf(Map);
    expect(output.x.get('constructor')).toBe(1n);
    expect(output.x.get('__proto__')).toEqual({ y: 2n });
  });
});

describe('the compiled closures agree with the CEL library', () => {
  const json: Record<string, Record<string, unknown>> = {
    call: context({ tool: { name: 'transfer', arguments: { amount: 1499, memo: 'rent', tags: ['a', 'b'], nested: { n: 1.5 }, flag: true, none: null, idx: 1 } } }),
    list: context({ mcpMethod: 'tools/list', tool: undefined }),
    jwt: context({ jwt: { sub: 'alice', groups: ['ops', 'support'], exp: 1700000000 } }),
    odd: { request: { method: 7, headers: { a: ['x'] } }, source: {}, mcp: { method: null, tool: { name: 3.5, arguments: { amount: '1499', constructor: 'x' } } } },
    // What a gateway building the object by hand may pass: members set to undefined are absent.
    built: { request: { method: 'GET', headers: {} }, source: { identity: undefined }, mcp: { method: 'tools/call', tool: { name: 'x', arguments: { email: undefined, amount: 1 } } } },
  };
  // Each as JSON and as converted by celContext: the closures must answer the same for both.
  const contexts = Object.fromEntries(Object.entries(json).flatMap(([name, ctx]) => [[name, ctx], [`${name} (celContext)`, celContext(ctx)]]));
  const expressions = [
    SEED_ALLOWLIST,
    SEED_PII,
    'mcp.tool.arguments.amount > 1000',
    'mcp.tool.arguments.amount == 1499',
    'mcp.tool.arguments.amount in [1499, 2]',
    'mcp.tool.arguments.amount in ["1499"]',
    'mcp.tool.arguments.nested.n < 2',
    'mcp.tool.arguments.nested.n == 1.5',
    'mcp.tool.arguments.tags[0] == "a"',
    'mcp.tool.arguments.tags[mcp.tool.arguments.idx] == "b"',
    'mcp.tool.arguments.constructor == "x"',
    'mcp.tool.arguments.exists(k, k == "constructor")',
    'mcp.tool.arguments.size() > 2',
    'size(mcp.tool.arguments) == 1',
    'has(source.identity)',
    'mcp.tool.arguments.tags[5] == "a"',
    'mcp.tool.arguments.tags[-1] == "a"',
    '"b" in mcp.tool.arguments.tags',
    'mcp.tool.arguments.tags.exists(t, t == "b")',
    'mcp.tool.arguments.tags.all(t, t.size() == 1)',
    'mcp.tool.arguments.exists(k, mcp.tool.arguments[k] == true)',
    'mcp.tool.arguments.all(k, k.size() > 3)',
    'mcp.tool.arguments.flag',
    '!mcp.tool.arguments.flag',
    'mcp.tool.arguments.none == null',
    'mcp.tool.arguments.none != "x"',
    'mcp.tool.arguments.memo == mcp.tool.arguments.tags',
    'mcp.tool.arguments.tags == ["a", "b"]',
    'has(mcp.tool.arguments.memo)',
    'has(mcp.tool.arguments.nope)',
    'has(mcp.tool.x.y)',
    'has(jwt.sub)',
    '"memo" in mcp.tool.arguments',
    'mcp.tool.name.startsWith("trans")',
    'mcp.tool.name.matches("^get_")',
    'mcp.tool.name > "a"',
    'mcp.tool.name < 4',
    'size(mcp.tool.name) > 3',
    'request.method == "POST" ? mcp.tool.name == "transfer" : false',
    'request.method ? true : false',
    '-mcp.tool.arguments.amount < 0',
    'jwt.sub == "alice" && "ops" in jwt.groups',
    'jwt.exp > 1600000000',
    'jwt.sub == "alice" || false',
    'false || jwt.sub == "alice"',
    'true && jwt.sub',
    'jwt.sub && false',
    '[mcp.method, request.method].exists(m, m == "POST")',
    'request.headers.a.exists(h, h == "x")',
    'request.headers.a.size() == 1',
    'source.identity.serviceAccount == "support-bot"',
    'mcp.tool.arguments.amount + 1 > 1000',
    'cel.bind(n, mcp.tool.name, n == "transfer")',
  ];

  const compiled = (expression: string) => rules(['Allow', [expression]]);
  const library = (expression: string) => RuleSet.compile([{ action: 'Allow', expressions: [expression], policy: 'trustusbank/allow' }], { interpreter: 'library' });
  const outcome = (decision: AuthorizationDecision) => ({ allowed: decision.allowed, errored: decision.errors.length > 0 });

  for (const expression of expressions) {
    it(expression, () => {
      const fast = compiled(expression);
      const slow = library(expression);
      for (const [name, ctx] of Object.entries(contexts)) {
        expect({ name, ...outcome(fast.evaluate(ctx)) }).toEqual({ name, ...outcome(slow.evaluate(ctx)) });
      }
    });
  }
});

describe('flattened tool arguments (mcp.tool.argumentKeys / argumentValues)', () => {
  const NESTED_PII = 'mcp.tool.argumentKeys.exists(k, k in ["customer_profile","ni_number","email","dob","address"])';
  const deny = rules(['Deny', [NESTED_PII], 'trustusbank-platform/deny-pii-in-tool-args']);
  const call = (args: Record<string, unknown>) => context({ tool: { name: 'convert_currency', ...toolArgumentAttributes(args) } });
  const b64 = (text: string) => Buffer.from(text).toString('base64');

  it.each<[string, Record<string, unknown>]>([
    ['nested under data', { amount: 1, data: { customer_profile: { name: 'x' } } }],
    ['inside an array', { x: [{ email: 'x' }] }],
    ['camelCase', { customerProfile: {} }],
    ['kebab and upper case', { 'Customer-Profile': {} }],
    ['with zero-width characters', { 'cust\u200bomer_pro\u200dfile': {} }],
    ['full-width', { 'ｅｍａｉｌ': 'x' }],
    ['inside JSON text', { ctx: JSON.stringify({ profile: { dob: '1987-03-14' } }) }],
    ['inside base64 JSON text', { ctx: b64(JSON.stringify({ ni_number: 'x' })) }],
    ['inside percent-encoded JSON text', { ctx: encodeURIComponent(JSON.stringify({ address: 'x' })) }],
  ])('denies a PII key %s', (_what, args) => {
    expect(deny.evaluate(call(args))).toMatchObject({ allowed: false, action: 'Deny' });
    // The top-level view misses all of these: that is why the flattened one exists.
    if (!('customer_profile' in args)) expect(rules(['Deny', [SEED_PII]]).evaluate(call(args)).allowed).toBe(true);
  });

  it('allows the clean conversion, and lists keys once in order with values normalised and decoded', () => {
    expect(deny.evaluate(call({ amount: 4287.55, from_ccy: 'GBP', to_ccy: 'USD' }))).toEqual({ allowed: true, errors: [] });
    const attributes = toolArgumentAttributes({ a: { b: 1, c: [{ b: 'ｘ' }] }, d: b64('hello there') });
    expect(attributes.argumentKeys).toEqual(['a', 'b', 'c', 'd']);
    expect(attributes.argumentValues).toEqual(['1', 'x', b64('hello there'), 'hello there']);
    expect(allowedBy('mcp.tool.argumentValues.exists(v, v.contains("@"))', call({ ctx: ['alex.carter%40gmail.com'] })).allowed).toBe(true);
  });

  it('refuses to flatten arguments nested past its limit', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < ARGUMENT_MAX_DEPTH + 1; i++) deep = { d: deep };
    expect(() => toolArgumentAttributes({ deep })).toThrow(DecodeLimitError);
  });
});
