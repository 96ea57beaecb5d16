import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { WORKLOADS } from '../../apps/catalog.ts';
import { UserError } from '../core/errors.ts';
import { CatalogueError, DEFAULT_CATALOGUE_FILE, doraRegister, isInHouse, leiProblem, loadCatalogue, parseCatalogue, type CatalogueIssue } from './catalogue.ts';

const SHIPPED = loadCatalogue();
const FILE = 'test/catalogue.yaml';

type Raw = { financialEntity: Record<string, unknown>; entries: Record<string, unknown>[] };

/** The shipped catalogue's YAML, changed by `edit`, as text. */
function edited(edit: (raw: Raw) => void): string {
  const raw = parse(readFileSync(DEFAULT_CATALOGUE_FILE, 'utf8')) as Raw;
  edit(raw);
  return stringify(raw);
}

function refusal(text: string): CatalogueError {
  try {
    parseCatalogue(text, FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(CatalogueError);
    return error as CatalogueError;
  }
  throw new Error('the catalogue was accepted');
}

function only(error: CatalogueError): CatalogueIssue {
  expect(error.issues).toHaveLength(1);
  return error.issues[0]!;
}

const CONVERTER = 3; // index of acme-fx/currency-converter in the shipped catalogue

describe('the shipped catalogue', () => {
  it('loads: four MCP servers and three agents', () => {
    expect(DEFAULT_CATALOGUE_FILE).toMatch(/deploy\/registry\/catalogue\.yaml$/);
    expect(SHIPPED.entries.map((entry) => `${entry.kind} ${entry.name}`)).toEqual([
      'McpServer account-mcp',
      'McpServer transaction-mcp',
      'McpServer ticket-mcp',
      'McpServer acme-fx/currency-converter',
      'Agent support-bot',
      'Agent fraud-bot',
      'Agent triage-bot',
    ]);
  });

  it('says where each entry runs, as the manifests deploy it, and keys MCP servers as the gateway pins them', () => {
    const images = new Set(WORKLOADS.map((workload) => workload.image));
    for (const entry of SHIPPED.entries) {
      expect(images.has(entry.image), `${entry.name}: ${entry.image} is an image this repository builds`).toBe(true);
      expect(entry.endpoint.startsWith(`${entry.workload}.${entry.namespace}.svc.cluster.local:8080/`), entry.name).toBe(true);
      expect(entry.transport).toBe(entry.kind === 'McpServer' ? 'streamable-http' : 'a2a');
      if (entry.kind === 'Agent') {
        expect(entry.namespace).toBe('trustusbank-bank-agents');
        expect(entry.image).toBe('trustusbank/kagent-agent:1.0.0');
      }
    }
    const converter = SHIPPED.entries[CONVERTER]!;
    expect(converter).toMatchObject({ name: 'acme-fx/currency-converter', namespace: 'trustusbank-bank-vendors', workload: 'currency-converter', publisher: 'Acme FX Ltd', image: 'acme-fx/currency-converter:1.0.0' });
    expect(converter.endpoint).toBe('currency-converter.trustusbank-bank-vendors.svc.cluster.local:8080/mcp');
    expect(SHIPPED.entries.filter((entry) => entry.namespace === 'trustusbank-bank-mcp').map((entry) => entry.name)).toEqual(['account-mcp', 'transaction-mcp', 'ticket-mcp']);
  });

  it('has valid LEIs and a register of one third-party provider: the vendor', () => {
    for (const entry of SHIPPED.entries) expect(leiProblem(entry.dora.lei)).toBeUndefined();
    expect(SHIPPED.entries.filter((entry) => !isInHouse(SHIPPED, entry)).map((entry) => entry.name)).toEqual(['acme-fx/currency-converter']);
    const register = doraRegister(SHIPPED);
    expect(register).toHaveLength(1);
    expect(register[0]).toMatchObject({ providerLegalName: 'Acme FX Ltd', lei: SHIPPED.entries[CONVERTER]!.dora.lei, country: 'GB', entries: ['acme-fx/currency-converter'] });
  });
});

describe('LEI check digits (ISO 17442 / ISO 7064 MOD 97-10)', () => {
  it('accepts a published LEI and refuses a changed one', () => {
    // The GLEIF's own LEI, as published by it.
    expect(leiProblem('506700GE1G29325QX363')).toBeUndefined();
    expect(leiProblem('506700GE1G29325QX364')).toMatch(/check digits 64/);
    expect(leiProblem('506700ge1g29325qx363')).toMatch(/upper-case/);
    expect(leiProblem('506700GE1G29325QX36')).toMatch(/20 characters/);
  });
});

describe('refusals name the file, the entry and the field', () => {
  it('a wrong LEI check digit', () => {
    const issue = only(refusal(edited((raw) => ((raw.entries[CONVERTER]!.dora as Record<string, unknown>).lei = 'ACMEFX00ACMEFXLTD071'))));
    expect(issue).toMatchObject({ file: FILE, entry: { index: CONVERTER, name: 'acme-fx/currency-converter' }, field: 'dora.lei' });
    expect(issue.line).toBeGreaterThan(1);
    expect(refusal(edited((raw) => ((raw.entries[CONVERTER]!.dora as Record<string, unknown>).lei = 'ACMEFX00ACMEFXLTD071'))).message).toMatch(
      /^test\/catalogue\.yaml: entries\[3\] \(acme-fx\/currency-converter\): dora\.lei: has wrong check digits 71 .*\(line \d+\)$/,
    );
  });

  it('a country that is not ISO 3166 alpha-2, in the provider and in the data locations', () => {
    const issues = refusal(
      edited((raw) => {
        const dora = raw.entries[CONVERTER]!.dora as Record<string, unknown>;
        dora.country = 'UK';
        dora.dataLocations = ['GB', 'XX'];
      }),
    ).issues;
    expect(issues.map((issue) => issue.field)).toEqual(['dora.country', 'dora.dataLocations[1]']);
    expect(issues[0]!.message).toMatch(/United Kingdom is GB/);
    expect(issues[1]!.message).toMatch(/"XX" is not an ISO 3166-1 alpha-2 country code/);
  });

  it('an unknown criticality, kind or transport, and a transport the kind does not speak', () => {
    const issues = refusal(
      edited((raw) => {
        (raw.entries[0]!.dora as Record<string, unknown>).criticality = 'high';
        raw.entries[1]!.kind = 'Tool';
        raw.entries[4]!.transport = 'streamable-http';
      }),
    ).issues;
    expect(issues.map((issue) => `${issue.entry?.name} ${issue.field}`)).toEqual(['account-mcp dora.criticality', 'transaction-mcp kind', 'support-bot transport']);
    expect(issues[0]!.message).toMatch(/critical, important, non-critical/);
    expect(issues[2]!.message).toBe('a Agent speaks a2a, not streamable-http');
  });

  it('an endpoint with a scheme, an image with no tag, a bad namespace', () => {
    const issues = refusal(
      edited((raw) => {
        raw.entries[CONVERTER]!.endpoint = 'http://currency-converter.trustusbank-bank-vendors.svc.cluster.local:8080/mcp';
        raw.entries[CONVERTER]!.image = 'acme-fx/currency-converter';
        raw.entries[CONVERTER]!.namespace = 'Bank_Vendors';
      }),
    ).issues;
    expect(issues.map((issue) => issue.field).sort()).toEqual(['endpoint', 'image', 'namespace']);
    expect(issues.find((issue) => issue.field === 'endpoint')!.message).toMatch(/without the scheme.*"currency-converter\.trustusbank-bank-vendors\.svc\.cluster\.local:8080\/mcp"/);
    expect(issues.find((issue) => issue.field === 'image')!.message).toMatch(/must name the tag/);
  });

  it('a missing field, a misspelt one, and a version YAML reads as a number', () => {
    const text = edited((raw) => {
      delete (raw.entries[2]!.dora as Record<string, unknown>).exitPlan;
      (raw.entries[2]!.dora as Record<string, unknown>).exitplan = 'typo';
      raw.entries[2]!.version = 1.5;
    });
    const issues = refusal(text).issues;
    expect(issues.map((issue) => `${issue.entry?.index} ${issue.field}`).sort()).toEqual(['2 dora.exitPlan', '2 dora.exitplan', '2 version']);
    expect(issues.find((issue) => issue.field === 'dora.exitPlan')!.message).toBe('is required');
    expect(issues.find((issue) => issue.field === 'dora.exitplan')!.message).toMatch(/is not a field of a dora record; expected .*exitPlan/);
    expect(issues.find((issue) => issue.field === 'version')!.message).toMatch(/expected a string, got the number 1.5: quote it in YAML/);
  });

  it('duplicate names and endpoints', () => {
    const issues = refusal(
      edited((raw) => {
        raw.entries[5]!.name = 'support-bot';
        raw.entries[2]!.endpoint = raw.entries[1]!.endpoint;
      }),
    ).issues;
    expect(issues.map((issue) => `${issue.entry?.index} ${issue.entry?.name} ${issue.field}`)).toEqual(['2 ticket-mcp endpoint', '5 support-bot name']);
    expect(issues[1]!.message).toBe('duplicate name "support-bot": entries[4] has it already');
    expect(issues[0]!.message).toMatch(/is the endpoint of entries\[1\] \(transaction-mcp\) already/);
  });

  it('one LEI under two legal names', () => {
    const issue = only(refusal(edited((raw) => ((raw.entries[CONVERTER]!.dora as Record<string, unknown>).lei = SHIPPED.financialEntity.lei))));
    expect(issue.field).toBe('dora.providerLegalName');
    expect(issue.message).toMatch(/is "TrustUsBank plc" in financialEntity, not "Acme FX Ltd"/);
  });

  it('a file-level mistake: no entries, an unknown top-level field, not a mapping, a syntax error', () => {
    const empty = only(refusal(edited((raw) => (raw.entries = []))));
    expect(empty).toMatchObject({ field: 'entries', message: 'must not be empty' });
    expect(empty.entry).toBeUndefined();
    expect(only(refusal(edited((raw) => Object.assign(raw, { register: [] })))).message).toMatch(/is not a field of the catalogue; expected financialEntity, entries/);
    expect(refusal('- just\n- a list\n').message).toBe(`${FILE}: expected a mapping with financialEntity and entries (line 1)`);
    expect(refusal('').message).toBe(`${FILE}: is empty; expected financialEntity and entries`);
    const syntax = only(refusal('financialEntity:\n  legalName: [unclosed\nentries: []\n'));
    expect(syntax.message).toMatch(/^YAML syntax error/);
    expect(syntax.line).toBeGreaterThan(0);
  });

  it('reads YAML 1.2: NO (Norway) is a country, not false', () => {
    const catalogue = parseCatalogue(
      edited((raw) => ((raw.entries[CONVERTER]!.dora as Record<string, unknown>).dataLocations = ['GB', 'NO'])).replace(/- "?NO"?$/m, '- NO'),
      FILE,
    );
    expect(catalogue.entries[CONVERTER]!.dora.dataLocations).toEqual(['GB', 'NO']);
  });
});

describe('loadCatalogue', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tub-catalogue-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names a file it cannot read, as a user error', () => {
    const missing = join(dir, 'nope.yaml');
    expect(() => loadCatalogue(missing)).toThrow(UserError);
    expect(() => loadCatalogue(missing)).toThrow(`${missing}: cannot read the catalogue: no such file`);
    expect(() => loadCatalogue(dir)).toThrow(/is a directory/);
  });
});
