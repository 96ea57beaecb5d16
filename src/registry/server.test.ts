import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { closeServer, listen } from '../core/http.ts';
import { DEFAULT_CATALOGUE_FILE, parseCatalogue, type Catalogue } from './catalogue.ts';
import type { Observed, RegistryEntryView } from './drift.ts';
import { createRegistryServer, type RegistryServer } from './server.ts';

const CONVERTER = 'acme-fx/currency-converter';
const CONVERTER_ENDPOINT = 'currency-converter.trustusbank-bank-vendors.svc.cluster.local:8080/mcp';
const ONBOARDED = `sha256:${'0a1b2c3d4e5f'.repeat(5)}0a1b`;
const RUGPULL = `sha256:${'f9e8d7c6b5a4'.repeat(5)}f9e8`;
const HOSTILE = '<script>alert("pwned")</script><img src=x onerror="alert(1)"> & \'quoted\'';
const HOSTILE_TOOL = '<img src=x onerror=alert(2)>';
const EVIL = 'evil-corp/widget';

/** The shipped catalogue plus a third-party entry whose every free-text field is hostile markup. */
function hostileCatalogue(): Catalogue {
  const raw = parse(readFileSync(DEFAULT_CATALOGUE_FILE, 'utf8')) as { entries: unknown[] };
  raw.entries.push({
    kind: 'McpServer',
    name: EVIL,
    namespace: 'trustusbank-bank-vendors',
    workload: 'widget',
    publisher: HOSTILE,
    version: '1.0.0"><svg/onload=alert(3)>',
    image: 'evil-corp/widget:1.0.0',
    transport: 'streamable-http',
    description: HOSTILE,
    endpoint: 'widget.trustusbank-bank-vendors.svc.cluster.local:8080/mcp',
    dora: {
      providerLegalName: `Evil & Co ${HOSTILE}`,
      lei: 'EVILCO00EVILCORP0034',
      country: 'IE',
      functionSupported: HOSTILE,
      criticality: 'non-critical',
      dataLocations: ['IE'],
      contractReference: HOSTILE,
      exitPlan: HOSTILE,
    },
  });
  return parseCatalogue(stringify(raw), 'hostile-catalogue.yaml');
}

const catalogue = hostileCatalogue();
let observeCalls = 0;
let observeFailure: Error | undefined;

function observation(): Observed {
  const observed: Observed = { onboarded: {}, running: {}, tools: {} };
  for (const entry of catalogue.entries) {
    const digest = entry.name === CONVERTER ? ONBOARDED : `sha256:${Buffer.from(entry.name.padEnd(32, '.')).toString('hex').slice(0, 64)}`;
    observed.onboarded[entry.name] = { digest, onboardedAt: '2025-01-02T10:00:00.000Z' };
    observed.running[entry.name] = { digests: [digest] };
  }
  observed.running[CONVERTER] = { digests: [RUGPULL] };
  observed.tools[CONVERTER_ENDPOINT] = {
    pinned: [{ tool: 'convert_currency', fingerprint: 'c'.repeat(64), pinnedAt: Date.UTC(2025, 0, 2, 10, 0, 5) }],
    drifted: true,
    changes: [{ tool: 'convert_currency', kind: 'changed', fields: ['description'] }],
  };
  observed.tools['widget.trustusbank-bank-vendors.svc.cluster.local:8080/mcp'] = { pinned: [], drifted: true, changes: [{ tool: HOSTILE_TOOL, kind: 'added' }] };
  return observed;
}

let server: Server;
let registry: RegistryServer;
let base: string;

beforeAll(async () => {
  registry = createRegistryServer({
    catalogue: () => catalogue,
    observe: async () => {
      observeCalls += 1;
      if (observeFailure) throw observeFailure;
      return observation();
    },
  });
  server = createServer((req, res) => void registry.handle(req, res));
  base = (await listen(server, { host: '127.0.0.1', port: 0, portHint: '--registry-port N' })).url;
});

afterAll(async () => {
  if (server) await closeServer(server);
  registry?.close();
});

beforeEach(() => {
  observeFailure = undefined;
});

async function getJson<T>(path: string): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await fetch(`${base}${path}`);
  expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
  return { status: response.status, body: (await response.json()) as T, headers: response.headers };
}

async function getHtml(path: string): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(`${base}${path}`);
  expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
  return { status: response.status, text: await response.text(), headers: response.headers };
}

/** A request with a raw path: fetch would normalise `..` and friends away. */
function rawRequest(method: string, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(base);
    const req = request({ host: url.hostname, port: url.port, method, path }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('registry JSON API', () => {
  it('GET /api/entries: every entry with its view; the converter drifted', async () => {
    const before = observeCalls;
    const { status, body } = await getJson<{ entries: RegistryEntryView[] }>('/api/entries');
    expect(status).toBe(200);
    expect(observeCalls).toBe(before + 1);
    expect(body.entries.map((view) => view.entry.name)).toEqual(catalogue.entries.map((entry) => entry.name));
    const converter = body.entries.find((view) => view.entry.name === CONVERTER)!;
    expect(converter).toMatchObject({ status: 'drift', drift: { image: true, tools: true }, onboarded: { digest: ONBOARDED }, current: { digests: [RUGPULL] } });
    expect(body.entries.find((view) => view.entry.name === 'account-mcp')!.status).toBe('ok');
  });

  it('GET /api/entries/<name>: a name with a slash, plain or percent-encoded', async () => {
    for (const path of [`/api/entries/${CONVERTER}`, `/api/entries/${encodeURIComponent(CONVERTER)}`]) {
      const { status, body } = await getJson<RegistryEntryView>(path);
      expect(status, path).toBe(200);
      expect(body.entry.name).toBe(CONVERTER);
      expect(body.drift.reasons[0]).toContain('sha256:0a1b2c3d4e5f');
      expect(body.drift.reasons[0]).toContain('sha256:f9e8d7c6b5a4');
    }
    expect((await getJson<RegistryEntryView>('/api/entries/support-bot')).body.entry.kind).toBe('Agent');
  });

  it('404 with an error for an unknown entry, an empty name, malformed encoding or an unknown path', async () => {
    const unknown = await getJson<{ error: string }>('/api/entries/acme-fx/nope');
    expect(unknown).toMatchObject({ status: 404, body: { error: 'no catalogue entry named "acme-fx/nope"' } });
    expect((await getJson<{ error: string }>('/api/entries/')).status).toBe(404);
    expect((await getJson<{ error: string }>('/api/entries/%E0%A4%A')).status).toBe(404);
    expect(await getJson<{ error: string }>('/api/nothing')).toMatchObject({ status: 404, body: { error: 'no such path: /api/nothing' } });
  });

  it('GET /api/register: one row per third-party provider; in-house entries are not in it', async () => {
    const { status, body } = await getJson<{ financialEntity: { legalName: string }; rows: { providerLegalName: string; lei: string; entries: string[]; criticality: string; dataLocations: string[] }[] }>('/api/register');
    expect(status).toBe(200);
    expect(body.financialEntity.legalName).toBe('TrustUsBank plc');
    expect(body.rows.map((row) => row.entries)).toEqual([[CONVERTER], [EVIL]]);
    expect(body.rows[0]).toMatchObject({ providerLegalName: 'Acme FX Ltd', lei: 'ACMEFX00ACMEFXLTD070', criticality: 'important', dataLocations: ['GB', 'IE'] });
    const listed = body.rows.flatMap((row) => row.entries);
    for (const inHouse of ['account-mcp', 'transaction-mcp', 'ticket-mcp', 'support-bot', 'fraud-bot', 'triage-bot']) expect(listed).not.toContain(inHouse);
    expect(body.rows.map((row) => row.lei)).not.toContain(catalogue.financialEntity.lei);
  });

  it('GET /healthz', async () => {
    expect(await getJson('/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('405 with Allow: GET for anything but GET', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'HEAD']) {
      const answer = await rawRequest(method, '/api/entries');
      expect(answer.status, method).toBe(405);
      expect(answer.headers.allow).toBe('GET');
    }
    expect(JSON.parse((await rawRequest('POST', '/')).body)).toEqual({ error: 'method POST not allowed; the registry is read-only' });
  });

  it('an observation that fails is a 500 naming why, as JSON for the API and a page for the UI', async () => {
    observeFailure = new Error('admin socket <gone>');
    expect(await getJson('/api/entries')).toMatchObject({ status: 500, body: { error: 'admin socket <gone>' } });
    const page = await getHtml('/');
    expect(page.status).toBe(500);
    expect(page.text).toContain('admin socket &lt;gone&gt;');
    // The register needs no observation.
    expect((await getJson('/api/register')).status).toBe(200);
  });
});

describe('registry pages', () => {
  it('GET /: the catalogue with the drifted converter marked, and the register; no script, CSP set', async () => {
    const { status, text, headers } = await getHtml('/');
    expect(status).toBe(200);
    expect(headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'unsafe-inline'/);
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    const converterRow = /<tr class="drift">\s*<td class="name"><a href="\/entries\/acme-fx\/currency-converter">acme-fx\/currency-converter<\/a>[\s\S]*?<\/tr>/.exec(text);
    expect(converterRow).not.toBeNull();
    expect(converterRow![0]).toContain('⚠ DRIFT');
    expect(converterRow![0]).toContain('sha256:f9e8d7c6b5a4');
    expect(converterRow![0]).toContain('Tool convert_currency changed since it was pinned');
    expect(text).toMatch(/<tr class="ok">\s*<td class="name"><a href="\/entries\/account-mcp">/);
    expect(text).toContain('DORA register of information');
    expect(text).not.toMatch(/<script|<link|src="http/i);
  });

  it('GET /entries/<name>: onboarded and current digests and fingerprints side by side', async () => {
    const { status, text } = await getHtml(`/entries/${CONVERTER}`);
    expect(status).toBe(200);
    expect(text).toContain(`<td class="onboarded"><code class="digest">${ONBOARDED}</code></td>`);
    expect(text).toContain(`<code class="digest">${RUGPULL}</code> <span class="marker">⚠ differs</span>`);
    expect(text).toContain(`<code class="fingerprint">${'c'.repeat(64)}</code>`);
    expect(text).toContain('⚠ changed: description');
    expect(text).toContain('ACMEFX00ACMEFXLTD070');
    expect(text).toContain('TUB-ICT-2024-0117');
  });

  it('404 pages for an unknown entry and path, escaped', async () => {
    const unknown = await getHtml('/entries/%3Cscript%3Ex');
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain('no catalogue entry named &quot;&lt;script&gt;x&quot;');
    expect(unknown.text).not.toContain('<script>');
    expect((await getHtml('/nowhere')).status).toBe(404);
  });

  it('escapes hostile catalogue text and tool names everywhere', async () => {
    for (const path of ['/', `/entries/${EVIL}`]) {
      const { status, text } = await getHtml(path);
      expect(status, path).toBe(200);
      expect(text, path).not.toContain('<script');
      expect(text, path).not.toContain('<img');
      expect(text, path).not.toContain('<svg');
      expect(text, path).toContain('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &#39;quoted&#39;');
      expect(text, path).toContain('&lt;img src=x onerror=alert(2)&gt;');
      expect(text, path).toContain('1.0.0&quot;&gt;&lt;svg/onload=alert(3)&gt;');
    }
  });

  it('once closed, answers 503', async () => {
    const other = createRegistryServer({ catalogue: () => catalogue, observe: observation });
    other.close();
    const otherServer = createServer((req, res) => void other.handle(req, res));
    const url = (await listen(otherServer, { host: '127.0.0.1', port: 0, portHint: '--registry-port N' })).url;
    try {
      expect((await fetch(`${url}/api/entries`)).status).toBe(503);
    } finally {
      await closeServer(otherServer);
    }
  });
});
