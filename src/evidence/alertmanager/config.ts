// alertmanager.yaml, as the Alertmanager CRD's secret holds it, turned into a checked, immutable config.
// Unknown fields are refused (Alertmanager unmarshals strictly too), and so is everything we do not
// implement — other receiver kinds, time intervals, template files — each named by its path in the file.
import { parse as parseYaml } from 'yaml';
import { parseDuration } from './duration.ts';
import { AlertmanagerConfigError, MatcherError, TemplateError } from './errors.ts';
import type { Matcher } from './matchers.ts';
import { formatMatcher, makeMatcher, parseMatcher } from './matchers.ts';
import type { Template } from './template.ts';
import { parseTemplate } from './template.ts';
import { isValidLabelName } from './labels.ts';

export interface Route {
  /** Unique per node: the path of matchers from the root, as Alertmanager's Route.Key(), plus the index. */
  readonly id: string;
  readonly receiver: string;
  /** Label names to group by, or 'all' for `group_by: ['...']`. */
  readonly groupBy: readonly string[] | 'all';
  readonly groupWait: number;
  readonly groupInterval: number;
  readonly repeatInterval: number;
  readonly matchers: readonly Matcher[];
  readonly continue: boolean;
  readonly routes: readonly Route[];
}

export interface EmailConfig {
  readonly to: string;
  readonly from: string;
  readonly smarthost: { readonly host: string; readonly port: number };
  readonly requireTls: boolean;
  readonly hello: string;
  readonly sendResolved: boolean;
  /** Header name (canonical case) → template; always has Subject. */
  readonly headers: ReadonlyMap<string, Template>;
  readonly html?: Template;
  readonly text?: Template;
}

export interface Receiver {
  readonly name: string;
  readonly emailConfigs: readonly EmailConfig[];
}

export interface InhibitRule {
  readonly sourceMatchers: readonly Matcher[];
  readonly targetMatchers: readonly Matcher[];
  readonly equal: readonly string[];
}

export interface AlertmanagerConfig {
  readonly resolveTimeout: number;
  readonly route: Route;
  readonly receivers: ReadonlyMap<string, Receiver>;
  readonly inhibitRules: readonly InhibitRule[];
  /** The YAML as given, for /api/v2/status (config.original). */
  readonly original: string;
}

// Alertmanager's own default subject (template/default.tmpl "__subject").
export const DEFAULT_SUBJECT =
  '[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .GroupLabels.SortedPairs.Values | join " " }} {{ if gt (len .CommonLabels) (len .GroupLabels) }}({{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join " " }}{{ end }}){{ end }}';

const DEFAULTS = { resolveTimeout: 5 * 60_000, groupWait: 30_000, groupInterval: 5 * 60_000, repeatInterval: 4 * 3600_000 };

type Node = Record<string, unknown>;

function fail(path: string, problem: string): never {
  throw new AlertmanagerConfigError(path, problem);
}

function object(value: unknown, path: string): Node {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) fail(path, 'must be a mapping');
  return value as Node;
}

function onlyKeys(node: Node, path: string, supported: readonly string[], refused: Record<string, string> = {}): void {
  for (const key of Object.keys(node)) {
    if (key in refused) {
      const value = node[key];
      const empty = value === null || value === undefined || (Array.isArray(value) && value.length === 0);
      if (!empty) fail(join(path, key), refused[key] as string);
    } else if (!supported.includes(key)) {
      fail(join(path, key), `unknown field (supported: ${supported.join(', ')})`);
    }
  }
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

function string(value: unknown, path: string): string {
  if (typeof value !== 'string') fail(path, 'must be a string');
  return value;
}

function optionalString(value: unknown, path: string): string | undefined {
  return value === undefined || value === null ? undefined : string(value, path);
}

function bool(value: unknown, path: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') fail(path, 'must be true or false');
  return value;
}

function duration(value: unknown, path: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  const ms = typeof value === 'string' ? parseDuration(value) : undefined;
  if (ms === undefined) fail(path, `${JSON.stringify(value)} is not a duration such as 30s, 5m or 1h30m`);
  return ms;
}

function list(value: unknown, path: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(path, 'must be a list');
  return value;
}

function withMatcherErrors<T>(path: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof MatcherError) fail(path, error.message);
    throw error;
  }
}

/** `matchers:` strings plus the older `match` / `match_re` maps, in that order. */
function matchersOf(node: Node, path: string, prefix = ''): Matcher[] {
  const out: Matcher[] = [];
  list(node[`${prefix}matchers`], join(path, `${prefix}matchers`)).forEach((item, i) => {
    const itemPath = join(join(path, `${prefix}matchers`), i);
    out.push(withMatcherErrors(itemPath, () => parseMatcher(string(item, itemPath))));
  });
  for (const [field, type] of [
    [`${prefix}match`, '='],
    [`${prefix}match_re`, '=~'],
  ] as const) {
    for (const [name, value] of Object.entries(object(node[field], join(path, field)))) {
      const itemPath = join(join(path, field), name);
      out.push(withMatcherErrors(itemPath, () => makeMatcher(name, type, string(value, itemPath))));
    }
  }
  return out;
}

function template(value: unknown, path: string, mode: 'text' | 'html'): Template {
  const source = string(value, path);
  try {
    return parseTemplate(source, mode);
  } catch (error) {
    if (error instanceof TemplateError) fail(path, error.message);
    throw error;
  }
}

function canonicalHeader(name: string): string {
  return name
    .toLowerCase()
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('-');
}

interface Globals {
  resolveTimeout: number;
  smtpFrom?: string;
  smtpSmarthost?: string;
  smtpRequireTls: boolean;
  smtpHello: string;
}

function parseGlobals(raw: unknown): Globals {
  const node = object(raw, 'global');
  onlyKeys(node, 'global', ['resolve_timeout', 'smtp_from', 'smtp_smarthost', 'smtp_require_tls', 'smtp_hello'], {
    smtp_auth_username: 'SMTP authentication is not supported',
    smtp_auth_password: 'SMTP authentication is not supported',
    smtp_auth_password_file: 'SMTP authentication is not supported',
    smtp_auth_identity: 'SMTP authentication is not supported',
    smtp_auth_secret: 'SMTP authentication is not supported',
  });
  return {
    resolveTimeout: duration(node.resolve_timeout, 'global.resolve_timeout', DEFAULTS.resolveTimeout),
    smtpFrom: optionalString(node.smtp_from, 'global.smtp_from'),
    smtpSmarthost: optionalString(node.smtp_smarthost, 'global.smtp_smarthost'),
    smtpRequireTls: bool(node.smtp_require_tls, 'global.smtp_require_tls', true),
    smtpHello: optionalString(node.smtp_hello, 'global.smtp_hello') ?? 'localhost',
  };
}

function parseSmarthost(value: string, path: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || !(port > 0 && port < 65536)) fail(path, `${JSON.stringify(value)} is not host:port`);
  return { host: (match[1] ?? match[2]) as string, port };
}

const UNSUPPORTED_RECEIVERS = ['webhook_configs', 'slack_configs', 'pagerduty_configs', 'opsgenie_configs', 'pushover_configs', 'victorops_configs', 'wechat_configs', 'sns_configs', 'telegram_configs', 'discord_configs', 'webex_configs', 'msteams_configs', 'msteamsv2_configs', 'jira_configs', 'rocketchat_configs', 'incidentio_configs'];

function parseEmail(raw: unknown, path: string, globals: Globals): EmailConfig {
  const node = object(raw, path);
  onlyKeys(node, path, ['to', 'from', 'smarthost', 'require_tls', 'hello', 'send_resolved', 'headers', 'html', 'text'], {
    auth_username: 'SMTP authentication is not supported',
    auth_password: 'SMTP authentication is not supported',
    auth_password_file: 'SMTP authentication is not supported',
    auth_identity: 'SMTP authentication is not supported',
    auth_secret: 'SMTP authentication is not supported',
    tls_config: 'TLS settings are not supported (loopback SMTP only)',
  });
  const to = string(node.to, join(path, 'to'));
  const from = optionalString(node.from, join(path, 'from')) ?? globals.smtpFrom;
  if (from === undefined) fail(join(path, 'from'), 'no from address here and no global.smtp_from');
  const smarthost = optionalString(node.smarthost, join(path, 'smarthost')) ?? globals.smtpSmarthost;
  if (smarthost === undefined) fail(join(path, 'smarthost'), 'no smarthost here and no global.smtp_smarthost');
  for (const [field, value] of [['to', to], ['from', from]] as const) {
    if (value.includes('{{')) fail(join(path, field), 'templated addresses are not supported');
  }
  const headers = new Map<string, Template>();
  for (const [name, value] of Object.entries(object(node.headers, join(path, 'headers')))) {
    if (!/^[A-Za-z0-9-]+$/.test(name)) fail(join(join(path, 'headers'), name), 'not a valid header name');
    headers.set(canonicalHeader(name), template(value, join(join(path, 'headers'), name), 'text'));
  }
  if (!headers.has('Subject')) headers.set('Subject', parseTemplate(DEFAULT_SUBJECT));
  if (node.html === undefined && node.text === undefined) {
    fail(path, 'set html and/or text: the built-in email.default.html template is not provided');
  }
  return {
    to,
    from,
    smarthost: parseSmarthost(smarthost, join(path, 'smarthost')),
    requireTls: bool(node.require_tls, join(path, 'require_tls'), globals.smtpRequireTls),
    hello: optionalString(node.hello, join(path, 'hello')) ?? globals.smtpHello,
    sendResolved: bool(node.send_resolved, join(path, 'send_resolved'), false),
    headers,
    html: node.html === undefined ? undefined : template(node.html, join(path, 'html'), 'html'),
    text: node.text === undefined ? undefined : template(node.text, join(path, 'text'), 'text'),
  };
}

function parseReceiver(raw: unknown, path: string, globals: Globals): Receiver {
  const node = object(raw, path);
  const refused = Object.fromEntries(UNSUPPORTED_RECEIVERS.map((key) => [key, 'not supported: only email_configs are implemented']));
  onlyKeys(node, path, ['name', 'email_configs'], refused);
  const name = string(node.name, join(path, 'name'));
  const emailConfigs = list(node.email_configs, join(path, 'email_configs')).map((item, i) => parseEmail(item, join(join(path, 'email_configs'), i), globals));
  return { name, emailConfigs };
}

interface Inherited {
  receiver?: string;
  groupBy: readonly string[] | 'all';
  groupWait: number;
  groupInterval: number;
  repeatInterval: number;
  key: string;
}

function parseRoute(raw: unknown, path: string, parent: Inherited, index: number, isRoot: boolean): Route {
  const node = object(raw, path);
  onlyKeys(node, path, ['receiver', 'group_by', 'continue', 'matchers', 'match', 'match_re', 'group_wait', 'group_interval', 'repeat_interval', 'routes'], {
    mute_time_intervals: 'time intervals are not supported',
    active_time_intervals: 'time intervals are not supported',
  });
  const matchers = matchersOf(node, path);
  if (isRoot && matchers.length > 0) fail(path, 'the root route must not have any matchers');
  if (isRoot && node.continue === true) fail(join(path, 'continue'), 'the root route cannot have continue set');
  const receiver = optionalString(node.receiver, join(path, 'receiver')) ?? parent.receiver;
  if (receiver === undefined) fail(join(path, 'receiver'), 'the root route must have a receiver');
  let groupBy = parent.groupBy;
  if (node.group_by !== undefined && node.group_by !== null) {
    const names = list(node.group_by, join(path, 'group_by')).map((n, i) => string(n, join(join(path, 'group_by'), i)));
    if (names.includes('...')) {
      if (names.length > 1) fail(join(path, 'group_by'), "'...' must be the only entry when grouping by all labels");
      groupBy = 'all';
    } else {
      names.forEach((n, i) => isValidLabelName(n) || fail(join(join(path, 'group_by'), i), `${JSON.stringify(n)} is not a valid label name`));
      if (new Set(names).size !== names.length) fail(join(path, 'group_by'), 'duplicated label names');
      groupBy = names;
    }
  }
  const groupWait = duration(node.group_wait, join(path, 'group_wait'), parent.groupWait);
  const groupInterval = duration(node.group_interval, join(path, 'group_interval'), parent.groupInterval);
  const repeatInterval = duration(node.repeat_interval, join(path, 'repeat_interval'), parent.repeatInterval);
  if (groupInterval === 0) fail(join(path, 'group_interval'), 'group_interval cannot be zero');
  if (repeatInterval === 0) fail(join(path, 'repeat_interval'), 'repeat_interval cannot be zero');
  const key = isRoot ? '{}' : `${parent.key}/{${matchers.map(formatMatcher).join(',')}}`;
  const inherited: Inherited = { receiver, groupBy, groupWait, groupInterval, repeatInterval, key };
  const routes = list(node.routes, join(path, 'routes')).map((child, i) => parseRoute(child, join(join(path, 'routes'), i), inherited, i, false));
  return {
    id: isRoot ? key : `${key}/${index}`,
    receiver,
    groupBy,
    groupWait,
    groupInterval,
    repeatInterval,
    matchers,
    continue: bool(node.continue, join(path, 'continue'), false),
    routes,
  };
}

function parseInhibitRule(raw: unknown, path: string): InhibitRule {
  const node = object(raw, path);
  onlyKeys(node, path, ['source_matchers', 'target_matchers', 'source_match', 'source_match_re', 'target_match', 'target_match_re', 'equal']);
  const equal = list(node.equal, join(path, 'equal')).map((n, i) => string(n, join(join(path, 'equal'), i)));
  const sourceMatchers = matchersOf(node, path, 'source_');
  const targetMatchers = matchersOf(node, path, 'target_');
  return { sourceMatchers, targetMatchers, equal };
}

function collectReceivers(route: Route, into: Set<string>): Set<string> {
  into.add(route.receiver);
  route.routes.forEach((child) => collectReceivers(child, into));
  return into;
}

export function parseAlertmanagerConfig(yamlText: string): AlertmanagerConfig {
  let doc: unknown;
  try {
    doc = parseYaml(yamlText);
  } catch (error) {
    fail('', `not valid YAML: ${(error as Error).message}`);
  }
  const root = object(doc, '');
  onlyKeys(root, '', ['global', 'route', 'receivers', 'inhibit_rules'], {
    templates: 'template files are not supported: write templates inline in email_configs',
    time_intervals: 'time intervals are not supported',
    mute_time_intervals: 'time intervals are not supported',
  });
  const globals = parseGlobals(root.global);
  if (root.route === undefined || root.route === null) fail('route', 'no route provided in config');
  const route = parseRoute(root.route, 'route', { ...DEFAULTS, groupBy: [], key: '{}' }, 0, true);
  const receivers = new Map<string, Receiver>();
  list(root.receivers, 'receivers').forEach((raw, i) => {
    const receiver = parseReceiver(raw, join('receivers', i), globals);
    if (receivers.has(receiver.name)) fail(join(join('receivers', i), 'name'), `notification config name ${JSON.stringify(receiver.name)} is not unique`);
    receivers.set(receiver.name, receiver);
  });
  for (const name of collectReceivers(route, new Set())) {
    if (!receivers.has(name)) fail('route', `undefined receiver ${JSON.stringify(name)} used in route`);
  }
  const inhibitRules = list(root.inhibit_rules, 'inhibit_rules').map((raw, i) => parseInhibitRule(raw, join('inhibit_rules', i)));
  return { resolveTimeout: globals.resolveTimeout, route, receivers, inhibitRules, original: yamlText };
}
