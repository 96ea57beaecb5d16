// Each field of a `source`, `operation` or `when` condition becomes one check: which layer can see it (L4 at
// ztunnel, HTTP only at a waypoint), and either a compiled test or the reason it cannot be evaluated.
import type { Condition, Operation, Source } from '../../manifests/types.ts';
import { compileIpBlocks, parseIpBlock, type IpAddress, type IpBlock } from './ip.ts';
import type { Predicate } from './predicates.ts';
import type { RequestView } from './request-view.ts';
import { compilePathPatterns, compileStringPatterns, pathTemplateProblem, type StringPatterns } from './string-patterns.ts';

/** `l4`: known from the connection alone (ztunnel). `http`: needs the parsed request (a waypoint). */
export type Layer = 'l4' | 'http';

export type FieldCheck =
  | { readonly field: string; readonly layer: Layer; readonly test: Predicate; readonly problem?: undefined }
  | { readonly field: string; readonly layer: Layer; readonly test?: undefined; readonly problem: string };

/**
 * The `when` keys ztunnel evaluates, exactly istiod's l4WhenAttributes (pilot/pkg/serviceregistry/kube/controller/
 * ambient/authorization.go). Every other key, known or not, is an HTTP attribute to ztunnel.
 */
export const L4_CONDITION_KEYS: ReadonlySet<string> = new Set([
  'source.ip',
  'source.namespace',
  'source.principal',
  'destination.ip',
  'destination.port',
]);

type Reader =
  | { kind: 'string'; read: (request: RequestView) => string | undefined; ignoreCase?: boolean; paths?: boolean }
  | { kind: 'strings'; read: (request: RequestView) => readonly string[] }
  | { kind: 'ip'; read: (request: RequestView) => IpAddress | undefined }
  | { kind: 'port' }
  | { kind: 'service-account'; policyNamespace: string };

const principal: Reader = { kind: 'string', read: (request) => request.principal };
const sourceNamespace: Reader = { kind: 'string', read: (request) => request.sourceNamespace };
const sourceIp: Reader = { kind: 'ip', read: (request) => request.sourceIp };
const remoteIp: Reader = { kind: 'ip', read: (request) => request.remoteIp };
const destinationIp: Reader = { kind: 'ip', read: (request) => request.destinationIp };
const requestPrincipal: Reader = { kind: 'string', read: (request) => request.requestPrincipal };

function invalid(field: string, layer: Layer, problem: string): FieldCheck {
  return { field, layer, problem };
}

/** One list of values (`principals`, `notPrincipals`, a condition's `values`...) as a check. */
function valueCheck(field: string, layer: Layer, reader: Reader, values: readonly string[], negate: boolean): FieldCheck {
  if (values.some((value) => value === '')) return invalid(field, layer, `empty value in ${field}`);
  const matches = valueMatcher(field, reader, values);
  if (typeof matches === 'string') return invalid(field, layer, matches);
  return { field, layer, test: negate ? (request) => !matches(request) : matches };
}

function valueMatcher(field: string, reader: Reader, values: readonly string[]): Predicate | string {
  switch (reader.kind) {
    case 'string': {
      if (reader.paths) {
        const problem = values.map(pathTemplateProblem).find((found) => found !== undefined);
        if (problem !== undefined) return problem;
      }
      const patterns = reader.paths ? compilePathPatterns(values) : compileStringPatterns(values, { ignoreCase: reader.ignoreCase });
      const read = reader.read;
      return (request) => patterns.matches(read(request));
    }
    case 'strings': {
      const patterns: StringPatterns = compileStringPatterns(values);
      const read = reader.read;
      return (request) => read(request).some((value) => patterns.matches(value));
    }
    case 'ip': {
      const blocks: IpBlock[] = [];
      for (const value of values) {
        const block = parseIpBlock(value);
        if (block === undefined) return `bad IP address or CIDR block "${value}" in ${field}`;
        blocks.push(block);
      }
      const set = compileIpBlocks(blocks);
      const read = reader.read;
      return (request) => set.contains(read(request));
    }
    case 'port': {
      const ports = new Set<number>();
      for (const value of values) {
        if (!/^[0-9]{1,5}$/.test(value) || Number(value) > 65535) return `bad port "${value}" in ${field}`;
        ports.add(Number(value));
      }
      return (request) => ports.has(request.destinationPort);
    }
    case 'service-account': {
      const accounts = new Set<string>();
      for (const value of values) {
        const account = serviceAccountKey(value, reader.policyNamespace);
        if (account === undefined) return `bad service account "${value}" in ${field} (want <namespace>/<name> or <name>)`;
        accounts.add(account);
      }
      return (request) => {
        const account = request.serviceAccount;
        return account !== undefined && accounts.has(account);
      };
    }
  }
}

/**
 * `<namespace>/<name>`, or a bare `<name>` meaning the policy's namespace (istiod's stringToServiceAccountMatch).
 * Matching is exact, as in ztunnel's ServiceAccountMatch; a wildcard would silently match nothing, so it is refused.
 */
function serviceAccountKey(value: string, policyNamespace: string): string | undefined {
  if (value.includes('*')) return undefined;
  const parts = value.split('/');
  if (parts.some((part) => part === '') || parts.length > 2) return undefined;
  return parts.length === 2 ? value : `${policyNamespace}/${value}`;
}

function add(checks: FieldCheck[], field: string, layer: Layer, reader: Reader, values: readonly string[] | undefined, negate: boolean): void {
  if (values !== undefined && values.length > 0) checks.push(valueCheck(field, layer, reader, values, negate));
}

export function sourceChecks(source: Source, policyNamespace: string): FieldCheck[] {
  const checks: FieldCheck[] = [];
  const serviceAccount: Reader = { kind: 'service-account', policyNamespace };
  add(checks, 'principals', 'l4', principal, source.principals, false);
  add(checks, 'notPrincipals', 'l4', principal, source.notPrincipals, true);
  add(checks, 'namespaces', 'l4', sourceNamespace, source.namespaces, false);
  add(checks, 'notNamespaces', 'l4', sourceNamespace, source.notNamespaces, true);
  add(checks, 'serviceAccounts', 'l4', serviceAccount, source.serviceAccounts, false);
  add(checks, 'notServiceAccounts', 'l4', serviceAccount, source.notServiceAccounts, true);
  add(checks, 'ipBlocks', 'l4', sourceIp, source.ipBlocks, false);
  add(checks, 'notIpBlocks', 'l4', sourceIp, source.notIpBlocks, true);
  add(checks, 'requestPrincipals', 'http', requestPrincipal, source.requestPrincipals, false);
  add(checks, 'notRequestPrincipals', 'http', requestPrincipal, source.notRequestPrincipals, true);
  add(checks, 'remoteIpBlocks', 'http', remoteIp, source.remoteIpBlocks, false);
  add(checks, 'notRemoteIpBlocks', 'http', remoteIp, source.notRemoteIpBlocks, true);
  return checks;
}

const host: Reader = { kind: 'string', read: (request) => request.host, ignoreCase: true };
const method: Reader = { kind: 'string', read: (request) => request.method };
const path: Reader = { kind: 'string', read: (request) => request.path, paths: true };
const port: Reader = { kind: 'port' };

export function operationChecks(operation: Operation): FieldCheck[] {
  const checks: FieldCheck[] = [];
  add(checks, 'hosts', 'http', host, operation.hosts, false);
  add(checks, 'notHosts', 'http', host, operation.notHosts, true);
  add(checks, 'ports', 'l4', port, operation.ports, false);
  add(checks, 'notPorts', 'l4', port, operation.notPorts, true);
  add(checks, 'methods', 'http', method, operation.methods, false);
  add(checks, 'notMethods', 'http', method, operation.notMethods, true);
  add(checks, 'paths', 'http', path, operation.paths, false);
  add(checks, 'notPaths', 'http', path, operation.notPaths, true);
  return checks;
}

/** What a condition key reads, or why it cannot be read (https://istio.io/latest/docs/reference/config/security/conditions/). */
function conditionReader(key: string): Reader | string {
  switch (key) {
    case 'source.ip':
      return sourceIp;
    case 'source.namespace':
      return sourceNamespace;
    case 'source.principal':
      return principal;
    case 'destination.ip':
      return destinationIp;
    case 'destination.port':
      return port;
    case 'remote.ip':
      return remoteIp;
    case 'request.auth.principal':
      return requestPrincipal;
    case 'request.auth.audiences':
      return { kind: 'strings', read: (request) => request.claimValues(['aud']) };
    case 'request.auth.presenter':
      return { kind: 'strings', read: (request) => request.claimValues(['azp']) };
  }
  if (key.startsWith('request.headers')) {
    const name = bracketedNames(key.slice('request.headers'.length));
    if (name === undefined || name.length !== 1) return `bad key ${key}: want request.headers[<name>]`;
    const lowerCaseName = name[0]!.toLowerCase();
    return { kind: 'string', read: (request) => request.header(lowerCaseName) };
  }
  if (key.startsWith('request.auth.claims')) {
    const names = bracketedNames(key.slice('request.auth.claims'.length));
    if (names === undefined) return `bad key ${key}: want request.auth.claims[<name>] or request.auth.claims[<name>][<nested>]`;
    return { kind: 'strings', read: (request) => request.claimValues(names) };
  }
  if (key === 'connection.sni' || key.startsWith('experimental.envoy.filters.')) {
    return `${key} is not available to TrustUsBank's waypoints`;
  }
  return `unknown attribute ${key}`;
}

/** `[a]` → ["a"], `[a][b]` → ["a", "b"]; undefined unless the text is nothing but non-empty bracketed names. */
function bracketedNames(text: string): string[] | undefined {
  const names: string[] = [];
  const pattern = /\[([^[\]]+)\]/y;
  while (pattern.lastIndex < text.length) {
    const found = pattern.exec(text);
    if (found === null) return undefined;
    names.push(found[1]!);
  }
  return names.length > 0 ? names : undefined;
}

export function conditionCheck(condition: Condition): FieldCheck {
  const key = condition.key;
  const layer: Layer = L4_CONDITION_KEYS.has(key) ? 'l4' : 'http';
  const values = condition.values ?? [];
  const notValues = condition.notValues ?? [];
  if (key === '') return invalid('when', layer, 'a condition key must not be empty');
  const reader = conditionReader(key);
  if (typeof reader === 'string') return invalid(key, layer, reader);
  if (values.length === 0 && notValues.length === 0) {
    return invalid(key, layer, `at least one of values or notValues must be set for key ${key}`);
  }
  const parts: FieldCheck[] = [];
  if (values.length > 0) parts.push(valueCheck(key, layer, reader, values, false));
  if (notValues.length > 0) parts.push(valueCheck(key, layer, reader, notValues, true));
  const broken = parts.find((part) => part.problem !== undefined);
  if (broken !== undefined) return broken;
  const [first, second] = parts.map((part) => part.test!) as [Predicate, Predicate | undefined];
  return { field: key, layer, test: second === undefined ? first : (request) => first(request) && second(request) };
}
