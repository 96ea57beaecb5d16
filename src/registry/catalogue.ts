// The registry's catalogue: the bank's list of MCP servers and agents (deploy/registry/catalogue.yaml), which
// is also its DORA Art. 28(3) register of information on ICT third-party service providers. Loading checks
// every field and names the file, the entry and the field of each mistake; a catalogue with any mistake is
// refused whole, so the register never shows half of a file.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { UserError } from '../core/errors.ts';
import { parseImageReference } from '../manifests/image-reference.ts';
import { formatPath, type PathSegment } from '../manifests/paths.ts';
import { offsetOfPath } from '../manifests/yaml-source.ts';
import { manifestErrorMap } from '../manifests/zod-messages.ts';

/** `deploy/registry/catalogue.yaml` of this checkout (from `src/registry/` under tsx, `dist/src/registry/` when built). */
export const DEFAULT_CATALOGUE_FILE = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../deploy/registry/catalogue.yaml' : '../../../deploy/registry/catalogue.yaml', import.meta.url));

export const ENTRY_KINDS = ['McpServer', 'Agent'] as const;
export const TRANSPORTS = ['streamable-http', 'a2a'] as const;
/** DORA's assessment of the function an ICT service supports, most critical first. */
export const CRITICALITIES = ['critical', 'important', 'non-critical'] as const;

export type EntryKind = (typeof ENTRY_KINDS)[number];
export type Transport = (typeof TRANSPORTS)[number];
export type Criticality = (typeof CRITICALITIES)[number];

/** The transport each kind speaks: MCP servers Streamable HTTP, agents A2A. */
const TRANSPORT_OF_KIND: Record<EntryKind, Transport> = { McpServer: 'streamable-http', Agent: 'a2a' };

// ISO 3166-1 alpha-2, the officially assigned codes (249).
const COUNTRY_CODES = new Set(
  ('AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM ' +
    'CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY ' +
    'HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF ' +
    'MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE ' +
    'RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ ' +
    'VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW').split(' '),
);

/** Why a string is not an ISO 3166-1 alpha-2 country code; undefined when it is one. */
export function countryCodeProblem(value: string): string | undefined {
  if (COUNTRY_CODES.has(value)) return undefined;
  if (value === 'UK') return 'UK is not an ISO 3166-1 alpha-2 code: the United Kingdom is GB';
  if (COUNTRY_CODES.has(value.toUpperCase())) return `country codes are upper case: ${value.toUpperCase()}`;
  return `${JSON.stringify(value)} is not an ISO 3166-1 alpha-2 country code (e.g. GB, IE, DE)`;
}

/**
 * Why a string is not a Legal Entity Identifier; undefined when it is one. ISO 17442: 18 upper-case letters or
 * digits and two check digits, the whole read as a number (letters A=10 … Z=35) leaving 1 modulo 97 (ISO 7064
 * MOD 97-10, as IBANs).
 */
export function leiProblem(value: string): string | undefined {
  if (value.length !== 20) return `must be 20 characters (ISO 17442), got ${value.length}`;
  if (!/^[A-Z0-9]{18}[0-9]{2}$/.test(value)) return 'must be 18 upper-case letters or digits followed by 2 check digits (ISO 17442)';
  const digits = value.replace(/[A-Z]/g, (char) => String(char.charCodeAt(0) - 55));
  let remainder = 0;
  for (const digit of digits) remainder = (remainder * 10 + Number(digit)) % 97;
  if (remainder !== 1) return `has wrong check digits ${value.slice(18)} (ISO 7064 MOD 97-10)`;
  return undefined;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const NAME_PART = '[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?';
/** A catalogue name: lower-case, optionally with one vendor prefix (`acme-fx/currency-converter`). */
const ENTRY_NAME = new RegExp(`^${NAME_PART}(?:/${NAME_PART})?$`);
const HOST_LABEL = '[a-z0-9](?:[-a-z0-9]*[a-z0-9])?';
/** `host:port/path`: the key the agent gateway pins an MCP server's tools under (no scheme, no query). */
const ENDPOINT = new RegExp(`^${HOST_LABEL}(?:\\.${HOST_LABEL})*:([0-9]{1,5})(/[^\\s?#]*)$`);

const text = (max: number) => z.string().trim().min(1).max(max);

const dnsLabel = z
  .string()
  .min(1)
  .max(63)
  .regex(DNS_LABEL, { error: 'must be a DNS label: lower-case letters, digits and "-", starting and ending with a letter or digit' });

const countryCode = z.string().superRefine((value, ctx) => {
  const problem = countryCodeProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const lei = z.string().superRefine((value, ctx) => {
  const problem = leiProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const image = z.string().superRefine((value, ctx) => {
  const parsed = parseImageReference(value);
  if (parsed.problem !== undefined) ctx.addIssue({ code: 'custom', message: parsed.problem });
  else if (parsed.reference.tag === undefined) ctx.addIssue({ code: 'custom', message: 'must name the tag that was onboarded, e.g. "acme-fx/currency-converter:1.0.0"' });
});

const endpoint = z.string().superRefine((value, ctx) => {
  if (/^[a-z]+:\/\//i.test(value)) {
    ctx.addIssue({ code: 'custom', message: `write host:port/path without the scheme (the key the agent gateway pins tools under), e.g. "${value.replace(/^[a-z]+:\/\//i, '')}"` });
    return;
  }
  const match = ENDPOINT.exec(value);
  if (!match) {
    ctx.addIssue({ code: 'custom', message: 'must be host:port/path, e.g. "currency-converter.trustusbank-bank-vendors.svc.cluster.local:8080/mcp"' });
    return;
  }
  const port = Number(match[1]);
  if (port < 1 || port > 65535) ctx.addIssue({ code: 'custom', message: `has port ${match[1]}, which is not from 1 to 65535` });
});

export const doraRecordSchema = z.strictObject({
  providerLegalName: text(200),
  lei,
  country: countryCode,
  functionSupported: text(500),
  criticality: z.enum(CRITICALITIES),
  dataLocations: z.array(countryCode).min(1),
  contractReference: text(200),
  exitPlan: text(2000),
});

export const catalogueEntrySchema = z
  .strictObject({
    kind: z.enum(ENTRY_KINDS),
    name: z
      .string()
      .min(1)
      .max(253)
      .regex(ENTRY_NAME, { error: 'must be lower-case letters, digits, "." and "-", optionally after one vendor prefix ("acme-fx/currency-converter")' }),
    namespace: dnsLabel,
    workload: dnsLabel,
    publisher: text(200),
    version: z
      .string()
      .min(1)
      .max(128)
      .regex(/^\S+$/, { error: 'must not contain spaces' }),
    image,
    transport: z.enum(TRANSPORTS),
    description: text(2000),
    endpoint,
    dora: doraRecordSchema,
  })
  .superRefine((entry, ctx) => {
    const expected = TRANSPORT_OF_KIND[entry.kind];
    if (entry.transport !== expected) ctx.addIssue({ code: 'custom', path: ['transport'], message: `a ${entry.kind} speaks ${expected}, not ${entry.transport}` });
  });

export const financialEntitySchema = z.strictObject({
  legalName: text(200),
  lei,
  country: countryCode,
});

export const catalogueSchema = z.strictObject({
  financialEntity: financialEntitySchema,
  entries: z.array(catalogueEntrySchema).min(1),
});

export type DoraRecord = z.infer<typeof doraRecordSchema>;
export type CatalogueEntry = z.infer<typeof catalogueEntrySchema>;
/** The financial entity that keeps the register: entries whose provider has its LEI are in-house. */
export type FinancialEntity = z.infer<typeof financialEntitySchema>;

export interface Catalogue {
  /** Where the catalogue was read from (for messages). */
  file: string;
  financialEntity: FinancialEntity;
  entries: CatalogueEntry[];
}

/** One mistake in a catalogue file. */
export interface CatalogueIssue {
  file: string;
  /** The entry the mistake is in; absent for the file's top level. */
  entry?: { index: number; name?: string };
  /** Field path inside the entry (or the file, without `entry`), e.g. `dora.lei`; '' for the whole entry or file. */
  field: string;
  message: string;
  line?: number;
}

export function formatCatalogueIssue(issue: CatalogueIssue): string {
  const entry = issue.entry === undefined ? '' : ` entries[${issue.entry.index}]${issue.entry.name === undefined ? '' : ` (${issue.entry.name})`}:`;
  const field = issue.field === '' ? '' : ` ${issue.field}:`;
  const line = issue.line === undefined ? '' : ` (line ${issue.line})`;
  return `${issue.file}:${entry}${field} ${issue.message}${line}`;
}

export class CatalogueError extends UserError {
  override readonly name = 'CatalogueError';
  constructor(readonly issues: readonly CatalogueIssue[]) {
    super(issues.map(formatCatalogueIssue).join('\n'));
  }
}

/** Read and check a catalogue file; a `CatalogueError` lists every mistake when there is any. */
export function loadCatalogue(file: string = DEFAULT_CATALOGUE_FILE): Catalogue {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a file' : code === 'EACCES' ? 'permission denied' : String((error as Error).message);
    throw new CatalogueError([{ file, field: '', message: `cannot read the catalogue: ${why}` }]);
  }
  return parseCatalogue(source, file);
}

/** Check a catalogue's YAML text; `file` names it in messages. */
export function parseCatalogue(source: string, file: string): Catalogue {
  // YAML 1.2 (the `yaml` package's default), not Kubernetes' 1.1: country NO (Norway) stays a string.
  const lineCounter = new LineCounter();
  const document = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const syntax = document.errors[0];
  if (syntax) {
    const line = lineCounter.linePos(syntax.pos[0]).line;
    throw new CatalogueError([{ file, field: '', message: `YAML syntax error: ${syntax.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`, line }]);
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new CatalogueError([{ file, field: '', message: `YAML error: ${(error as Error).message}` }]);
  }
  if (value === null || value === undefined) throw new CatalogueError([{ file, field: '', message: 'is empty; expected financialEntity and entries' }]);

  const lineOf = (path: readonly PathSegment[]): number | undefined => {
    const offset = offsetOfPath(document, path);
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };
  const issueAt = (path: readonly PathSegment[], message: string): CatalogueIssue => {
    const line = lineOf(path);
    if (path[0] === 'entries' && typeof path[1] === 'number') {
      const index = path[1];
      const name = entryNameOf(value, index);
      return { file, entry: { index, ...(name === undefined ? {} : { name }) }, field: formatPath(path.slice(2)), message, ...(line === undefined ? {} : { line }) };
    }
    return { file, field: formatPath(path), message, ...(line === undefined ? {} : { line }) };
  };

  const parsed = catalogueSchema.safeParse(value, { error: catalogueErrorMap, reportInput: true });
  if (!parsed.success) {
    const issues: CatalogueIssue[] = [];
    for (const issue of parsed.error.issues) {
      const path = issue.path as PathSegment[];
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) issues.push(issueAt([...path, key], `is not a field of ${fieldOwner(path)}; expected ${knownFields(path).join(', ')}`));
      } else if (path.length === 0 && issue.code === 'invalid_type') {
        issues.push(issueAt([], 'expected a mapping with financialEntity and entries'));
      } else {
        issues.push(issueAt(path, issue.message));
      }
    }
    throw new CatalogueError(issues);
  }

  const catalogue: Catalogue = { file, ...parsed.data };
  const problems = crossEntryProblems(catalogue).map((problem) => issueAt(problem.path, problem.message));
  if (problems.length > 0) throw new CatalogueError(problems);
  return catalogue;
}

/** The manifests' messages ("expected a list, got a mapping"); "is required" for a missing enum; a quoting hint for numbers. */
const catalogueErrorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === 'invalid_value' && issue.input === undefined) return 'is required';
  if (issue.code === 'invalid_type' && issue.expected === 'string' && typeof issue.input === 'number') {
    return `expected a string, got the number ${issue.input}: quote it in YAML (unquoted, YAML reads it as a number)`;
  }
  return manifestErrorMap(issue);
};

/** Mistakes no single entry shows: duplicate names and endpoints, one LEI with two legal names or countries. */
function crossEntryProblems(catalogue: Catalogue): { path: PathSegment[]; message: string }[] {
  const problems: { path: PathSegment[]; message: string }[] = [];
  const names = new Map<string, number>();
  const endpoints = new Map<string, number>();
  const workloads = new Map<string, number>();
  const providers = new Map<string, { index: number; legalName: string; country: string }>([
    [catalogue.financialEntity.lei, { index: -1, legalName: catalogue.financialEntity.legalName, country: catalogue.financialEntity.country }],
  ]);
  catalogue.entries.forEach((entry, index) => {
    const sameName = names.get(entry.name);
    if (sameName !== undefined) problems.push({ path: ['entries', index, 'name'], message: `duplicate name ${JSON.stringify(entry.name)}: entries[${sameName}] has it already` });
    else names.set(entry.name, index);

    const sameEndpoint = endpoints.get(entry.endpoint);
    if (sameEndpoint !== undefined) problems.push({ path: ['entries', index, 'endpoint'], message: `${entry.endpoint} is the endpoint of entries[${sameEndpoint}] (${catalogue.entries[sameEndpoint]!.name}) already` });
    else endpoints.set(entry.endpoint, index);

    const workloadKey = `${entry.namespace}/${entry.workload}`;
    const sameWorkload = workloads.get(workloadKey);
    if (sameWorkload !== undefined) problems.push({ path: ['entries', index, 'workload'], message: `${workloadKey} is the workload of entries[${sameWorkload}] (${catalogue.entries[sameWorkload]!.name}) already` });
    else workloads.set(workloadKey, index);

    const provider = providers.get(entry.dora.lei);
    const where = (at: number) => (at === -1 ? 'financialEntity' : `entries[${at}]`);
    if (provider === undefined) {
      providers.set(entry.dora.lei, { index, legalName: entry.dora.providerLegalName, country: entry.dora.country });
    } else {
      if (provider.legalName !== entry.dora.providerLegalName) {
        problems.push({ path: ['entries', index, 'dora', 'providerLegalName'], message: `LEI ${entry.dora.lei} is ${JSON.stringify(provider.legalName)} in ${where(provider.index)}, not ${JSON.stringify(entry.dora.providerLegalName)}` });
      }
      if (provider.country !== entry.dora.country) {
        problems.push({ path: ['entries', index, 'dora', 'country'], message: `LEI ${entry.dora.lei} is registered in ${provider.country} in ${where(provider.index)}, not ${entry.dora.country}` });
      }
    }
  });
  return problems;
}

function fieldOwner(path: readonly PathSegment[]): string {
  if (path.length === 0) return 'the catalogue';
  if (path[0] === 'financialEntity') return 'financialEntity';
  if (path[path.length - 1] === 'dora') return 'a dora record';
  return 'a catalogue entry';
}

function knownFields(path: readonly PathSegment[]): string[] {
  if (path.length === 0) return Object.keys(catalogueSchema.shape);
  if (path[0] === 'financialEntity') return Object.keys(financialEntitySchema.shape);
  if (path[path.length - 1] === 'dora') return Object.keys(doraRecordSchema.shape);
  return Object.keys(catalogueEntrySchema.shape);
}

/** The entry's name as written, even when the entry is invalid, so a message can name it. */
function entryNameOf(value: unknown, index: number): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const entries = (value as Record<string, unknown>).entries;
  if (!Array.isArray(entries)) return undefined;
  const entry: unknown = entries[index];
  if (typeof entry !== 'object' || entry === null) return undefined;
  const name = (entry as Record<string, unknown>).name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/** Offset of a field in the source: the key of a mapping entry, the item of a list; else its nearest parent. */

/** An entry is in-house when its provider is the financial entity itself (same LEI). */
export function isInHouse(catalogue: Pick<Catalogue, 'financialEntity'>, entry: CatalogueEntry): boolean {
  return entry.dora.lei === catalogue.financialEntity.lei;
}

/** One row of the DORA Art. 28(3) register of information: a third-party ICT service provider and what it provides. */
export interface RegisterRow {
  providerLegalName: string;
  lei: string;
  country: string;
  /** Every function its entries support, in catalogue order, without repeats. */
  functionsSupported: string[];
  /** The highest criticality of the functions it supports. */
  criticality: Criticality;
  /** Where its entries process or store data, without repeats. */
  dataLocations: string[];
  contractReferences: string[];
  exitPlans: string[];
  /** The catalogue names of the entries it provides. */
  entries: string[];
}

/** The register of information: one row per third-party provider (by LEI); in-house entries are not in it. */
export function doraRegister(catalogue: Pick<Catalogue, 'financialEntity' | 'entries'>): RegisterRow[] {
  const rows = new Map<string, RegisterRow>();
  for (const entry of catalogue.entries) {
    if (isInHouse(catalogue, entry)) continue;
    const { dora } = entry;
    let row = rows.get(dora.lei);
    if (!row) {
      row = { providerLegalName: dora.providerLegalName, lei: dora.lei, country: dora.country, functionsSupported: [], criticality: dora.criticality, dataLocations: [], contractReferences: [], exitPlans: [], entries: [] };
      rows.set(dora.lei, row);
    }
    addOnce(row.functionsSupported, dora.functionSupported);
    for (const location of dora.dataLocations) addOnce(row.dataLocations, location);
    addOnce(row.contractReferences, dora.contractReference);
    addOnce(row.exitPlans, dora.exitPlan);
    row.entries.push(entry.name);
    if (CRITICALITIES.indexOf(dora.criticality) < CRITICALITIES.indexOf(row.criticality)) row.criticality = dora.criticality;
  }
  return [...rows.values()];
}

function addOnce(list: string[], item: string): void {
  if (!list.includes(item)) list.push(item);
}
