// Shared by the manifest tests (not part of the library): the realistic manifests in this directory, and
// the issue lines a text produces.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ManifestError } from '../errors.ts';
import { parseManifests } from '../load.ts';
import { toYaml } from '../yaml-source.ts';

// Tests edit parsed YAML into shapes the types forbid, which is the point; `any` keeps those edits readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type YamlObject = Record<string, any>;

export function readTestdata(name: string): string {
  return readFileSync(new URL(name, import.meta.url), 'utf8');
}

/** Document `index` of a testdata file, parsed, changed by `edit`, and written back as YAML. */
export function editedDocument(name: string, index: number, edit: (document: YamlObject) => void): string {
  const document = parse(readTestdata(name).split(/^---$/m)[index]!) as YamlObject;
  edit(document);
  return toYaml(document);
}

/** The issue lines parseManifests reports, without their "(line L, column C)" (the load tests cover those). */
export function problemLines(text: string, file = 'deploy/x.yaml'): string[] {
  try {
    parseManifests(text, file);
  } catch (error) {
    if (error instanceof ManifestError) return error.message.split('\n').map((line) => line.replace(/ \(line \d+(, column \d+)?\)$/, ''));
    throw error;
  }
  return [];
}
