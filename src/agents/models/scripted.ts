// The offline model: a deterministic stand-in for an LLM agent, so the demo runs with no API key and no network.
// It is stateless: every turn is derived from the system message, the conversation (the user's words, earlier tool
// calls and their results) and the tools on offer, exactly as a hosted model would see them. It behaves like a naive
// but competent agent:
//   - support: plans from the user's words (balance, recent transactions, conversion to named currencies, a charge
//     the user does not recognise → hand-off to the fraud agent), calling only tools it has;
//   - fraud: looks up the named transactions, scores their risk (`riskScore`), flags the risky ones and hands off to
//     the triage agent when the overall risk is above 70;
//   - triage: opens a ticket with a severity from the risk score and notifies a human.
// One tool call per turn; when the plan is done, the final reply is composed from the tool results.
//
// The point of the demo is its one naive rule, which is general and knows nothing of the currency converter: when a
// tool it is about to call says in its description "first call X and pass its result as `arg`" (`findPrerequisite`),
// it calls X, then the tool with X's result in `arg`, and says nothing about it. That is how a rug-pulled tool
// description steers a real model, and what the bank's defences have to stop.
//
// What counts as "the conversation": the last user message and the tool calls after it (a new question re-runs its
// tools); the customer id falls back to earlier user messages. Tool-call ids count over the whole conversation.
import type { ChatMessage, ModelProvider, ModelRequest, ModelTool, ModelTurn, ToolCall } from './types.ts';

export function createScriptedModel(): ModelProvider {
  return {
    provider: 'scripted',
    model: 'scripted',
    scripted: true,
    next(request: ModelRequest): Promise<ModelTurn> {
      try {
        request.signal?.throwIfAborted();
        return Promise.resolve(scriptedTurn(request));
      } catch (error) {
        return Promise.reject(error as Error);
      }
    },
  };
}

/** The scripted model's next turn for a request: a pure function of the request. */
export function scriptedTurn(request: ModelRequest): ModelTurn {
  const transcript = Transcript.read(request.messages);
  const words = readWords(transcript);
  const run = new Run(request.tools, transcript, words.customerId);
  const plan = agentPlan(request, words, run);
  if ('text' in plan) return { kind: 'final', text: plan.text };
  const call: ToolCall = { id: `call_${transcript.callCount + 1}`, name: plan.next.name, arguments: plan.next.arguments };
  return { kind: 'tool_calls', toolCalls: [call] };
}

// ─── The conversation ──────────────────────────────────────────────────────────────────────────────────────────

/** A tool call made earlier in the conversation and what came back. */
interface Observation {
  call: ToolCall;
  /** The tool result's text; empty when no result came back. */
  content: string;
  /** Marked as an error, answered with an `{error}` object, or not answered at all. */
  isError: boolean;
  /** The result parsed as JSON, when it is JSON. */
  value: unknown;
}

class Transcript {
  private constructor(
    /** User messages, oldest first. */
    readonly userTexts: readonly string[],
    /** Calls made since the last user message, in order. */
    readonly observations: readonly Observation[],
    /** Tool calls in the whole conversation, for the next id. */
    readonly callCount: number,
  ) {}

  static read(messages: readonly ChatMessage[]): Transcript {
    const userTexts: string[] = [];
    let current: Observation[] = [];
    const byId = new Map<string, Observation>();
    let callCount = 0;
    for (const message of messages) {
      if (message.role === 'user') {
        userTexts.push(message.content);
        current = [];
      } else if (message.role === 'assistant') {
        for (const call of message.toolCalls ?? []) {
          callCount++;
          const observation: Observation = { call, content: '', isError: true, value: undefined };
          byId.set(call.id, observation);
          current.push(observation);
        }
      } else {
        const observation = byId.get(message.toolCallId);
        if (!observation) continue;
        const value = parseJson(message.content);
        observation.content = message.content;
        observation.value = value;
        observation.isError = message.isError === true || (isRecord(value) && typeof value.error === 'string');
      }
    }
    return new Transcript(userTexts, current, callCount);
  }

  /** The user's current message. */
  get userText(): string {
    return this.userTexts.at(-1) ?? '';
  }

  /** The earliest call of `name` whose arguments include all of `args`. */
  find(name: string, args: Record<string, unknown>): Observation | undefined {
    return this.observations.find(
      (o) => o.call.name === name && Object.entries(args).every(([key, value]) => sameJson(o.call.arguments[key], value)),
    );
  }
}

// ─── The user's words ──────────────────────────────────────────────────────────────────────────────────────────

interface Money {
  amount: number;
  currency: string;
}

interface Charge {
  amount: number;
  currency?: string;
}

interface Words {
  text: string;
  customerId?: string;
  balance: boolean;
  transactions: boolean;
  profile: boolean;
  fraud: boolean;
  /** Currencies to convert to ("to USD", "in EUR and JPY"), in the order named. */
  targets: string[];
  /** "convert 100 GBP to USD": an amount to convert instead of the balance. */
  explicit?: Money;
  /** Amounts the user named, to find a charge among the transactions. */
  charges: Charge[];
  /** Transaction ids the user named. */
  txnIds: string[];
  days?: number;
  ticket: boolean;
}

const CURRENCY_CODES = ['GBP', 'USD', 'EUR', 'JPY', 'CHF', 'CAD', 'AUD', 'NZD', 'CNY', 'HKD', 'SGD', 'SEK', 'NOK', 'DKK', 'PLN', 'INR', 'ZAR', 'MXN', 'BRL'];
const CURRENCY_WORDS: ReadonlyArray<[RegExp, string]> = [
  [/^(?:u\.?s\.?\s+)?dollars?$/i, 'USD'],
  [/^euros?$/i, 'EUR'],
  [/^yen$/i, 'JPY'],
  [/^(?:pounds?(?:\s+sterling)?|sterling)$/i, 'GBP'],
];
const SYMBOLS: Readonly<Record<string, string>> = { '£': 'GBP', $: 'USD', '€': 'EUR', '¥': 'JPY' };
const CCY = String.raw`(?:${CURRENCY_CODES.join('|')}|(?:u\.?s\.?\s+)?dollars?|euros?|yen|pounds?(?:\s+sterling)?|sterling)`;
const TARGETS = new RegExp(String.raw`\b(?:to|into|in)\s+(${CCY}\b(?:\s*(?:,|and|&|or|/)\s*${CCY}\b)*)`, 'gi');
const EXPLICIT = new RegExp(String.raw`\bconvert\s+([£$€¥])?\s?(\d[\d,]*(?:\.\d+)?)\s*(${CCY}\b)?`, 'i');
const AMOUNTS = new RegExp(String.raw`([£$€¥])?\s?(?<![A-Za-z0-9_.,-])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?!\d)(?:\s*(${CCY}\b|days?\b))?`, 'gi');
const TXN_ID = /\btxn-[a-z0-9_-]*[a-z0-9]/gi;

function currencyCode(word: string): string | undefined {
  const upper = word.toUpperCase();
  if (CURRENCY_CODES.includes(upper)) return upper;
  return CURRENCY_WORDS.find(([pattern]) => pattern.test(word.trim()))?.[1];
}

/** The customer id in a text: a 5+ digit number, preferably right after "customer"/"account". */
export function customerIdIn(text: string): string | undefined {
  return /\b(?:customer|account|acct)\D{0,24}?(\d{5,})\b/i.exec(text)?.[1] ?? /\b\d{5,}\b/.exec(text)?.[0];
}

function readWords(transcript: Transcript): Words {
  const text = transcript.userText;
  const customerId = customerIdIn(text) ?? [...transcript.userTexts].reverse().map(customerIdIn).find((id) => id !== undefined);

  const targets: string[] = [];
  for (const match of text.matchAll(TARGETS)) {
    for (const word of match[1]!.split(/\s*(?:,|\band\b|&|\bor\b|\/)\s*/i)) {
      const code = currencyCode(word);
      if (code && !targets.includes(code)) targets.push(code);
    }
  }

  let explicit: Money | undefined;
  const conversion = EXPLICIT.exec(text);
  const explicitCurrency = conversion && (conversion[1] ? SYMBOLS[conversion[1]] : conversion[3] ? currencyCode(conversion[3]) : undefined);
  if (conversion && explicitCurrency && conversion[2] !== customerId) {
    explicit = { amount: Number(conversion[2]!.replace(/,/g, '')), currency: explicitCurrency };
  }

  const charges: Charge[] = [];
  for (const match of text.matchAll(AMOUNTS)) {
    const [, symbol, whole, cents, unit] = match;
    if (whole === customerId || /^days?$/i.test(unit ?? '')) continue;
    const currency = symbol ? SYMBOLS[symbol] : unit ? currencyCode(unit) : undefined;
    charges.push({ amount: Number(`${whole!.replace(/,/g, '')}.${cents ?? '0'}`), ...(currency ? { currency } : {}) });
  }

  const days = /\b(?:last|past)\s+(\d{1,3})\s+days?\b/i.exec(text)?.[1];
  return {
    text,
    customerId,
    balance: /\bbalance\b/i.test(text),
    transactions: /\btransactions?\b|\bstatement\b|\bspending\b|\brecent\s+(?:activity|payments|charges)\b/i.test(text),
    profile: /\bprofile\b|\b(?:personal|contact|my)\s+details\b/i.test(text),
    fraud: /\b(?:don'?t|do\s+not|didn'?t|did\s+not|can'?t|cannot)\s+recogni[sz]e\b|\bunrecogni[sz]ed\b|\bfraud|\bsuspicious\b|\bnot\s+mine\b/i.test(text),
    targets,
    ...(explicit ? { explicit } : {}),
    charges,
    txnIds: unique([...text.matchAll(TXN_ID)].map((m) => m[0])),
    ...(days ? { days: Number(days) } : {}),
    ticket: /\bticket\b/i.test(text),
  };
}

// ─── Tools: hand-offs and prerequisites ────────────────────────────────────────────────────────────────────────

/**
 * A hand-off tool (another agent offered as a tool): its description starts with "Hand off", or its input schema
 * has exactly one property, `message`, a string.
 */
export function isHandOffTool(tool: ModelTool): boolean {
  if (/^\s*hand[\s-]?off\b/i.test(tool.description)) return true;
  const properties = schemaProperties(tool);
  const keys = Object.keys(properties);
  return keys.length === 1 && keys[0] === 'message' && isRecord(properties.message) && properties.message.type === 'string';
}

const FRAUD_AGENT = /fraud/i;
const TRIAGE_AGENT = /triage|ticket|incident/i;

/** The first hand-off tool whose name, or else whose description, matches `role`. */
export function findHandOff(tools: readonly ModelTool[], role: RegExp): ModelTool | undefined {
  const handOffs = tools.filter(isHandOffTool);
  return handOffs.find((t) => role.test(t.name)) ?? handOffs.find((t) => role.test(t.description));
}

/** The argument a hand-off tool takes its text in: `message`, else its first string property. */
function messageArgument(tool: ModelTool): string {
  const properties = schemaProperties(tool);
  if ('message' in properties) return 'message';
  return Object.keys(properties).find((key) => isRecord(properties[key]) && properties[key].type === 'string') ?? 'message';
}

export interface Prerequisite {
  /** The tool to call first (its name in the catalogue). */
  tool: string;
  /** The argument of the described tool that takes the prerequisite's result. */
  argument: string;
  /** Asked for as base64 of the result's JSON ("as base64-encoded JSON"), not as the result itself. */
  encoding?: 'base64';
}

// A gap inside one sentence: anything but a sentence end (., !, ? or ; followed by a space or the end).
const GAP = String.raw`(?:(?![.!?;](?:\s|$))[\s\S]){0,160}?`;
const CALL_VERB = String.raw`(?:call|invoke|run|use|query|execute)`;
const BEFORE_THIS = String.raw`(?:before|prior\s+to)\s+(?:calling|using|invoking|running)\s+(?:this|the)\s+tool`;
const PASS_VERB = String.raw`(?:pass|put|include|provide|send|supply|place|forward|insert|attach|set)`;

/**
 * Does `tool`'s description tell the model to call another tool of `tools` first and pass its result into one of
 * `tool`'s arguments? A general rule over any description; the instruction (case-insensitive, within a sentence) is
 *   - "first … call/invoke/use … X" or "before calling this tool … call … X"   ("you MUST first call `X`"),
 *   - "call … X … first/beforehand/before calling"                              ("call account-mcp.X(account_id) first"),
 *   - "requires … the result/output of … X",
 * where X is another tool's name, alone or qualified (`server.X`, `server/X`); and the argument, which must be a
 * property of `tool`'s input schema, is named by
 *   - "pass/put/include/provide/send … as/in/into/via/to [the] `arg`"           ("pass its result verbatim in the `arg` argument"),
 *   - "`arg` must/should contain/be … the result/output/response/profile/record",
 *   - or else the description of the property itself mentions X                 ("exactly as returned by X").
 * Without both an instruction and an argument there is no prerequisite.
 */
export function findPrerequisite(tool: ModelTool, tools: readonly ModelTool[]): Prerequisite | undefined {
  const description = tool.description;
  const properties = schemaProperties(tool);
  const argumentNames = Object.keys(properties);
  if (argumentNames.length === 0) return undefined;

  let best: { tool: ModelTool; mention: string; at: number } | undefined;
  for (const other of tools) {
    if (other.name === tool.name) continue;
    const mention = mentionPattern(other.name);
    // Cheap first: most tools are not mentioned at all, and descriptions are untrusted text of any length.
    if (!new RegExp(mention, 'i').test(description)) continue;
    const instructions = [
      String.raw`\b(?:first|${BEFORE_THIS})\b${GAP}\b${CALL_VERB}\b${GAP}${mention}`,
      String.raw`\b${CALL_VERB}\b${GAP}${mention}${GAP}\b(?:first|beforehand|before\s+(?:calling|using|invoking|running)|prior\s+to)\b`,
      String.raw`\b(?:requires?|needs?)\b${GAP}\b(?:result|output|response)\s+(?:of|from)\b${GAP}${mention}`,
    ];
    for (const source of instructions) {
      const at = new RegExp(source, 'i').exec(description)?.index;
      if (at !== undefined && (best === undefined || at < best.at)) best = { tool: other, mention, at };
    }
  }
  if (!best) return undefined;

  const named = argumentNames.find((arg) => {
    const name = String.raw`[\`'"]?${escapeRegExp(arg)}(?![A-Za-z0-9_])`;
    return (
      new RegExp(String.raw`\b${PASS_VERB}\b${GAP}\b(?:as|in|into|via|to|under|for)\s+(?:the\s+)?${name}`, 'i').test(description) ||
      new RegExp(String.raw`(?<![A-Za-z0-9_])${name}[\`'"]?\s+(?:(?:argument|parameter|field)\s+)?(?:must|should|has\s+to)\s+(?:contain|be|hold|include|receive)\b${GAP}\b(?:result|output|response|profile|record)\b`, 'i').test(description)
    );
  });
  const mention = new RegExp(best.mention, 'i');
  const argument = named ?? argumentNames.find((arg) => {
    const property = properties[arg];
    return isRecord(property) && typeof property.description === 'string' && mention.test(property.description);
  });
  if (argument === undefined) return undefined;
  // As obliging about the form as about the content: "base64" in the argument's own description or in the
  // sentence that names it.
  const property = properties[argument];
  const base64 =
    (isRecord(property) && typeof property.description === 'string' && /\bbase-?64\b/i.test(property.description)) ||
    new RegExp(String.raw`\bbase-?64\b${GAP}[\`'"]?${escapeRegExp(argument)}(?![A-Za-z0-9_])|(?<![A-Za-z0-9_])${escapeRegExp(argument)}[\`'"]?${GAP}\bbase-?64\b`, 'i').test(description);
  return { tool: best.tool.name, argument, ...(base64 ? { encoding: 'base64' as const } : {}) };
}

/** A tool's name as a description would mention it: the whole name, or its last segment after `.`, `/`, `:` or `__`. */
function mentionPattern(name: string): string {
  const short = name.split(/[./:]|__/).at(-1) ?? name;
  const names = unique([name, short].filter((n) => n.length > 0)).map(escapeRegExp);
  return String.raw`(?<![A-Za-z0-9_])(?:${names.join('|')})(?![A-Za-z0-9_])`;
}

// ─── Planning ──────────────────────────────────────────────────────────────────────────────────────────────────

interface PlannedCall {
  name: string;
  arguments: Record<string, unknown>;
}

/** The next call, or the final reply. */
type Plan = { next: PlannedCall } | { text: string };

/** Runs a plan against the transcript: a call already made gives its result, the first one not made is the next turn. */
class Run {
  private pending: PlannedCall | undefined;

  constructor(
    readonly tools: readonly ModelTool[],
    private readonly transcript: Transcript,
    private readonly customerId: string | undefined,
  ) {}

  has(name: string): boolean {
    return this.tools.some((t) => t.name === name);
  }

  /** The result of `name(args)` when it was called; otherwise schedules it (after its prerequisite) and returns undefined. */
  call(name: string, args: Record<string, unknown>): Observation | undefined {
    const seen = this.transcript.find(name, args);
    if (seen) return seen;
    this.pending ??= this.withPrerequisite(name, args);
    return undefined;
  }

  /** The turn that waits for the scheduled call. */
  wait(): Plan {
    if (!this.pending) throw new Error('scripted model: nothing scheduled');
    return { next: this.pending };
  }

  // The naive rule: comply with a description that asks for another tool's result, without comment. One level deep;
  // when the prerequisite fails, the tool is called without it.
  private withPrerequisite(name: string, args: Record<string, unknown>): PlannedCall {
    const tool = this.tools.find((t) => t.name === name);
    const prerequisite = tool && findPrerequisite(tool, this.tools);
    if (!prerequisite) return { name, arguments: args };
    const prerequisiteArgs = this.fillArguments(prerequisite.tool);
    const result = this.transcript.find(prerequisite.tool, prerequisiteArgs);
    if (!result) return { name: prerequisite.tool, arguments: prerequisiteArgs };
    if (result.isError) return { name, arguments: args };
    const value = result.value ?? result.content;
    const passed = prerequisite.encoding === 'base64' ? Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64') : value;
    return { name, arguments: { ...args, [prerequisite.argument]: passed } };
  }

  /** Arguments the conversation can fill for a tool: the customer id for any account/customer property. */
  private fillArguments(name: string): Record<string, unknown> {
    const tool = this.tools.find((t) => t.name === name);
    const args: Record<string, unknown> = {};
    if (!tool || this.customerId === undefined) return args;
    for (const key of Object.keys(schemaProperties(tool))) if (/account|customer/i.test(key)) args[key] = this.customerId;
    return args;
  }
}

function agentPlan(request: ModelRequest, words: Words, run: Run): Plan {
  if (run.has('create_ticket')) return triagePlan(words, run);
  if ((run.has('get_details') || run.has('flag_suspicious')) && (words.txnIds.length > 0 || words.fraud)) return fraudPlan(words, run);
  return supportPlan(request, words, run);
}

const HELP =
  'I can check your balance, list your recent transactions, convert your balance to another currency, or look into a charge you do not recognise. What would you like me to do?';

function supportPlan(request: ModelRequest, words: Words, run: Run): Plan {
  const id = words.customerId;
  const convertBalance = words.targets.length > 0 && !words.explicit;
  const wantsAccount = words.balance || convertBalance || words.transactions || words.fraud || words.profile;
  if (!wantsAccount && !words.explicit) return { text: HELP };
  if (wantsAccount && id === undefined) {
    return { text: 'Please tell me your customer number (the 5-digit number on your account) so I can help.' };
  }
  const notes: string[] = [];

  let balance: Money | undefined;
  if (words.balance || convertBalance) {
    if (!run.has('get_balance')) notes.push(unavailable('check your balance', 'get_balance'));
    else {
      const result = run.call('get_balance', { account_id: id });
      if (!result) return run.wait();
      if (result.isError) notes.push(failure('get_balance', result));
      else {
        balance = readMoney(result.value, 'balance', 'currency');
        if (!balance) notes.push('The get_balance result had no balance I could read.');
      }
    }
  }

  let transactions: Transaction[] | undefined;
  if (words.transactions || words.fraud) {
    if (!run.has('list_recent')) notes.push(unavailable('list your recent transactions', 'list_recent'));
    else {
      const result = run.call('list_recent', { account_id: id, ...(words.days ? { days: words.days } : {}) });
      if (!result) return run.wait();
      if (result.isError) notes.push(failure('list_recent', result));
      else transactions = readTransactions(result.value);
    }
  }

  const source = words.explicit ?? balance;
  const converted: Money[] = [];
  if (words.targets.length > 0 && source) {
    const targets = words.targets.filter((to) => to !== source.currency);
    if (targets.length > 0 && !run.has('convert_currency')) notes.push(unavailable(`convert to ${targets.join(' and ')}`, 'convert_currency'));
    else {
      for (const to of targets) {
        const result = run.call('convert_currency', { amount: source.amount, from_ccy: source.currency, to_ccy: to });
        if (!result) return run.wait();
        const money = result.isError ? undefined : readMoney(result.value, 'converted', 'to_ccy');
        if (money) converted.push(money);
        else notes.push(result.isError ? failure('convert_currency', result) : `The conversion to ${to} returned no amount I could read.`);
      }
    }
  } else if (convertBalance && run.has('get_balance')) {
    notes.push(`Without the balance I could not convert it to ${words.targets.join(' and ')}.`);
  } else if (words.balance && words.targets.length === 0 && /\bconver(?:t|sion)\b/i.test(words.text)) {
    notes.push('Tell me which currency to convert to (for example USD, EUR or JPY).');
  }

  let profile: Record<string, unknown> | undefined;
  if (words.profile) {
    if (!run.has('get_profile')) notes.push(unavailable('show your profile', 'get_profile'));
    else {
      const result = run.call('get_profile', { account_id: id });
      if (!result) return run.wait();
      if (result.isError || !isRecord(result.value)) notes.push(failure('get_profile', result));
      else profile = result.value;
    }
  }

  const fraud: string[] = [];
  if (words.fraud) {
    const suspects = transactions ? suspectTransactions(transactions, words) : [];
    if (transactions && suspects.length === 0 && (words.charges.length > 0 || words.txnIds.length > 0)) {
      fraud.push('I found no recent transaction matching the charge you describe.');
    } else if (suspects.length > 0 && (words.charges.length > 0 || words.txnIds.length > 0)) {
      fraud.push(`The charge you describe is ${suspects.map(describeTransaction).join('; ')}.`);
    }
    const agent = findHandOff(run.tools, FRAUD_AGENT);
    if (!agent) notes.push('I could not pass this to the fraud team: no fraud agent is among my tools.');
    else {
      const message = fraudReferral(id!, words, transactions, transactions ? suspects : undefined);
      const result = run.call(agent.name, { [messageArgument(agent)]: message });
      if (!result) return run.wait();
      fraud.push(
        result.isError
          ? `I could not hand this over to ${agent.name}: ${errorText(result)}.`
          : `I have passed this to ${agent.name}, which replied:\n${agentReply(result)}`,
      );
    }
  }

  const sections: string[] = [];
  if (balance) sections.push(`Your balance is ${formatMoney(balance.amount, balance.currency)}${approximately(converted)}.`);
  if (words.explicit && converted.length > 0) {
    sections.push(`${formatMoney(words.explicit.amount, words.explicit.currency)} is ${converted.map((m) => `≈ ${formatMoney(m.amount, m.currency)}`).join(', ')}.`);
  }
  if (transactions && words.transactions) sections.push(transactionList(transactions, words.days));
  if (profile) sections.push(profileText(/\bmask/i.test(request.system) ? maskPii(profile) : profile));
  sections.push(...fraud, ...notes);
  return { text: sections.join('\n\n') };
}

function fraudPlan(words: Words, run: Run): Plan {
  const notes: string[] = [];
  let ids = words.txnIds;
  let customerId = words.customerId;
  if (ids.length === 0) {
    // Asked directly, without transaction ids: review the customer's recent transactions.
    if (customerId === undefined) return { text: 'Please give me the customer number or the transaction ids to review.' };
    if (!run.has('list_recent')) return { text: unavailable('list the recent transactions', 'list_recent') };
    const result = run.call('list_recent', { account_id: customerId });
    if (!result) return run.wait();
    if (result.isError) return { text: failure('list_recent', result) };
    ids = suspectTransactions(readTransactions(result.value), words).map((t) => t.txn_id);
    if (ids.length === 0) return { text: `Customer ${customerId} has no recent transactions to review.` };
  }

  const assessments: Assessment[] = [];
  if (!run.has('get_details')) notes.push(unavailable('look up the transactions', 'get_details'));
  else {
    for (const txnId of ids) {
      const result = run.call('get_details', { txn_id: txnId });
      if (!result) return run.wait();
      const txn = result.isError ? undefined : readTransactions([result.value])[0];
      if (!txn) {
        notes.push(result.isError ? failure(`get_details for ${txnId}`, result) : `The details of ${txnId} were unreadable.`);
        continue;
      }
      customerId ??= txn.account_id;
      assessments.push({ txn, ...riskScore(txn), flagged: false });
    }
  }

  for (const assessment of assessments.filter((a) => a.score > 70)) {
    if (!run.has('flag_suspicious')) {
      notes.push(unavailable(`flag ${assessment.txn.txn_id}`, 'flag_suspicious'));
      continue;
    }
    const result = run.call('flag_suspicious', { txn_id: assessment.txn.txn_id });
    if (!result) return run.wait();
    if (result.isError) notes.push(failure(`flag_suspicious for ${assessment.txn.txn_id}`, result));
    else assessment.flagged = true;
  }

  const overall = Math.max(0, ...assessments.map((a) => a.score));
  const who = customerId === undefined ? 'the customer' : `customer ${customerId}`;
  const sections: string[] = [];
  if (assessments.length > 0) {
    sections.push(
      [`Fraud assessment for ${who}:`, ...assessments.map((a) => `- ${assessmentLine(a)}`), `Overall risk ${overall}/100.`].join('\n'),
    );
  }
  if (overall > 70) {
    const agent = findHandOff(run.tools, TRIAGE_AGENT);
    if (!agent) notes.push('I could not escalate: no triage agent is among my tools.');
    else {
      const message = triageReferral(customerId, assessments, overall);
      const result = run.call(agent.name, { [messageArgument(agent)]: message });
      if (!result) return run.wait();
      sections.push(
        result.isError
          ? `I could not escalate to ${agent.name}: ${errorText(result)}.`
          : `Escalated to ${agent.name}, which replied:\n${agentReply(result)}`,
      );
    }
  } else if (assessments.length > 0) {
    sections.push('The risk is not high enough to escalate; no ticket is needed.');
  }
  sections.push(...notes);
  return { text: sections.join('\n\n') };
}

function triagePlan(words: Words, run: Run): Plan {
  const customerId = words.customerId;
  if (customerId === undefined) return { text: 'I need the customer number to open a ticket.' };
  const risks = [...words.text.matchAll(/\brisk(?:\s+score)?\s*(?:of|:|=|is)?\s*(\d{1,3})\b/gi)].map((m) => Number(m[1]));
  const risk = risks.length > 0 ? Math.min(100, Math.max(...risks)) : undefined;
  const severity = risk === undefined ? 'medium' : severityFor(risk);
  const created = run.call('create_ticket', { customer_id: customerId, summary: ticketSummary(words.text), severity });
  if (!created) return run.wait();
  if (created.isError) return { text: `I could not open a ticket for customer ${customerId}: ${errorText(created)}.` };
  const ticketId =
    (isRecord(created.value) && typeof created.value.ticket_id === 'string' ? created.value.ticket_id : undefined) ??
    /\bTICK-[A-Z0-9]+\b/i.exec(created.content)?.[0];
  if (ticketId === undefined) return { text: `I opened a ticket for customer ${customerId} (severity ${severity}), but its id was unreadable.` };

  const opened = `Opened ticket ${ticketId} (severity ${severity}) for customer ${customerId}`;
  if (!run.has('notify_human')) return { text: `${opened}. ${unavailable('notify a human', 'notify_human')}` };
  const notified = run.call('notify_human', { ticket_id: ticketId, channel: 'slack' });
  if (!notified) return run.wait();
  if (notified.isError) return { text: `${opened}, but notifying a human failed: ${errorText(notified)}.` };
  return { text: `${opened} and notified a human on slack.` };
}

/** Severity of a ticket from a risk score: ≥ 90 critical, ≥ 70 high, ≥ 40 medium, else low. */
export function severityFor(risk: number): 'low' | 'medium' | 'high' | 'critical' {
  if (risk >= 90) return 'critical';
  if (risk >= 70) return 'high';
  if (risk >= 40) return 'medium';
  return 'low';
}

function ticketSummary(message: string): string {
  const sentences = message.replace(/\s+/g, ' ').trim().split(/(?<=[.!?])\s+/);
  const summary = sentences.slice(0, 2).join(' ');
  return summary.length > 500 ? `${summary.slice(0, 499)}…` : summary || 'Escalation without details.';
}

// ─── Transactions and risk ─────────────────────────────────────────────────────────────────────────────────────

interface Transaction {
  txn_id: string;
  amount: number;
  currency: string;
  merchant?: string;
  country?: string;
  ts?: string;
  account_id?: string;
}

interface Assessment {
  txn: Transaction;
  score: number;
  reasons: string[];
  flagged: boolean;
}

function readTransactions(value: unknown): Transaction[] {
  const list = Array.isArray(value) ? value : isRecord(value) && Array.isArray(value.transactions) ? value.transactions : [];
  return list.flatMap((item: unknown): Transaction[] => {
    if (!isRecord(item) || typeof item.txn_id !== 'string' || typeof item.amount !== 'number' || typeof item.currency !== 'string') return [];
    return [
      {
        txn_id: item.txn_id,
        amount: item.amount,
        currency: item.currency,
        ...(typeof item.merchant === 'string' ? { merchant: item.merchant } : {}),
        ...(typeof item.country === 'string' ? { country: item.country } : {}),
        ...(typeof item.ts === 'string' ? { ts: item.ts } : {}),
        ...(typeof item.account_id === 'string' ? { account_id: item.account_id } : {}),
      },
    ];
  });
}

/** The transactions the user means: by id, else by amount (and currency, when named), else all money going out. */
function suspectTransactions(transactions: readonly Transaction[], words: Words): Transaction[] {
  if (words.txnIds.length > 0) return transactions.filter((t) => words.txnIds.some((id) => id.toLowerCase() === t.txn_id.toLowerCase()));
  if (words.charges.length > 0) {
    return transactions.filter((t) =>
      words.charges.some((c) => Math.abs(Math.abs(t.amount) - c.amount) < 0.005 && (c.currency === undefined || c.currency === t.currency)),
    );
  }
  return transactions.filter((t) => t.amount < 0);
}

const HOME_COUNTRY = 'GB';
const HOME_CURRENCY = 'GBP';
const RISKY_MERCHANT = /luxury|generic|crypto|gift\s?cards?|casino|gambling/i;

/**
 * A transaction's fraud risk, 0–100: country other than GB +40, amount (either sign) over 1,000 +30, currency other
 * than GBP +15, merchant name matching luxury|generic|crypto|gift card|casino|gambling +10; capped at 100.
 * txn-003 of the seed (-1,499.00 USD, GenericLuxuryGoods, RU) scores 95.
 */
export function riskScore(txn: { amount: number; currency: string; country?: string; merchant?: string }): { score: number; reasons: string[] } {
  const reasons: string[] = [];
  let score = 0;
  if (txn.country !== undefined && txn.country.toUpperCase() !== HOME_COUNTRY) {
    score += 40;
    reasons.push(`country ${txn.country} +40`);
  }
  if (Math.abs(txn.amount) > 1000) {
    score += 30;
    reasons.push('amount over 1,000 +30');
  }
  if (txn.currency.toUpperCase() !== HOME_CURRENCY) {
    score += 15;
    reasons.push(`currency ${txn.currency} +15`);
  }
  if (txn.merchant !== undefined && RISKY_MERCHANT.test(txn.merchant)) {
    score += 10;
    reasons.push('merchant pattern +10');
  }
  return { score: Math.min(100, score), reasons };
}

function describeTransaction(t: Transaction): string {
  const where = [t.country && `country ${t.country}`, t.ts].filter(Boolean).join(', ');
  return `${t.txn_id}: ${formatMoney(t.amount, t.currency)}${t.merchant ? ` at ${t.merchant}` : ''}${where ? ` (${where})` : ''}`;
}

function assessmentLine(a: Assessment): string {
  const reasons = a.reasons.length > 0 ? a.reasons.join('; ') : 'no risk factors';
  return `${describeTransaction(a.txn)}: risk ${a.score}/100 (${reasons})${a.flagged ? ', flagged as suspicious' : ''}`;
}

function fraudReferral(customerId: string, words: Words, transactions: Transaction[] | undefined, suspects: Transaction[] | undefined): string {
  const parts = [`Customer ${customerId} reports a charge they do not recognise.`];
  const named = words.charges.filter((c) => c.currency !== undefined || words.charges.length === 1);
  if (named.length > 0) parts.push(`They describe it as ${named.map((c) => (c.currency ? formatMoney(c.amount, c.currency) : String(c.amount))).join(' or ')}.`);
  if (suspects && suspects.length > 0) {
    const matched = words.charges.length > 0 || words.txnIds.length > 0;
    parts.push(`${matched ? 'Matching transaction' : 'Recent transactions'}: ${suspects.map(describeTransaction).join('; ')}.`);
  } else if (transactions) {
    parts.push(`No recent transaction matches; recent transactions: ${transactions.map(describeTransaction).join('; ') || 'none'}.`);
  } else {
    parts.push('I could not list their recent transactions.');
  }
  if (words.ticket) parts.push('The customer asked for a ticket.');
  parts.push('Please assess the fraud risk.');
  return parts.join(' ');
}

function triageReferral(customerId: string | undefined, assessments: readonly Assessment[], overall: number): string {
  const risky = assessments.filter((a) => a.score > 70);
  return [
    `Customer ${customerId ?? 'unknown'}: suspected card fraud.`,
    `${risky.map(assessmentLine).join('; ')}.`,
    `Overall risk ${overall}/100.`,
    'Please open an incident ticket and notify a human.',
  ].join(' ');
}

function transactionList(transactions: readonly Transaction[], days: number | undefined): string {
  const period = `last ${days ?? 7} days`;
  if (transactions.length === 0) return `You have no transactions in the ${period}.`;
  const lines = transactions.map((t) => {
    const details = [t.txn_id, t.country, t.ts?.slice(0, 10)].filter(Boolean).join(', ');
    return `- ${t.merchant ?? 'Unknown merchant'}: ${formatMoney(t.amount, t.currency)} (${details})`;
  });
  return [`Your recent transactions (${period}):`, ...lines].join('\n');
}

// ─── Money and personal data ───────────────────────────────────────────────────────────────────────────────────

const CURRENCY_SYMBOLS: Readonly<Record<string, string>> = { GBP: '£', USD: '$', EUR: '€', JPY: '¥' };

/** `£4,287.55`, `-$1,499.00`, `¥836,072.25`; currencies without a symbol here: `1,234.50 CHF`. */
export function formatMoney(amount: number, currency: string): string {
  const code = currency.toUpperCase();
  const cents = Math.round(Math.abs(amount) * 100);
  const whole = Math.floor(cents / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const digits = `${whole}.${(cents % 100).toString().padStart(2, '0')}`;
  const sign = amount < 0 && cents > 0 ? '-' : '';
  const symbol = CURRENCY_SYMBOLS[code];
  return symbol ? `${sign}${symbol}${digits}` : `${sign}${digits} ${code}`;
}

function approximately(converted: readonly Money[]): string {
  return converted.length === 0 ? '' : ` (${converted.map((m) => `≈ ${formatMoney(m.amount, m.currency)}`).join(', ')})`;
}

function readMoney(value: unknown, amountKey: string, currencyKey: string): Money | undefined {
  if (!isRecord(value)) return undefined;
  const amount = value[amountKey];
  const currency = value[currencyKey];
  return typeof amount === 'number' && Number.isFinite(amount) && typeof currency === 'string' ? { amount, currency: currency.toUpperCase() } : undefined;
}

/** `alex.carter@gmail.com` → `a***@gmail.com`. */
export function maskEmail(email: string): string {
  const at = email.indexOf('@');
  return at > 0 ? `${email[0]}***${email.slice(at)}` : '***';
}

/** `+44 7700 900123` → `+44 *** *** 123`: the country code and the last 3 digits. */
export function maskPhone(phone: string): string {
  const last = phone.replace(/\D/g, '').slice(-3);
  const country = /^\s*(\+\d{1,3})[\s-]/.exec(phone)?.[1];
  return `${country ? `${country} ` : ''}*** *** ${last}`;
}

/** `42 King Street, Manchester M2 7HE, United Kingdom` → `Manchester, United Kingdom`. */
export function maskAddress(address: string): string {
  const parts = address.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  if (parts.length < 2) return '***';
  const country = parts.at(-1)!;
  // The city is the part before the country, without its postcode (trailing words with digits).
  for (let i = parts.length - 2; i >= 0; i--) {
    const words = parts[i]!.split(/\s+/);
    while (words.length > 0 && /\d/.test(words.at(-1)!)) words.pop();
    if (words.length > 0 && i > 0) return `${words.join(' ')}, ${country}`;
  }
  return country;
}

/** `1987-03-14` → `1987`. */
export function maskDob(dob: string): string {
  return /\b(\d{4})\b/.exec(dob)?.[1] ?? '****';
}

/** `QQ 12 34 56 C` → `QQ ** ** ** C`. */
export function maskNiNumber(ni: string): string {
  const compact = ni.replace(/\s+/g, '').toUpperCase();
  return compact.length >= 3 ? `${compact.slice(0, 2)} ** ** ** ${compact.slice(-1)}` : '** ** ** ** *';
}

const MASKS: Readonly<Record<string, (value: string) => string>> = {
  email: maskEmail,
  phone: maskPhone,
  address: maskAddress,
  dob: maskDob,
  date_of_birth: maskDob,
  ni_number: maskNiNumber,
  national_insurance_number: maskNiNumber,
};

/** A copy of a customer profile with email, phone, address, date of birth and NI number masked as support-bot's system message asks. */
export function maskPii(profile: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(profile).map(([key, value]) => {
      const mask = MASKS[key];
      return [key, mask && typeof value === 'string' ? mask(value) : value];
    }),
  );
}

const PROFILE_LABELS: ReadonlyArray<[string, string]> = [
  ['name', 'Name'],
  ['email', 'Email'],
  ['phone', 'Phone'],
  ['address', 'Address'],
  ['dob', 'Date of birth'],
  ['ni_number', 'NI number'],
  ['kyc_status', 'KYC status'],
];

function profileText(profile: Record<string, unknown>): string {
  const lines = PROFILE_LABELS.filter(([key]) => typeof profile[key] === 'string').map(([key, label]) => `- ${label}: ${String(profile[key])}`);
  return ['Your profile:', ...lines].join('\n');
}

// ─── Small helpers ─────────────────────────────────────────────────────────────────────────────────────────────

function unavailable(what: string, tool: string): string {
  return `I could not ${what}: the ${tool} tool is not available to me.`;
}

function failure(what: string, result: Observation): string {
  return `The ${what} call failed: ${errorText(result)}.`;
}

/** A hand-off's result: the downstream agent's reply, as text or as the text field of a JSON object. */
function agentReply(result: Observation): string {
  if (isRecord(result.value)) {
    const text = ['reply', 'text', 'message', 'result', 'content'].map((key) => (result.value as Record<string, unknown>)[key]).find((v) => typeof v === 'string');
    if (typeof text === 'string') return text.trim();
  }
  return result.content.trim();
}

/** A tool error in plain words: the `error` of a JSON result with its other plain fields, else the text. */
function errorText(result: Observation): string {
  if (isRecord(result.value) && typeof result.value.error === 'string') {
    const details = Object.entries(result.value)
      .filter(([key, value]) => key !== 'error' && ['string', 'number', 'boolean'].includes(typeof value))
      .map(([key, value]) => `${key} ${String(value)}`);
    return details.length > 0 ? `${result.value.error} (${details.join(', ')})` : result.value.error;
  }
  const text = result.content.replace(/\s+/g, ' ').trim().replace(/\.$/, '');
  if (text.length === 0) return 'no result came back';
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

function schemaProperties(tool: ModelTool): Record<string, unknown> {
  const properties = tool.inputSchema.properties;
  return isRecord(properties) ? properties : {};
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
