// CEL authorization rules as agentgateway evaluates them (`authorization.action` + `matchExpressions`): every
// expression of every policy is one rule of that policy's action. A decision is
//   1. any Deny rule true                  → denied
//   2. any Require rule not true           → denied
//   3. Allow rules exist and none is true  → denied
//   4. otherwise                           → allowed.
// A rule that fails to evaluate (missing key, wrong type, non-bool result) never grants access: as Allow or Require
// it counts as false, as Deny it does not deny. Every such failure is reported in `errors`, because a Deny rule that
// silently fails open is exactly what an operator needs to hear about.
//
// Performance. The library (@marcbachmann/cel-js) parses and type-checks once, but evaluating through it costs
// ~0.3–2 µs per rule, and ~15 µs per rule that errors (it builds an Error with a stack trace and a highlighted
// source excerpt), and "no `jwt` on this request" makes rules error on every request. So each checked expression is
// also compiled here into plain closures over the library's AST, for the operators authorization rules use (field
// and index access, comparisons, `in`, logic, `has`, `size`, string functions, `exists`/`all`). Failures there are
// values, not exceptions. Whatever the closures do not cover (arithmetic, map literals, other functions) runs in
// the library; so does any evaluation that meets a value shape the closures do not know, so both paths give the
// same answers (cel.test.ts checks them against each other). The closures read the JSON attributes as they are;
// only the library needs them converted (`celValue`), so that conversion happens only when a rule goes there.
import { Environment, type ASTNode, type ParseResult } from '@marcbachmann/cel-js';
import { DecodeBudget, DecodeLimitError, forEachLayer, normalizeKey } from './decode.ts';

export type RuleAction = 'Allow' | 'Deny' | 'Require';

export interface RuleSource {
  action: RuleAction;
  expressions: string[];
  /** `<namespace>/<name>` of the policy, for reasons */
  policy: string;
}

/** An expression that does not parse or type-check; names the policy and the expression so the author can find it. */
export class CelCompileError extends Error {
  override readonly name = 'CelCompileError';
  constructor(
    readonly policy: string,
    readonly expression: string,
    readonly reason: string,
  ) {
    super(`${policy}: cannot compile ${JSON.stringify(expression)}: ${reason}`);
  }
}

/** Why an expression cannot be an authorization rule, or undefined when it can (for validating manifests). */
export function celExpressionProblem(expression: string): string | undefined {
  try {
    RuleSet.compile([{ action: 'Allow', expressions: [expression], policy: 'check' }]);
    return undefined;
  } catch (error) {
    return error instanceof CelCompileError ? error.reason : (error as Error).message;
  }
}

export interface RuleEvaluationError {
  policy: string;
  expression: string;
  error: string;
  /** The rule's action: an erroring Deny rule did not deny, which is worth a louder log line than an Allow. */
  action: RuleAction;
}

export type AuthorizationDecision =
  | { allowed: true; errors: readonly RuleEvaluationError[] }
  | { allowed: false; action: RuleAction; policy?: string; expression?: string; reason: string; errors: readonly RuleEvaluationError[] };

export interface RuleSetOptions {
  /**
   * The context's top-level names an expression may use; anything else is a compile error (a typo in a Deny rule
   * would otherwise fail open at every request). Default: agentgateway's `request`, `source`, `jwt`, `mcp`.
   */
  variables?: readonly string[];
  /** `library` skips the compiled closures and evaluates everything in the CEL library (for tests and as an escape hatch). */
  interpreter?: 'compiled' | 'library';
}

export const DEFAULT_VARIABLES: readonly string[] = Object.freeze(['request', 'source', 'jwt', 'mcp', 'a2a']);

/**
 * Deep-convert a JSON value into the CEL library's value model. Integral numbers that are safe integers become
 * `bigint` (CEL `int`), as agentgateway's serde_json → CEL conversion makes JSON integers `int`; everything else
 * numeric stays a JS number (CEL `double`). Comparisons would work either way (`1499 > 1000` and `1 == 1` compare
 * across int and double), but arithmetic and indexing do not: `args.count + 1` has no `double + int` overload, and a
 * Deny rule that errors does not deny. Integers beyond 2^53 stay doubles: JSON.parse already rounded them.
 * The input is never mutated; parts that need no change are shared with it, not copied. Objects with a
 * `constructor` or `__proto__` key become Maps, `undefined` members are dropped (CEL sees them as absent either
 * way), and non-JSON objects (Date, Map, Uint8Array) pass through unchanged.
 */
export function celValue(value: unknown): unknown {
  switch (typeof value) {
    case 'number':
      return Number.isSafeInteger(value) ? BigInt(value) : value;
    case 'object':
      if (value === null) return null;
      if (Array.isArray(value)) return convertList(value);
      return convertObject(value);
    default:
      return value;
  }
}

// Copy-on-write: a list or object comes back as is when nothing in it changes (strings, doubles, booleans), so the
// usual request (headers, identity, labels) costs a walk, not a copy.

function convertList(list: unknown[]): unknown[] {
  let copy: unknown[] | undefined;
  for (let i = 0; i < list.length; i++) {
    const element = list[i];
    const converted = celValue(element);
    if (copy === undefined && converted !== element) copy = list.slice(0, i);
    copy?.push(converted);
  }
  return copy ?? list;
}

function convertObject(object: object): unknown {
  // The prototype, not `constructor`, which an own key can shadow.
  const proto: unknown = Object.getPrototypeOf(object);
  if (proto !== Object.prototype && proto !== null) return object;
  const record = object as Record<string, unknown>;
  // The library tells maps by their `constructor`, so an own `constructor` key (tool arguments are caller data)
  // would make it refuse the whole object, and a Deny rule reading it would fail open. A Map has no such key to
  // shadow, and keeps `__proto__` as data too.
  if (hasOwn(record, 'constructor') || hasOwn(record, '__proto__')) {
    const map = new Map<string, unknown>();
    for (const key of Object.keys(record)) if (record[key] !== undefined) map.set(key, celValue(record[key]));
    return map;
  }
  let copy: Record<string, unknown> | undefined;
  const keys = Object.keys(record);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const member = record[key];
    const converted = member === undefined ? undefined : celValue(member);
    if (copy === undefined) {
      if (converted === member && member !== undefined) continue;
      copy = {};
      for (let j = 0; j < i; j++) if (record[keys[j]!] !== undefined) copy[keys[j]!] = record[keys[j]!];
    }
    if (converted !== undefined) copy[key] = converted;
  }
  return copy ?? record;
}

/** Nesting followed when flattening arguments, across decoded JSON text too. */
export const ARGUMENT_MAX_DEPTH = 256;

export interface ToolArgumentAttributes {
  /** The arguments exactly as sent. */
  arguments: Record<string, unknown>;
  /**
   * Every object key at any depth (inside arrays, and inside strings that hold JSON text, escaped or base64 JSON
   * text included), normalised by decode.ts normalizeKey (`customerProfile`, `Customer-Profile` and
   * `cust\u200bomer_profile` are all `customer_profile`), each once, in order of first appearance.
   */
  argumentKeys: string[];
  /**
   * Every string and number at any depth as normalised text (NFKC, format characters removed), and the text of each
   * layer decoded from a string (escapes, base64), in order.
   */
  argumentValues: string[];
}

/**
 * `mcp.tool.*` and `mcp.prompt.*` argument attributes: the arguments as sent, and flattened views a rule can test
 * without knowing where a value sits (`mcp.tool.argumentKeys.exists(k, k in [...])` sees `{"data":
 * {"customer_profile": ...}}` and `{"x": [{"email": ...}]}`, which `mcp.tool.arguments.exists` does not). Throws
 * DecodeLimitError for arguments nested or encoded past the limits: the caller refuses the call, since a rule
 * cannot be evaluated on what could not be read.
 */
export function toolArgumentAttributes(args: Record<string, unknown>): ToolArgumentAttributes {
  const keys = new Set<string>();
  const values: string[] = [];
  const budget = new DecodeBudget();
  const walk = (value: unknown, depth: number, layers: number): void => {
    if (typeof value === 'string') {
      forEachLayer(
        value,
        budget,
        (layer) => {
          if (layer.json !== undefined) walk(layer.json, depth + 1, layer.layers + 1);
          else values.push(layer.text);
        },
        '',
        layers,
      );
      return;
    }
    if (typeof value === 'number' || typeof value === 'bigint') {
      values.push(String(value));
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    if (depth >= ARGUMENT_MAX_DEPTH) throw new DecodeLimitError('depth', ARGUMENT_MAX_DEPTH);
    if (Array.isArray(value)) {
      for (const element of value) walk(element, depth + 1, layers);
      return;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return;
    for (const [key, member] of Object.entries(value as Record<string, unknown>)) {
      keys.add(normalizeKey(key));
      walk(member, depth + 1, layers);
    }
  };
  walk(args, 0, 0);
  return { arguments: args, argumentKeys: [...keys], argumentValues: values };
}

/** `celValue` for a whole attribute object: what the library evaluates (`RuleSet.evaluate` converts when it needs to). */
export function celContext(attributes: Record<string, unknown>): Record<string, unknown> {
  return celValue(attributes) as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------------------------
// Compiled closures. A closure returns a CEL value or a Fault; it throws FALLBACK when it meets something it does
// not model, and the rule then runs in the library instead.

/** A CEL evaluation error as a value: no stack trace, and the missing-key ones are allocated once at compile time. */
class Fault {
  constructor(readonly message: string) {}
}

/** Thrown (never an Error, so no stack is captured) to hand one evaluation over to the library. */
const FALLBACK: unique symbol = Symbol('cel-fallback');
/** Thrown at compile time: this expression always runs in the library. */
const UNSUPPORTED: unique symbol = Symbol('cel-unsupported');

type Context = Record<string, unknown>;
type Closure = (context: Context) => unknown;
/** Macro variables, by name, to their slot in the expression's slot array. */
type Scope = ReadonlyMap<string, number>;

interface Compilation {
  /** Values of macro iteration variables; one array per expression, reused by every (synchronous) evaluation. */
  readonly slots: unknown[];
  readonly roots: ReadonlySet<string>;
}

const hasOwn = Object.hasOwn;

/**
 * A JSON object (or a null-prototype one). Read through `constructor`, as the library does, because it is several
 * times cheaper than Object.getPrototypeOf on the hot path; an object whose own `constructor` key shadows it is
 * not plain here, and falls back to the library (`celValue` turns such objects into Maps).
 */
function isPlainObject(value: object): value is Record<string, unknown> {
  const constructor: unknown = (value as { constructor?: unknown }).constructor;
  return constructor === Object || constructor === undefined;
}

/** The CEL type name of a value, for messages. */
function typeName(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'bigint':
      return 'int';
    case 'number':
      return 'double';
    case 'boolean':
      return 'bool';
    case 'object':
      if (value === null) return 'null_type';
      if (Array.isArray(value)) return 'list';
      if (value instanceof Map || isPlainObject(value)) return 'map';
      return value.constructor?.name ?? 'object';
    default:
      return typeof value;
  }
}

function select(target: unknown, key: string, missing: Fault): unknown {
  if (typeof target === 'object' && target !== null) {
    if (isPlainObject(target)) {
      const value = target[key];
      // Own data only: JSON values are never functions, so a function is inherited (`toString`). `__proto__` is
      // the one inherited non-function.
      if (value === undefined || typeof value === 'function') return missing;
      return key !== '__proto__' || hasOwn(target, key) ? value : missing;
    }
    if (target instanceof Fault) return target;
    if (target instanceof Map) {
      const value: unknown = target.get(key);
      return value === undefined ? missing : value;
    }
    // Lists, timestamps, bytes...: the library's error, or its field, is authoritative.
    throw FALLBACK;
  }
  if (typeof target === 'function' || typeof target === 'symbol' || target === undefined) throw FALLBACK;
  return missing; // a primitive or null has no fields
}

/** A top-level variable. Roots are declared `map`; anything else gets the library's type error. */
function root(context: Context, name: string, missing: Fault): unknown {
  const value = hasOwn(context, name) ? context[name] : undefined;
  if (value === undefined) return missing;
  if (typeof value !== 'object' || value === null || !(isPlainObject(value) || value instanceof Map)) throw FALLBACK;
  return value;
}

function index(target: unknown, key: unknown): unknown {
  if (target instanceof Fault) return target;
  if (key instanceof Fault) return key;
  if (typeof key === 'string' && typeof target === 'object' && target !== null && (isPlainObject(target) || target instanceof Map)) {
    return select(target, key, new Fault(`No such key: ${key}`));
  }
  if (Array.isArray(target) && typeof key === 'bigint') {
    if (key < 0n) return new Fault(`No such key: index out of bounds, index ${key} < 0`);
    if (key >= BigInt(target.length)) return new Fault(`No such key: index out of bounds, index ${key} >= size ${target.length}`);
    const element: unknown = target[Number(key)];
    if (element === undefined) throw FALLBACK;
    return element;
  }
  throw FALLBACK;
}

const PRIMITIVE = new Set(['string', 'bigint', 'number', 'boolean']);

function isPrimitive(value: unknown): boolean {
  return value === null || PRIMITIVE.has(typeof value);
}

/** CEL equality: same type and value, with int and double compared numerically; never across other types. */
function equals(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  const leftPrimitive = isPrimitive(left);
  const rightPrimitive = isPrimitive(right);
  if (leftPrimitive && rightPrimitive) {
    // eslint-disable-next-line eqeqeq -- `==` compares a bigint with a number exactly
    if (isNumber(left) && isNumber(right)) return left == right;
    return false;
  }
  // A list or map is never equal to a primitive; lists and maps compare deeply, which the library does.
  if ((leftPrimitive && isCollection(right)) || (rightPrimitive && isCollection(left))) return false;
  throw FALLBACK;
}

function isCollection(value: unknown): boolean {
  return Array.isArray(value) || (typeof value === 'object' && value !== null && (isPlainObject(value) || value instanceof Map));
}

function isNumber(value: unknown): value is bigint | number {
  return typeof value === 'bigint' || typeof value === 'number';
}

type Ordering = '<' | '<=' | '>' | '>=';

function compare(op: Ordering, left: unknown, right: unknown): unknown {
  const comparable =
    (isNumber(left) && isNumber(right)) ||
    (typeof left === 'string' && typeof right === 'string') ||
    (typeof left === 'boolean' && typeof right === 'boolean');
  if (!comparable) {
    if (!isPrimitive(left) || !isPrimitive(right)) throw FALLBACK;
    return new Fault(`no such overload: ${typeName(left)} ${op} ${typeName(right)}`);
  }
  // JS orders bigint against number exactly, strings by UTF-16 unit and false < true, as the library does.
  const l = left as number;
  const r = right as number;
  switch (op) {
    case '<':
      return l < r;
    case '<=':
      return l <= r;
    case '>':
      return l > r;
    case '>=':
      return l >= r;
  }
}

function member(element: unknown, collection: unknown): unknown {
  if (Array.isArray(collection)) {
    if (!isPrimitive(element)) throw FALLBACK;
    for (const candidate of collection) if (equals(element, candidate)) return true;
    return false;
  }
  if (typeof collection === 'object' && collection !== null && typeof element === 'string') {
    if (isPlainObject(collection)) return hasOwn(collection, element) && collection[element] !== undefined;
    if (collection instanceof Map) return collection.get(element) !== undefined;
  }
  if (typeof collection === 'string' && isPrimitive(element)) return new Fault(`no such overload: ${typeName(element)} in string`);
  throw FALLBACK;
}

/** `size()` as the library counts: Unicode code points for strings, entries for lists and maps. */
function sizeOf(value: unknown): unknown {
  if (value instanceof Fault) return value;
  if (typeof value === 'string') {
    let count = 0;
    for (let i = 0; i < value.length; i++) {
      const unit = value.charCodeAt(i);
      if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < value.length) {
        const next = value.charCodeAt(i + 1);
        if (next >= 0xdc00 && next <= 0xdfff) i++;
      }
      count++;
    }
    return BigInt(count);
  }
  if (Array.isArray(value)) return BigInt(value.length);
  if (typeof value === 'object' && value !== null) {
    if (isPlainObject(value)) {
      let count = 0;
      for (const key in value) if (hasOwn(value, key) && value[key] !== undefined) count++;
      return BigInt(count);
    }
    if (value instanceof Map) return BigInt(value.size);
  }
  throw FALLBACK;
}

/** The literal a node stands for, if it is one the closures model (uint and bytes literals are not). */
function literal(ast: ASTNode): { value: unknown } | undefined {
  if (ast.op === 'value') {
    const value = ast.args;
    return isPrimitive(value) ? { value } : undefined;
  }
  if (ast.op === '-_' && ast.args.op === 'value') {
    const value = ast.args.args;
    if (typeof value === 'bigint' || typeof value === 'number') return { value: -value };
  }
  return undefined;
}

const STRING_METHODS = new Set(['startsWith', 'endsWith', 'contains', 'matches']);

function compileNode(ast: ASTNode, scope: Scope, unit: Compilation): Closure {
  const constant = literal(ast);
  if (constant !== undefined) {
    const value = constant.value;
    return () => value;
  }
  switch (ast.op) {
    case 'id':
      return compileIdentifier(ast.args, scope, unit);
    case '.':
    case '[]': {
      const path = compilePath(ast, scope, unit);
      if (path !== undefined) return path;
      if (ast.op === '.') {
        const target = compileNode(ast.args[0], scope, unit);
        const key = ast.args[1];
        const missing = new Fault(`No such key: ${key}`);
        return (context) => select(target(context), key, missing);
      }
      const target = compileNode(ast.args[0], scope, unit);
      const keyClosure = compileNode(ast.args[1], scope, unit);
      return (context) => {
        const value = target(context);
        return value instanceof Fault ? value : index(value, keyClosure(context));
      };
    }
    case '==':
    case '!=': {
      const negate = ast.op === '!=';
      // Comparing with a list or map literal is a deep comparison, which the library does.
      if (ast.args.some((side) => side.op === 'list' || side.op === 'map')) throw UNSUPPORTED;
      const [leftAst, rightAst] = ast.args;
      const constant = literal(rightAst) ?? literal(leftAst);
      if (constant !== undefined && typeof constant.value !== 'number' && typeof constant.value !== 'bigint') {
        // `x == "literal"`: same-typed values compare with ===, and nothing else equals a string, bool or null.
        const value = constant.value;
        const other = compileNode(literal(rightAst) !== undefined ? leftAst : rightAst, scope, unit);
        return (context) => {
          const x = other(context);
          if (x === value) return !negate;
          if (isPrimitive(x)) return negate;
          if (x instanceof Fault) return x;
          return equals(x, value) !== negate;
        };
      }
      return both(compileNode(leftAst, scope, unit), compileNode(rightAst, scope, unit), (l, r) => equals(l, r) !== negate);
    }
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const op = ast.op;
      const left = compileNode(ast.args[0], scope, unit);
      const right = compileNode(ast.args[1], scope, unit);
      return (context) => {
        const l = left(context);
        if (l instanceof Fault) return l;
        const r = right(context);
        if (r instanceof Fault) return r;
        return compare(op, l, r);
      };
    }
    case 'in':
      return compileIn(ast.args[0], ast.args[1], scope, unit);
    case '&&':
    case '||':
      return compileLogical(ast.op === '&&', compileNode(ast.args[0], scope, unit), compileNode(ast.args[1], scope, unit));
    case '!_': {
      const inner = compileNode(ast.args, scope, unit);
      return (context) => {
        const value = inner(context);
        if (typeof value === 'boolean') return !value;
        if (value instanceof Fault) return value;
        return new Fault(`no such overload: !${typeName(value)}`);
      };
    }
    case '-_': {
      const inner = compileNode(ast.args, scope, unit);
      return (context) => {
        const value = inner(context);
        if (typeof value === 'bigint' || typeof value === 'number') return -value;
        if (value instanceof Fault) return value;
        if (!isPrimitive(value)) throw FALLBACK;
        return new Fault(`no such overload: -${typeName(value)}`);
      };
    }
    case '?:': {
      const condition = compileNode(ast.args[0], scope, unit);
      const then = compileNode(ast.args[1], scope, unit);
      const otherwise = compileNode(ast.args[2], scope, unit);
      return (context) => {
        const value = condition(context);
        if (value === true) return then(context);
        if (value === false) return otherwise(context);
        if (value instanceof Fault) return value;
        return new Fault(`Ternary condition must be bool, got '${typeName(value)}'`);
      };
    }
    case 'list': {
      const literals = ast.args.map(literal);
      if (literals.every((entry) => entry !== undefined)) {
        const list = Object.freeze(literals.map((entry) => entry.value));
        return () => list;
      }
      const elements = ast.args.map((element) => compileNode(element, scope, unit));
      return (context) => {
        const list: unknown[] = [];
        for (const element of elements) {
          const value = element(context);
          if (value instanceof Fault) return value;
          list.push(value);
        }
        return list;
      };
    }
    case 'call':
      return compileCall(ast.args[0], ast.args[1], scope, unit);
    case 'rcall':
      return compileMethod(ast.args[0], ast.args[1], ast.args[2], scope, unit);
    default:
      throw UNSUPPORTED;
  }
}

function compileIdentifier(name: string, scope: Scope, unit: Compilation): Closure {
  const slot = scope.get(name);
  if (slot !== undefined) {
    const slots = unit.slots;
    return () => slots[slot];
  }
  if (!unit.roots.has(name)) throw UNSUPPORTED; // constants such as `cel`
  const missing = new Fault(`Unknown variable: ${name}`);
  return (context) => root(context, name, missing);
}

/**
 * `a.b["c"].d`, the commonest shape, read in one closure: a closure calling closures cannot be inlined, and costs
 * more than the lookups themselves.
 */
function compilePath(ast: ASTNode, scope: Scope, unit: Compilation): Closure | undefined {
  const keys: string[] = [];
  let node = ast;
  for (;;) {
    if (node.op === '.') {
      keys.unshift(node.args[1]);
      node = node.args[0];
    } else if (node.op === '[]' && typeof literal(node.args[1])?.value === 'string') {
      keys.unshift(literal(node.args[1])!.value as string);
      node = node.args[0];
    } else {
      break;
    }
  }
  if (node.op !== 'id' || keys.length === 0) return undefined;
  const name = node.args;
  const missing = keys.map((key) => new Fault(`No such key: ${key}`));
  if (scope.has(name) || !unit.roots.has(name)) {
    const base = compileIdentifier(name, scope, unit);
    return (context) => {
      let value = base(context);
      for (let i = 0; i < keys.length; i++) value = select(value, keys[i]!, missing[i]!);
      return value;
    };
  }
  const unknown = new Fault(`Unknown variable: ${name}`);
  return (context) => {
    let value = root(context, name, unknown);
    for (let i = 0; i < keys.length; i++) value = select(value, keys[i]!, missing[i]!);
    return value;
  };
}

function compileIn(elementAst: ASTNode, collectionAst: ASTNode, scope: Scope, unit: Compilation): Closure {
  const element = compileNode(elementAst, scope, unit);
  // The allowlist case, `x in ["a", "b"]`: a Set of strings, built once. Anything but a string is never equal to one.
  if (collectionAst.op === 'list') {
    const literals = collectionAst.args.map(literal);
    if (literals.length > 0 && literals.every((entry) => typeof entry?.value === 'string')) {
      const strings = new Set(literals.map((entry) => entry!.value as string));
      return (context) => {
        const value = element(context);
        if (typeof value === 'string') return strings.has(value);
        if (value instanceof Fault) return value;
        if (!isPrimitive(value)) throw FALLBACK;
        return false;
      };
    }
  }
  return both(element, compileNode(collectionAst, scope, unit), member);
}

/** Two operands evaluated left to right, the first fault returned as is, else `apply` of the two values. */
function both(left: Closure, right: Closure, apply: (l: unknown, r: unknown) => unknown): Closure {
  return (context) => {
    const l = left(context);
    if (l instanceof Fault) return l;
    const r = right(context);
    if (r instanceof Fault) return r;
    return apply(l, r);
  };
}

/**
 * CEL's commutative `&&`/`||`: a decisive operand (false for `&&`, true for `||`) wins even over an error on the
 * other side, so `jwt.sub == "alice" && false` is false without a token.
 */
function compileLogical(isAnd: boolean, left: Closure, right: Closure): Closure {
  const decisive = !isAnd;
  const nonBool = (value: unknown) => new Fault(`Logical operator requires bool operands, got '${typeName(value)}'`);
  return (context) => {
    const l = left(context);
    if (l === decisive) return decisive;
    const r = right(context);
    if (l === !decisive) return typeof r === 'boolean' || r instanceof Fault ? r : nonBool(r);
    if (r === decisive) return decisive;
    if (r instanceof Fault) return r;
    if (r === !decisive) return l instanceof Fault ? l : nonBool(l);
    return nonBool(r);
  };
}

function compileCall(name: string, args: readonly ASTNode[], scope: Scope, unit: Compilation): Closure {
  if (name === 'size' && args.length === 1) {
    const inner = compileNode(args[0]!, scope, unit);
    return (context) => sizeOf(inner(context));
  }
  const target = args[0];
  if (name === 'has' && args.length === 1 && target?.op === '.') return compileHas(target, scope, unit);
  throw UNSUPPORTED;
}

/** `has(a.b.c)`: `a.b` must resolve (else an error, as in the library), then presence of `c`. */
function compileHas(ast: Extract<ASTNode, { op: '.' }>, scope: Scope, unit: Compilation): Closure {
  const fields: string[] = [];
  let node: ASTNode = ast;
  while (node.op === '.') {
    fields.unshift(node.args[1]);
    node = node.args[0];
  }
  if (node.op !== 'id') throw UNSUPPORTED;
  const base = compileIdentifier(node.args, scope, unit);
  const last = fields.pop()!;
  const path = fields.map((field) => ({ field, missing: new Fault(`No such key: ${field}`) }));
  return (context) => {
    let value = base(context);
    for (const step of path) {
      if (value instanceof Fault) return value;
      if (typeof value !== 'object' || value === null || !(isPlainObject(value) || value instanceof Map)) throw FALLBACK;
      value = select(value, step.field, step.missing);
    }
    if (value instanceof Fault) return value;
    if (typeof value === 'object' && value !== null) {
      if (isPlainObject(value)) return hasOwn(value, last) && value[last] !== undefined;
      if (value instanceof Map) return value.get(last) !== undefined;
    }
    throw FALLBACK;
  };
}

function compileMethod(name: string, receiverAst: ASTNode, args: readonly ASTNode[], scope: Scope, unit: Compilation): Closure {
  if (name === 'size' && args.length === 0) {
    const receiver = compileNode(receiverAst, scope, unit);
    return (context) => sizeOf(receiver(context));
  }
  const [first, second] = args;
  if ((name === 'exists' || name === 'all') && args.length === 2 && first?.op === 'id' && second !== undefined) {
    return compileQuantifier(name === 'exists', receiverAst, first.args, second, scope, unit);
  }
  if (STRING_METHODS.has(name) && args.length === 1) return compileStringMethod(name, receiverAst, args[0]!, scope, unit);
  throw UNSUPPORTED;
}

function compileStringMethod(name: string, receiverAst: ASTNode, argumentAst: ASTNode, scope: Scope, unit: Compilation): Closure {
  const receiver = compileNode(receiverAst, scope, unit);
  const argument = compileNode(argumentAst, scope, unit);
  const noOverload = (s: unknown, a: unknown) => new Fault(`found no matching overload for '${typeName(s)}.${name}(${typeName(a)})'`);
  if (name === 'matches') {
    const pattern = literal(argumentAst);
    // A constant pattern is compiled once, as the library would compile it (a JS RegExp, no flags) at each call.
    const fixed = typeof pattern?.value === 'string' ? new RegExp(pattern.value) : undefined;
    return (context) => {
      const s = receiver(context);
      if (s instanceof Fault) return s;
      const a = argument(context);
      if (a instanceof Fault) return a;
      if (typeof s !== 'string' || typeof a !== 'string') return noOverload(s, a);
      if (fixed !== undefined) return fixed.test(s);
      try {
        return new RegExp(a).test(s);
      } catch {
        return new Fault(`Invalid regular expression: ${a}`);
      }
    };
  }
  const method =
    name === 'startsWith'
      ? (s: string, a: string) => s.startsWith(a)
      : name === 'endsWith'
        ? (s: string, a: string) => s.endsWith(a)
        : (s: string, a: string) => s.includes(a);
  return (context) => {
    const s = receiver(context);
    if (s instanceof Fault) return s;
    const a = argument(context);
    if (a instanceof Fault) return a;
    if (typeof s !== 'string' || typeof a !== 'string') return noOverload(s, a);
    return method(s, a);
  };
}

/**
 * `exists`/`all` over a list's elements or a map's keys. As in CEL, an element whose predicate errors does not
 * decide: `exists` is true if any element is true even when others error; it is an error only if none is true.
 */
function compileQuantifier(isExists: boolean, rangeAst: ASTNode, variable: string, predicateAst: ASTNode, scope: Scope, unit: Compilation): Closure {
  const range = compileNode(rangeAst, scope, unit);
  const slot = unit.slots.length;
  unit.slots.push(undefined);
  const predicate = compileNode(predicateAst, new Map(scope).set(variable, slot), unit);
  const slots = unit.slots;
  const label = `${isExists ? 'exists' : 'all'}(var, predicate) predicate must return bool`;
  // Returns the decisive answer, or undefined to go on; records the first error in `failure`.
  let failure: Fault | undefined;
  const step = (item: unknown, context: Context): boolean | undefined => {
    slots[slot] = item;
    const value = predicate(context);
    if (value === isExists) return isExists;
    if (value !== !isExists) failure ??= value instanceof Fault ? value : new Fault(`${label}, got '${typeName(value)}'`);
    return undefined;
  };
  return (context) => {
    const items = range(context);
    if (items instanceof Fault) return items;
    failure = undefined;
    if (Array.isArray(items)) {
      for (const item of items) if (step(item, context) !== undefined) return isExists;
    } else if (typeof items === 'object' && items !== null && isPlainObject(items)) {
      // Members set to undefined are absent, as celValue drops them for the library.
      for (const key in items) if (hasOwn(items, key) && items[key] !== undefined && step(key, context) !== undefined) return isExists;
    } else if (items instanceof Map) {
      for (const key of items.keys()) if (step(key, context) !== undefined) return isExists;
    } else {
      throw FALLBACK;
    }
    const error = failure;
    failure = undefined;
    return error ?? !isExists;
  };
}

/** Closures for an expression, or undefined when it uses something they do not model. */
function compileClosures(ast: ASTNode, roots: ReadonlySet<string>): Closure | undefined {
  try {
    return compileNode(ast, new Map(), { slots: [], roots });
  } catch (error) {
    if (error === UNSUPPORTED) return undefined;
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Rules and decisions.

interface Rule {
  readonly policy: string;
  readonly expression: string;
  readonly action: RuleAction;
  readonly closures: Closure | undefined;
  readonly library: ParseResult;
  /** The decision this rule makes when it denies, built once. */
  readonly denial: AuthorizationDecision & { allowed: false };
}

const NO_ERRORS: readonly RuleEvaluationError[] = Object.freeze([]);
const ALLOWED: AuthorizationDecision = Object.freeze({ allowed: true, errors: NO_ERRORS });

const environments = new Map<string, Environment>();

/** One environment per set of root names: building one is the expensive part of the library. */
function environmentFor(variables: readonly string[]): Environment {
  const key = variables.join('\n');
  let environment = environments.get(key);
  if (environment === undefined) {
    // Mixed literal lists (`x in ["a", 1]`) are legal CEL in agentgateway, which does not type-check.
    environment = new Environment({ homogeneousAggregateLiterals: false });
    for (const name of variables) environment.registerVariable(name, 'map');
    environments.set(key, environment);
  }
  return environment;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return (error as Error & { summary?: string }).summary ?? error.message;
  return String(error);
}

function reasonFor(action: RuleAction, policy: string, expression: string): string {
  return action === 'Deny' ? `denied by ${policy}: ${expression}` : `required by ${policy} not met: ${expression}`;
}

function compileRule(source: RuleSource, expression: string, environment: Environment, roots: ReadonlySet<string>, interpreter: 'compiled' | 'library'): Rule {
  let library: ParseResult;
  try {
    library = environment.parse(expression);
  } catch (error) {
    throw new CelCompileError(source.policy, expression, messageOf(error));
  }
  // Type-checking once also spares the library from doing it at every evaluation.
  const check = library.check();
  if (!check.valid) throw new CelCompileError(source.policy, expression, messageOf(check.error));
  if (check.type !== 'bool' && check.type !== 'dyn') {
    throw new CelCompileError(source.policy, expression, `has type ${check.type}, but an authorization rule must be a bool`);
  }
  let closures: Closure | undefined;
  if (interpreter === 'compiled') {
    try {
      closures = compileClosures(library.ast, roots);
    } catch (error) {
      // A constant `matches` pattern the JS RegExp engine refuses would fail at every evaluation: say so now.
      throw new CelCompileError(source.policy, expression, messageOf(error));
    }
  }
  const denial = Object.freeze({
    allowed: false as const,
    action: source.action,
    policy: source.policy,
    expression,
    reason: reasonFor(source.action, source.policy, expression),
    errors: NO_ERRORS,
  });
  return { policy: source.policy, expression, action: source.action, closures, library, denial };
}

/** true, false, why the rule has no truth value, or FALLBACK: run it in the library. */
function run(rule: Rule, context: Context): boolean | string | typeof FALLBACK {
  if (rule.closures === undefined) return FALLBACK;
  try {
    return outcomeOf(rule.closures(context));
  } catch (error) {
    if (error !== FALLBACK) throw error;
    return FALLBACK;
  }
}

function runInLibrary(rule: Rule, converted: Context): boolean | string {
  try {
    return outcomeOf(rule.library(converted));
  } catch (error) {
    return messageOf(error);
  }
}

function outcomeOf(value: unknown): boolean | string {
  if (typeof value === 'boolean') return value;
  if (value instanceof Fault) return value.message;
  return `returned ${typeName(value)}, not bool`;
}

function failureOf(rule: Rule, error: string): RuleEvaluationError {
  return { policy: rule.policy, expression: rule.expression, error, action: rule.action };
}

function withErrors(decision: AuthorizationDecision, errors: RuleEvaluationError[] | undefined): AuthorizationDecision {
  if (errors === undefined) return decision;
  if (decision.allowed) return { allowed: true, errors };
  // Spelled out: spreading the frozen decision costs more than the whole rule evaluation.
  const { action, policy, expression, reason } = decision;
  return policy === undefined ? { allowed: false, action, reason, errors } : { allowed: false, action, policy, expression, reason, errors };
}

export class RuleSet {
  static readonly empty: RuleSet = new RuleSet([], [], [], '');

  readonly #deny: readonly Rule[];
  readonly #require: readonly Rule[];
  readonly #allow: readonly Rule[];
  readonly #noAllowMatched: AuthorizationDecision;

  private constructor(deny: Rule[], require: Rule[], allow: Rule[], allowPolicies: string) {
    this.#deny = deny;
    this.#require = require;
    this.#allow = allow;
    this.#noAllowMatched = Object.freeze({
      allowed: false,
      action: 'Allow',
      // The policies whose allow rules were not met, so a denial always names what refused it.
      policy: allowPolicies,
      reason: `no allow rule matched (allow policies: ${allowPolicies})`,
      errors: NO_ERRORS,
    });
  }

  /** Compiles every expression; throws CelCompileError (naming policy and expression) for the first that does not parse. */
  static compile(sources: readonly RuleSource[], options: RuleSetOptions = {}): RuleSet {
    const variables = options.variables ?? DEFAULT_VARIABLES;
    const environment = environmentFor(variables);
    const roots = new Set(variables);
    const interpreter = options.interpreter ?? 'compiled';
    const byAction: Record<RuleAction, Rule[]> = { Deny: [], Require: [], Allow: [] };
    for (const source of sources) {
      for (const expression of source.expressions) byAction[source.action].push(compileRule(source, expression, environment, roots, interpreter));
    }
    const allowPolicies = [...new Set(byAction.Allow.map((rule) => rule.policy))].join(', ');
    return new RuleSet(byAction.Deny, byAction.Require, byAction.Allow, allowPolicies);
  }

  get size(): number {
    return this.#deny.length + this.#require.length + this.#allow.length;
  }

  /**
   * Decide one request. `context` is the attribute object as JSON (or already through `celContext`). The compiled
   * rules read it as it is: in what they evaluate, a JSON integer and a CEL int give the same answers. A rule that
   * needs the library gets a `celContext` copy, made at most once per call.
   */
  evaluate(context: Record<string, unknown>): AuthorizationDecision {
    let errors: RuleEvaluationError[] | undefined;
    let converted: Context | undefined;
    for (const rule of this.#deny) {
      let outcome = run(rule, context);
      if (outcome === FALLBACK) outcome = runInLibrary(rule, (converted ??= celContext(context)));
      if (outcome === true) return withErrors(rule.denial, errors);
      if (outcome !== false) (errors ??= []).push(failureOf(rule, outcome));
    }
    for (const rule of this.#require) {
      let outcome = run(rule, context);
      if (outcome === FALLBACK) outcome = runInLibrary(rule, (converted ??= celContext(context)));
      if (outcome === true) continue;
      if (outcome !== false) (errors ??= []).push(failureOf(rule, outcome));
      return withErrors(rule.denial, errors);
    }
    if (this.#allow.length === 0) return withErrors(ALLOWED, errors);
    for (const rule of this.#allow) {
      let outcome = run(rule, context);
      if (outcome === FALLBACK) outcome = runInLibrary(rule, (converted ??= celContext(context)));
      if (outcome === true) return withErrors(ALLOWED, errors);
      if (outcome !== false) (errors ??= []).push(failureOf(rule, outcome));
    }
    return withErrors(this.#noAllowMatched, errors);
  }
}
