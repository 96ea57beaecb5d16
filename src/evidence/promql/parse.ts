// PromQL text → syntax tree, through the Prometheus project's own grammar (@prometheus-io/lezer-promql), then the
// checks Prometheus' parser makes (argument types, bool only on comparisons, matching only between vectors, …).
// Every error names its position; every construct the evaluator lacks is refused here by name, before evaluation.
import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';
import { newMatcher, UnsupportedRegexError, type Matcher, type MatchType } from '../tsdb/index.ts';
import { COMPARISON_OPS, FUNCTIONS, SET_OPS, typeOf, type AggregateOp, type BinaryOp, type Expr, type ValueType, type VectorMatching, type VectorSelector } from './ast.ts';
import { parseError, unsupported, type Position } from './errors.ts';

const TYPE_NAMES: Record<ValueType, string> = { scalar: 'scalar', vector: 'instant vector', matrix: 'range vector', string: 'string' };

const BINARY_OPS: Record<string, BinaryOp> = {
  Pow: '^', Mul: '*', Div: '/', Mod: '%', Add: '+', Sub: '-', Atan2: 'atan2',
  Eql: '==', Neq: '!=', Gtr: '>', Lss: '<', Gte: '>=', Lte: '<=',
  And: 'and', Or: 'or', Unless: 'unless',
};

const AGGREGATE_OPS: Record<string, AggregateOp> = {
  Sum: 'sum', Avg: 'avg', Min: 'min', Max: 'max', Count: 'count', Group: 'group', Topk: 'topk', Bottomk: 'bottomk', Stddev: 'stddev', Stdvar: 'stdvar', Quantile: 'quantile',
};
const PARAMETRIC: ReadonlySet<AggregateOp> = new Set(['topk', 'bottomk', 'quantile']);

const MATCH_OPS: Record<string, MatchType> = { EqlSingle: '=', Neq: '!=', EqlRegex: '=~', NeqRegex: '!~' };

export function parseExpr(source: string): Expr {
  return new Parser(source).parse();
}

class Parser {
  constructor(private readonly source: string) {}

  parse(): Expr {
    const tree = parser.parse(this.source);
    let firstError: SyntaxNode | undefined;
    tree.iterate({
      enter: (node) => {
        if (firstError) return false;
        if (node.type.isError) firstError = node.node;
        return undefined;
      },
    });
    if (firstError) {
      const at = firstError.from;
      const text = this.source.slice(at, Math.max(firstError.to, at + 1)).trim();
      throw parseError(this.source, { from: at, to: firstError.to }, at >= this.source.trimEnd().length || text === '' ? 'unexpected end of input' : `unexpected ${JSON.stringify(text)}`);
    }
    const top = this.exprChildren(tree.topNode);
    if (top.length === 0) throw parseError(this.source, { from: 0, to: 0 }, 'no expression found in input');
    return this.expr(top[0]!);
  }

  private text(node: SyntaxNode): string {
    return this.source.slice(node.from, node.to);
  }

  private pos(node: SyntaxNode): Position {
    return { from: node.from, to: node.to };
  }

  private fail(node: SyntaxNode | Position, problem: string): never {
    throw parseError(this.source, 'type' in node ? this.pos(node) : node, problem);
  }

  private refuse(node: SyntaxNode, construct: string): never {
    throw unsupported(this.source, this.pos(node), construct);
  }

  private children(node: SyntaxNode): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let child = node.firstChild; child; child = child.nextSibling) if (child.name !== 'LineComment') out.push(child);
    return out;
  }

  private exprChildren(node: SyntaxNode): SyntaxNode[] {
    return this.children(node).filter((child) => EXPR_NODES.has(child.name));
  }

  /**
   * lezer's PromQL grammar (written for the editor) gives the postfix modifiers `[range]`, `offset`, `@` and
   * subqueries the lowest precedence: it reads `a unless b offset 10m` as `(a unless b) offset 10m`. Prometheus'
   * own parser binds them to the operand right before them, so they are pushed down here to the rightmost operand
   * of a binary or unary expression, and applied to it innermost first.
   */
  private expr(node: SyntaxNode, postfix: SyntaxNode[] = []): Expr {
    switch (node.name) {
      case 'OffsetExpr':
      case 'MatrixSelector':
      case 'SubqueryExpr':
      case 'StepInvariantExpr':
      case 'AnchoredExpr':
      case 'SmoothedExpr':
        return this.expr(this.children(node)[0]!, [node, ...postfix]);
      case 'BinaryExpr':
        return this.binary(node, postfix);
      case 'UnaryExpr':
        return this.unary(node, postfix);
    }
    let result = this.primary(node);
    for (const modifier of postfix) result = this.applyPostfix(result, modifier, node.name === 'ParenExpr');
    return result;
  }

  private primary(node: SyntaxNode): Expr {
    switch (node.name) {
      case 'NumberDurationLiteral':
        return { kind: 'number', value: this.number(node), pos: this.pos(node) };
      case 'StringLiteral':
        return { kind: 'string', value: this.string(node), pos: this.pos(node) };
      case 'ParenExpr': {
        const inner = this.exprChildren(node);
        if (inner.length !== 1) this.fail(node, 'expected one expression in parentheses');
        return this.expr(inner[0]!);
      }
      case 'VectorSelector':
        return this.vectorSelector(node, 0);
      case 'FunctionCall':
        return this.call(node);
      case 'AggregateExpr':
        return this.aggregate(node);
      default:
        return this.refuse(node, `the construct ${node.name}`);
    }
  }

  private applyPostfix(target: Expr, modifier: SyntaxNode, parenthesised: boolean): Expr {
    const pos = { from: target.pos.from, to: modifier.to };
    const parts = this.children(modifier);
    switch (modifier.name) {
      case 'MatrixSelector': {
        if (target.kind !== 'vector' || parenthesised) return this.fail(pos, 'ranges only allowed for vector selectors');
        if (target.offsetMs !== 0) return this.fail(pos, 'no offset modifiers allowed before range');
        const rangeMs = this.duration(parts[parts.length - 1]!);
        if (rangeMs <= 0) this.fail(parts[parts.length - 1]!, 'range must be greater than zero');
        return { kind: 'matrix', selector: target, rangeMs, pos };
      }
      case 'OffsetExpr': {
        const offsetMs = this.duration(parts[parts.length - 1]!);
        if (parenthesised || (target.kind !== 'vector' && target.kind !== 'matrix')) return this.fail(pos, 'offset modifier must be preceded by an instant vector selector or range vector selector or a subquery');
        const selector = target.kind === 'vector' ? target : target.selector;
        if (selector.offsetMs !== 0) return this.fail(pos, 'offset may not be set multiple times');
        const moved: VectorSelector = { ...selector, offsetMs };
        return target.kind === 'vector' ? { ...moved, pos } : { ...target, selector: moved, pos };
      }
      case 'SubqueryExpr':
        return this.refuse(modifier, 'a subquery');
      case 'StepInvariantExpr':
        return this.refuse(modifier, 'the @ modifier');
      default:
        return this.refuse(modifier, `the ${modifier.name} modifier`);
    }
  }

  private number(node: SyntaxNode): number {
    const text = this.text(node);
    const lower = text.toLowerCase();
    if (lower === 'inf' || lower === '+inf') return Infinity;
    if (lower === '-inf') return -Infinity;
    if (lower === 'nan') return NaN;
    if (/^0x[0-9a-f]+$/i.test(text)) return Number.parseInt(text.slice(2), 16);
    if (/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return Number(text);
    const duration = parseDurationMs(text);
    if (duration !== undefined) return duration / 1000;
    return this.fail(node, `bad number or duration syntax: ${JSON.stringify(text)}`);
  }

  private string(node: SyntaxNode): string {
    const value = unquote(this.text(node));
    if (value === undefined) this.fail(node, `invalid string literal ${this.text(node)}`);
    return value;
  }

  /** A range or offset: only a plain duration; Prometheus 3's duration arithmetic is refused. */
  private duration(node: SyntaxNode): number {
    if (node.name === 'OffsetDurationExpr' || node.name === 'DurationExpr') {
      const parts = this.children(node);
      if (parts.length === 2 && parts[0]!.name === 'UnaryOp' && node.name === 'OffsetDurationExpr') {
        const sign = this.text(parts[0]!) === '-' ? -1 : 1;
        return sign * this.duration(parts[1]!);
      }
      if (parts.length === 1) return this.duration(parts[0]!);
      return this.refuse(node, 'a duration expression');
    }
    if (node.name === 'NumberDurationLiteralInDurationContext' || node.name === 'NumberDurationLiteral') {
      const text = this.text(node);
      const ms = parseDurationMs(text) ?? (/^\d+(\.\d+)?$/.test(text) ? Math.round(Number(text) * 1000) : undefined);
      if (ms === undefined) this.fail(node, `bad duration syntax: ${JSON.stringify(text)}`);
      return ms;
    }
    return this.refuse(node, `the duration form ${node.name}`);
  }

  private vectorSelector(node: SyntaxNode, offsetMs: number): VectorSelector {
    const matchers: Matcher[] = [];
    let metricName: string | undefined;
    for (const child of this.children(node)) {
      if (child.name === 'Identifier') {
        metricName = this.text(child);
        matchers.push(newMatcher('=', '__name__', metricName));
      } else if (child.name === 'LabelMatchers') {
        for (const matcherNode of this.children(child)) {
          if (matcherNode.name !== 'UnquotedLabelMatcher') this.refuse(matcherNode, 'a quoted label or metric name');
          const [nameNode, opNode, valueNode] = this.children(matcherNode);
          const name = this.text(nameNode!);
          const type = MATCH_OPS[opNode!.firstChild?.name ?? ''] ?? this.fail(opNode!, `unknown match operator ${this.text(opNode!)}`);
          const value = this.string(valueNode!);
          if (name === '__name__' && metricName !== undefined && type === '=') this.fail(matcherNode, `metric name must not be set twice: ${JSON.stringify(metricName)} or ${JSON.stringify(value)}`);
          try {
            matchers.push(newMatcher(type, name, value));
          } catch (error) {
            if (error instanceof UnsupportedRegexError) this.fail(valueNode!, `invalid regular expression: ${error.message}`);
            throw error;
          }
        }
      } else this.fail(child, `unexpected ${child.name} in a selector`);
    }
    if (!matchers.some((matcher) => !matcher.matches(''))) this.fail(node, 'vector selector must contain at least one non-empty matcher');
    return { kind: 'vector', matchers, offsetMs, pos: this.pos(node) };
  }

  private call(node: SyntaxNode): Expr {
    const [identifier, body] = this.children(node);
    const name = this.text(identifier!);
    const signature = FUNCTIONS[name];
    if (!signature) return this.refuse(identifier!, `the function ${JSON.stringify(name)}`);
    const args = body ? this.exprChildren(body).map((arg) => this.expr(arg)) : [];
    const required = signature.args.length - (signature.optional ?? 0);
    if (args.length < required || args.length > signature.args.length) {
      const wanted = signature.optional ? `${required} to ${signature.args.length}` : String(signature.args.length);
      this.fail(node, `expected ${wanted} argument(s) in call to ${JSON.stringify(name)}, got ${args.length}`);
    }
    args.forEach((arg, index) => {
      const wanted = signature.args[index]!;
      const got = typeOf(arg);
      if (got !== wanted) this.fail(arg.pos, `expected type ${TYPE_NAMES[wanted]} in call to function ${JSON.stringify(name)}, got ${TYPE_NAMES[got]}`);
    });
    return { kind: 'call', func: name, args, pos: this.pos(node) };
  }

  private aggregate(node: SyntaxNode): Expr {
    let op: AggregateOp | undefined;
    let grouping: string[] = [];
    let without = false;
    let args: Expr[] = [];
    for (const child of this.children(node)) {
      if (child.name === 'AggregateOp') {
        const opName = child.firstChild?.name ?? '';
        op = AGGREGATE_OPS[opName] ?? this.refuse(child, `the aggregation ${JSON.stringify(this.text(child))}`);
      } else if (child.name === 'AggregateModifier') {
        for (const part of this.children(child)) {
          if (part.name === 'Without') without = true;
          else if (part.name === 'GroupingLabels') grouping = this.groupingLabels(part);
        }
      } else if (child.name === 'FunctionCallBody') {
        args = this.exprChildren(child).map((arg) => this.expr(arg));
      }
    }
    if (!op) return this.fail(node, 'expected an aggregation operator');
    const wanted = PARAMETRIC.has(op) ? 2 : 1;
    if (args.length !== wanted) this.fail(node, `wrong number of arguments for aggregate expression provided, expected ${wanted}, got ${args.length}`);
    const expr = args[wanted - 1]!;
    if (typeOf(expr) !== 'vector') this.fail(expr.pos, `expected type instant vector in aggregation expression, got ${TYPE_NAMES[typeOf(expr)]}`);
    const param = wanted === 2 ? args[0] : undefined;
    if (param && typeOf(param) !== 'scalar') this.fail(param.pos, `expected type scalar in aggregation parameter, got ${TYPE_NAMES[typeOf(param)]}`);
    return { kind: 'aggregate', op, expr, ...(param ? { param } : {}), grouping, without, pos: this.pos(node) };
  }

  private groupingLabels(node: SyntaxNode): string[] {
    return this.children(node).map((label) => (label.name === 'LabelName' ? this.text(label) : this.refuse(label, 'a quoted label name')));
  }

  private binary(node: SyntaxNode, postfix: SyntaxNode[]): Expr {
    const parts = this.children(node);
    const lhsNode = parts[0]!;
    const rhsNode = parts[parts.length - 1]!;
    const opNode = parts[1]!;
    const op = BINARY_OPS[opNode.name] ?? this.refuse(opNode, `the operator ${JSON.stringify(this.text(opNode))}`);
    let returnBool = false;
    let card: VectorMatching['card'] = 'one-to-one';
    let on = false;
    let labels: string[] = [];
    let include: string[] = [];
    let matchingGiven = false;
    for (const part of parts.slice(2, -1)) {
      if (part.name === 'BoolModifier') returnBool = true;
      else if (part.name === 'MatchingModifierClause') {
        matchingGiven = true;
        let sawGroup = false;
        for (const clause of this.children(part)) {
          if (clause.name === 'On') on = true;
          else if (clause.name === 'Ignoring') on = false;
          else if (clause.name === 'GroupLeft' || clause.name === 'GroupRight') {
            card = clause.name === 'GroupLeft' ? 'many-to-one' : 'one-to-many';
            sawGroup = true;
          } else if (clause.name === 'GroupingLabels') {
            if (sawGroup) include = this.groupingLabels(clause);
            else labels = this.groupingLabels(clause);
          } else this.refuse(clause, `the matching modifier ${JSON.stringify(this.text(clause))}`);
        }
      } else this.refuse(part, `the binary-operator modifier ${JSON.stringify(this.text(part))}`);
    }
    const lhs = this.expr(lhsNode);
    const rhs = this.expr(rhsNode, postfix);
    const opPos = this.pos(opNode);
    const lt = typeOf(lhs);
    const rt = typeOf(rhs);
    const comparison = COMPARISON_OPS.has(op);
    const setOp = SET_OPS.has(op);
    if (returnBool && !comparison) this.fail(opPos, 'bool modifier can only be used on comparison operators');
    if (comparison && !returnBool && lt === 'scalar' && rt === 'scalar') this.fail(opPos, 'comparisons between scalars must use BOOL modifier');
    if (on) for (const label of labels) if (include.includes(label)) this.fail(opPos, `label ${JSON.stringify(label)} must not occur in ON and GROUP clause at once`);
    if (lt !== 'scalar' && lt !== 'vector') this.fail(lhs.pos, 'binary expression must contain only scalar and instant vector types');
    if (rt !== 'scalar' && rt !== 'vector') this.fail(rhs.pos, 'binary expression must contain only scalar and instant vector types');
    if ((lt === 'scalar' || rt === 'scalar') && setOp) this.fail(node, `set operator ${JSON.stringify(op)} not allowed in binary scalar expression`);
    if (lt !== 'vector' || rt !== 'vector') {
      if (matchingGiven && (labels.length > 0 || card !== 'one-to-one')) this.fail(node, 'vector matching only allowed between instant vectors');
      return { kind: 'binary', op, lhs, rhs, returnBool, pos: this.pos(node) };
    }
    if (setOp) {
      if (card !== 'one-to-one') this.fail(node, `no grouping allowed for ${JSON.stringify(op)} operation`);
      card = 'many-to-many';
    }
    return { kind: 'binary', op, lhs, rhs, returnBool, matching: { card, on, labels, include }, pos: this.pos(node) };
  }

  private unary(node: SyntaxNode, postfix: SyntaxNode[]): Expr {
    const [opNode, exprNode] = this.children(node);
    const expr = this.expr(exprNode!, postfix);
    const type = typeOf(expr);
    if (type !== 'scalar' && type !== 'vector') this.fail(node, 'unary expression only allowed on expressions of type scalar or instant vector');
    return { kind: 'unary', op: this.text(opNode!) === '-' ? '-' : '+', expr, pos: this.pos(node) };
  }
}

const EXPR_NODES: ReadonlySet<string> = new Set([
  'NumberDurationLiteral', 'StringLiteral', 'ParenExpr', 'VectorSelector', 'MatrixSelector', 'OffsetExpr', 'FunctionCall', 'AggregateExpr',
  'BinaryExpr', 'UnaryExpr', 'SubqueryExpr', 'StepInvariantExpr', 'AnchoredExpr', 'SmoothedExpr',
]);

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };
const UNIT_ORDER = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];

/** Prometheus' duration syntax (`1h30m`, `500ms`): units in descending order, each at most once. */
export function parseDurationMs(text: string): number | undefined {
  const parts = [...text.matchAll(/(\d+)(ms|y|w|d|h|m|s)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text) return undefined;
  let total = 0;
  let last = -1;
  for (const [, amount, unit] of parts) {
    const order = UNIT_ORDER.indexOf(unit!);
    if (order <= last) return undefined;
    last = order;
    total += Number(amount) * UNIT_MS[unit!]!;
  }
  return total;
}

/** Go's strconv.Unquote for PromQL's three quote styles. */
export function unquote(text: string): string | undefined {
  const quote = text[0];
  if (text.length < 2 || text[text.length - 1] !== quote) return undefined;
  const body = text.slice(1, -1);
  if (quote === '`') return body.includes('`') ? undefined : body;
  if (quote !== '"' && quote !== "'") return undefined;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const char = body[i]!;
    if (char === quote || char === '\n') return undefined;
    if (char !== '\\') {
      out += char;
      continue;
    }
    const next = body[++i];
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };
    if (next === undefined) return undefined;
    if (next in simple) {
      if ((next === '"' && quote !== '"') || (next === "'" && quote !== "'")) return undefined;
      out += simple[next];
      continue;
    }
    const hexLength = next === 'x' ? 2 : next === 'u' ? 4 : next === 'U' ? 8 : 0;
    if (hexLength > 0) {
      const hex = body.slice(i + 1, i + 1 + hexLength);
      if (!new RegExp(`^[0-9a-fA-F]{${hexLength}}$`).test(hex)) return undefined;
      out += String.fromCodePoint(Number.parseInt(hex, 16));
      i += hexLength;
      continue;
    }
    if (/[0-7]/.test(next)) {
      const octal = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(octal)) return undefined;
      out += String.fromCharCode(Number.parseInt(octal, 8));
      i += 2;
      continue;
    }
    return undefined;
  }
  return out;
}
