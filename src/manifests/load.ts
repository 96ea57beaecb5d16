// Loading manifests: YAML text or files → validated resources, or one ManifestError listing every problem
// in every document. Nothing is returned unless everything is valid, so callers cannot half-apply a set.
import { readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { UserError } from '../core/errors.ts';
import { ManifestError, type ManifestIssue } from './errors.ts';
import { formatPath, type PathSegment } from './paths.ts';
import { describeResource, resourceKey } from './resources.ts';
import type { LoadedResource } from './types.ts';
import { validateDocument, type DocumentProblem } from './validate.ts';
import { parseYamlDocuments, type SourcePosition } from './yaml-source.ts';

/** Parses a multi-document YAML text; `file` names it in messages and in each resource's origin. */
export function parseManifests(text: string, file: string): LoadedResource[] {
  const collected = collect(text, file);
  const issues = [...collected.issues, ...duplicateIssues(collected.entries)];
  if (issues.length > 0) throw new ManifestError(issues);
  return collected.entries.map((entry) => entry.loaded);
}

/** A file, or every `*.yaml` / `*.yml` under a directory (recursively, in path order). */
export function loadManifestPath(path: string): LoadedResource[] {
  return loadManifestPaths([path]);
}

/** Several paths, as `apply -f a -f b`: validated together, so a duplicate across files is found too. */
export function loadManifestPaths(paths: readonly string[]): LoadedResource[] {
  const entries: LoadedEntry[] = [];
  const issues: ManifestIssue[] = [];
  for (const file of paths.flatMap((path) => manifestFiles(path))) {
    const collected = collect(readText(file), file);
    entries.push(...collected.entries);
    issues.push(...collected.issues);
  }
  issues.push(...duplicateIssues(entries));
  if (issues.length > 0) throw new ManifestError(issues);
  return entries.map((entry) => entry.loaded);
}

// Alertmanager's own configuration (the file the Alertmanager CRD's secret holds) lives beside the manifests
// in deploy/manifests/evidence/ but is not a Kubernetes manifest: the evidence stack reads it, the engine not.
const NOT_MANIFESTS = new Set(['alertmanager.yaml', 'alertmanager.yml']);

/**
 * The manifest files a path stands for: itself if it is a file; else its YAML files (not Alertmanager's
 * configuration), sorted by path, leaving out the named subdirectories of `path` itself.
 */
export function manifestFiles(path: string, skipDirs: readonly string[] = []): string[] {
  const stat = statOrThrow(path);
  if (!stat.isDirectory()) return [path];
  const files: string[] = [];
  const visited = new Set<string>();
  const walk = (dir: string): void => {
    // A symbolic link back up the tree would otherwise be walked for ever.
    const real = realpathSync(dir);
    if (visited.has(real)) return;
    visited.add(real);
    for (const entry of readdirSync(dir)) {
      const full = join(dir, entry);
      if (statOrThrow(full).isDirectory()) {
        if (!(dir === path && skipDirs.includes(entry))) walk(full);
      } else if (/\.ya?ml$/.test(entry) && !NOT_MANIFESTS.has(entry)) files.push(full);
    }
  };
  walk(path);
  // Code-unit order, not locale order: the same tree loads in the same order on every machine.
  return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The documents under a path as text, for a batch the engine validates and applies as one (`apply`, the
 * policy layers, the initial manifests). Files are named as the user would type them (relative to the working
 * directory when inside it).
 */
export function readManifestDocuments(path: string, skipDirs: readonly string[] = []): { file: string; text: string }[] {
  return manifestFiles(path, skipDirs).map((file) => ({ file: displayPath(file), text: readText(file) }));
}

function displayPath(file: string): string {
  const fromCwd = relative(process.cwd(), file);
  return fromCwd.startsWith('..') ? file : fromCwd;
}

interface LoadedEntry {
  loaded: LoadedResource;
  /** Where the resource's name is written, for a duplicate's message. */
  namePosition?: SourcePosition;
}

function collect(text: string, file: string): { entries: LoadedEntry[]; issues: ManifestIssue[] } {
  const parsed = parseYamlDocuments(text);
  const issues: ManifestIssue[] = parsed.problems.map((problem) => ({ file, index: problem.index, path: '', message: problem.message, ...positionFields(problem.position) }));
  const entries: LoadedEntry[] = [];
  for (const document of parsed.documents) {
    const { resources, problems } = validateDocument(document.value);
    issues.push(...problems.map((problem) => toIssue(problem, file, document.index, document.positionOf(problem.segments))));
    const isList = resources.length > 0 && (document.value as { kind?: unknown }).kind === 'List';
    resources.forEach((resource, i) => {
      const namePath: PathSegment[] = isList ? ['items', i, 'metadata', 'name'] : ['metadata', 'name'];
      entries.push({ loaded: { resource, origin: { file, index: document.index } }, namePosition: document.positionOf(namePath) });
    });
  }
  // Report in reading order: by document, then by position (the schema walks fields in its own order).
  const sorted = issues
    .map((issue, order) => ({ issue, order }))
    .sort((a, b) => a.issue.index - b.issue.index || (a.issue.line ?? Infinity) - (b.issue.line ?? Infinity) || (a.issue.column ?? 0) - (b.issue.column ?? 0) || a.order - b.order)
    .map(({ issue }) => issue);
  return { entries, issues: sorted };
}

function toIssue(problem: DocumentProblem, file: string, index: number, position: SourcePosition | undefined): ManifestIssue {
  const { segments, message, ...subject } = problem;
  return { file, index, ...definedOnly(subject), path: formatPath(segments), message, ...positionFields(position) };
}

/** Two documents for one object would make the result depend on their order: refuse, as a real error. */
function duplicateIssues(entries: readonly LoadedEntry[]): ManifestIssue[] {
  const seen = new Map<string, LoadedResource>();
  const issues: ManifestIssue[] = [];
  for (const { loaded, namePosition } of entries) {
    const key = resourceKey(loaded.resource);
    const first = seen.get(key);
    if (first === undefined) {
      seen.set(key, loaded);
      continue;
    }
    const { kind, metadata } = loaded.resource;
    issues.push({
      file: loaded.origin.file,
      index: loaded.origin.index,
      kind,
      ...definedOnly({ namespace: metadata.namespace }),
      name: metadata.name,
      path: 'metadata.name',
      message: `${describeResource(loaded.resource)} is already defined in ${first.origin.file} document ${first.origin.index}`,
      ...positionFields(namePosition),
    });
  }
  return issues;
}

function positionFields(position: SourcePosition | undefined): Pick<ManifestIssue, 'line' | 'column'> {
  return position === undefined ? {} : { line: position.line, column: position.column };
}

function definedOnly<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function statOrThrow(path: string) {
  try {
    return statSync(path);
  } catch (error) {
    throw new UserError(fileErrorMessage(path, error));
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UserError(fileErrorMessage(file, error));
  }
}

function fileErrorMessage(path: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `no such file or directory: ${path}`;
  if (code === 'EACCES') return `permission denied: ${path}`;
  return `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`;
}
