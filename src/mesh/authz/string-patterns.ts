// Istio's string matching for policy values: `abc` exact, `abc*` prefix, `*abc` suffix, `*` any non-empty value
// (https://istio.io/latest/docs/reference/config/security/authorization-policy/#Rule). Compiled once per policy
// so a decision does set lookups and string compares, never builds a pattern.

export interface StringPatterns {
  /** True if any pattern matches; an absent value matches none (so a `notX` list passes it). */
  matches(value: string | undefined): boolean;
}

export interface StringPatternOptions {
  /** Hosts compare case-insensitively (RFC 4343); everything else is case-sensitive. */
  ignoreCase?: boolean;
}

class PatternSet implements StringPatterns {
  readonly #exact = new Set<string>();
  readonly #prefixes: string[] = [];
  readonly #suffixes: string[] = [];
  readonly #templates: RegExp[] = [];
  #presence = false;

  constructor(
    patterns: readonly string[],
    private readonly ignoreCase: boolean,
    pathTemplates: boolean,
  ) {
    for (const raw of patterns) {
      const pattern = ignoreCase ? raw.toLowerCase() : raw;
      // Same precedence as istiod's stringToMatch: "*" first, then a leading star, then a trailing one.
      if (pattern === '*') this.#presence = true;
      else if (pathTemplates && isPathTemplate(pattern)) this.#templates.push(compilePathTemplate(pattern));
      else if (pattern.startsWith('*')) this.#suffixes.push(pattern.slice(1));
      else if (pattern.endsWith('*')) this.#prefixes.push(pattern.slice(0, -1));
      else this.#exact.add(pattern);
    }
  }

  matches(value: string | undefined): boolean {
    if (value === undefined) return false;
    const subject = this.ignoreCase ? value.toLowerCase() : value;
    if (this.#presence && subject !== '') return true;
    if (this.#exact.has(subject)) return true;
    for (const prefix of this.#prefixes) if (subject.startsWith(prefix)) return true;
    for (const suffix of this.#suffixes) if (subject.endsWith(suffix)) return true;
    for (const template of this.#templates) if (template.test(subject)) return true;
    return false;
  }
}

export function compileStringPatterns(patterns: readonly string[], options: StringPatternOptions = {}): StringPatterns {
  return new PatternSet(patterns, options.ignoreCase ?? false, false);
}

/** Paths additionally accept Istio's path templates: `{*}` one segment, `{**}` the rest of the path. */
export function compilePathPatterns(patterns: readonly string[]): StringPatterns {
  return new PatternSet(patterns, false, true);
}

export function isPathTemplate(path: string): boolean {
  return path.includes('{*}') || path.includes('{**}');
}

/** Why a path template cannot be used, mirroring Istio's CheckValidPathTemplate; undefined when it can. */
export function pathTemplateProblem(path: string): string | undefined {
  if (!isPathTemplate(path)) return undefined;
  const segments = path.split('/');
  const last = segments.length - 1;
  for (const [index, segment] of segments.entries()) {
    const isOperator = segment === '{*}' || segment === '{**}';
    if (!isOperator && /[{}*]/.test(segment)) return `unsupported path template segment "${segment}" in ${path}`;
    if (segment === '{**}' && index !== last) return `"{**}" must be the last segment of ${path}`;
  }
  return undefined;
}

function compilePathTemplate(template: string): RegExp {
  const body = template
    .split('/')
    .map((segment) => (segment === '{*}' ? '[^/]+' : segment === '{**}' ? '.*' : escapeRegExp(segment)))
    .join('/');
  return new RegExp(`^${body}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
