// YAML in and out, read the way Kubernetes reads it, with positions for error messages.
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseAllDocuments, stringify, type Document, type Node, type Tags } from 'yaml';
import type { PathSegment } from './paths.ts';

/**
 * kubectl parses YAML 1.1 (sigs.k8s.io/yaml on go-yaml v2): unquoted yes/no/on/off are booleans and 0755
 * is octal. Reading the same way means a file the engine accepts is one a real cluster accepts too. go-yaml
 * does not turn timestamps or base-60 numbers (1:20) into anything but strings, so neither do we.
 */
const KUBERNETES_YAML = {
  version: '1.1',
  customTags: (tags: Tags) => tags.filter((tag) => !isGoYamlString(tag)),
} as const;

function isGoYamlString(tag: Tags[number]): boolean {
  if (typeof tag === 'string') return ['timestamp', 'intTime', 'floatTime'].includes(tag);
  return tag.tag === 'tag:yaml.org,2002:timestamp' || ('format' in tag && tag.format === 'TIME');
}

export interface SourcePosition {
  line: number;
  column: number;
}

export interface YamlSyntaxProblem {
  index: number;
  message: string;
  position?: SourcePosition;
}

export interface YamlDocument {
  /** Position of the document in its file, counting empty documents too. */
  index: number;
  value: unknown;
  /** Where a field is in the file: the key of a mapping entry, the item of a list; else its nearest parent. */
  positionOf(path: readonly PathSegment[]): SourcePosition | undefined;
}

export interface ParsedYaml {
  documents: YamlDocument[];
  problems: YamlSyntaxProblem[];
}

/** Every non-empty document of a multi-document YAML text; documents holding only comments (or null) are skipped. */
export function parseYamlDocuments(text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const documents: YamlDocument[] = [];
  const problems: YamlSyntaxProblem[] = [];
  parseAllDocuments(text, { ...KUBERNETES_YAML, lineCounter, prettyErrors: true }).forEach((document, index) => {
    // The first error is the one to fix: later ones in the same document are mostly its echoes.
    const error = document.errors[0];
    if (error) {
      const linePos = error.linePos?.[0];
      problems.push({ index, message: `YAML syntax error: ${firstLine(error.message)}`, position: linePos && { line: linePos.line, column: linePos.col } });
      return;
    }
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: 100 });
    } catch (cause) {
      // e.g. an alias bomb ("Excessive alias count"): refuse the document, keep going with the others.
      problems.push({ index, message: `YAML error: ${cause instanceof Error ? cause.message : String(cause)}` });
      return;
    }
    if (value === null || value === undefined) return;
    if (containsItself(value)) {
      // `a: &x [*x]` builds a structure that contains itself; go-yaml refuses it too.
      problems.push({ index, message: 'YAML error: an alias refers to a node that contains it (the document would be infinite)' });
      return;
    }
    documents.push({ index, value, positionOf: (path) => positionOf(document, lineCounter, path) });
  });
  return { documents, problems };
}

/** Aliases share objects, so each is explored once (`cleared`); meeting one of its own ancestors is a cycle. */
function containsItself(value: unknown, ancestors = new Set<object>(), cleared = new Set<object>()): boolean {
  if (typeof value !== 'object' || value === null || cleared.has(value)) return false;
  if (ancestors.has(value)) return true;
  ancestors.add(value);
  const found = Object.values(value).some((child) => containsItself(child, ancestors, cleared));
  ancestors.delete(value);
  cleared.add(value);
  return found;
}

/** yaml's messages end with " at line L, column C:" and a code frame; the position is reported separately. */
function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '');
}

function positionOf(document: Document, lineCounter: LineCounter, path: readonly PathSegment[]): SourcePosition | undefined {
  const offset = offsetOfPath(document, path);
  if (offset === undefined) return undefined;
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

/** Where in the source the value at `path` starts: the deepest key or item the path reaches (aliases followed). */
export function offsetOfPath(document: Document, path: readonly PathSegment[]): number | undefined {
  let node: unknown = document.contents;
  let offset = rangeStart(node);
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(document);
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) break;
      offset = rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      if (node === undefined) break;
      offset = rangeStart(node) ?? offset;
    } else break;
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | null | undefined)?.range?.[0];
}

/** YAML as `kubectl get -o yaml` writes it. Strings that would read back as something else ("yes", "0755") are quoted. */
export function toYaml(value: unknown): string {
  return stringify(value, { ...KUBERNETES_YAML, lineWidth: 0 });
}
