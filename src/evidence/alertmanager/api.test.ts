// The API v2 as Prometheus and amtool use it, and its error shapes for bad input.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Notification } from './dispatch.ts';
import type { RunningAlertmanager } from './index.ts';
import { startAlertmanager } from './index.ts';
import { expositionProblems } from '../../core/metric-names.ts';

const CONFIG = `
route: { receiver: soc, group_by: [alertname], group_wait: 1h }
receivers: [{ name: soc, email_configs: [{ to: soc@trustusbank.example, from: alerts@trustusbank.example, smarthost: '127.0.0.1:1', text: x }] }]
`;

let am: RunningAlertmanager;
const delivered: Notification[] = [];

beforeAll(async () => {
  am = await startAlertmanager({ config: CONFIG, port: 0, deliver: async (_i, n) => void delivered.push(n), log: () => {} });
});
afterAll(async () => {
  await am.close();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown; text: string }> {
  const response = await fetch(`${am.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text };
}

describe("the Alertmanager's own /metrics", () => {
  it("counts alerts by state, alerts received and invalid, notifications, silences, with Alertmanager's names", async () => {
    const am2 = await startAlertmanager({ config: CONFIG.replace('group_wait: 1h', 'group_wait: 0s'), port: 0, deliver: async () => undefined, log: () => {} });
    try {
      const post = (body: unknown) => fetch(`${am2.url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await post([{ labels: { alertname: 'IstioAuthZDeny' } }, { labels: { alertname: 'Old' }, startsAt: '2026-01-01T00:00:00Z', endsAt: '2026-01-01T00:01:00Z' }, { labels: {} }]);
      await am2.settled();
      const response = await fetch(`${am2.url}/metrics`);
      expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const text = await response.text();
      expect(expositionProblems(text)).toEqual([]);
      const value = (series: string): number => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
      expect(value('alertmanager_alerts_received_total{status="firing"}')).toBe(1);
      expect(value('alertmanager_alerts_received_total{status="resolved"}')).toBe(1);
      expect(value('alertmanager_alerts_invalid_total')).toBe(1);
      expect(value('alertmanager_notifications_total{integration="email"}')).toBeGreaterThanOrEqual(1);
      expect(value('alertmanager_notifications_failed_total{integration="email"}')).toBe(0);
      expect(value('alertmanager_silences{state="active"}')).toBe(0);
    } finally {
      await am2.close();
    }
  });
});

describe('clean run: alerts, groups, silences, status', () => {
  it('takes alerts and lists them in Alertmanager shape', async () => {
    expect((await call('POST', '/api/v2/alerts', [{ labels: { alertname: 'IstioAuthZDeny', ns: 'a' }, annotations: { summary: 's' }, generatorURL: 'http://prom/graph' }])).status).toBe(200);
    const { status, json } = await call('GET', '/api/v2/alerts');
    expect(status).toBe(200);
    const [alert] = json as Array<Record<string, unknown>>;
    expect(alert).toMatchObject({
      labels: { alertname: 'IstioAuthZDeny', ns: 'a' },
      annotations: { summary: 's' },
      receivers: [{ name: 'soc' }],
      status: { state: 'active', silencedBy: [], inhibitedBy: [] },
      generatorURL: 'http://prom/graph',
    });
    expect(alert?.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    for (const field of ['startsAt', 'endsAt', 'updatedAt']) expect(alert?.[field]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const groups = (await call('GET', '/api/v2/alerts/groups')).json as Array<Record<string, unknown>>;
    expect(groups).toEqual([{ labels: { alertname: 'IstioAuthZDeny' }, receiver: { name: 'soc' }, alerts: [alert] }]);
  });

  it('filters alerts with matchers', async () => {
    await call('POST', '/api/v2/alerts', [{ labels: { alertname: 'Other' } }]);
    const names = async (query: string) => ((await call('GET', `/api/v2/alerts?${query}`)).json as Array<{ labels: { alertname: string } }>).map((a) => a.labels.alertname).sort();
    expect(await names(`filter=${encodeURIComponent('alertname="Other"')}`)).toEqual(['Other']);
    expect(await names(`filter=${encodeURIComponent('alertname=~"Istio.*"')}`)).toEqual(['IstioAuthZDeny']);
    expect(await names('receiver=nobody')).toEqual([]);
  });

  it('creates, shows, silences with, and expires a silence', async () => {
    const now = Date.now();
    const created = await call('POST', '/api/v2/silences', { matchers: [{ name: 'alertname', value: 'Other', isRegex: false, isEqual: true }], startsAt: new Date(now).toISOString(), endsAt: new Date(now + 3600_000).toISOString(), createdBy: 'soc', comment: 'known noise' });
    expect(created.status).toBe(200);
    const id = (created.json as { silenceID: string }).silenceID;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const silence = (await call('GET', `/api/v2/silence/${id}`)).json;
    expect(silence).toMatchObject({ id, status: { state: 'active' }, createdBy: 'soc', comment: 'known noise', matchers: [{ name: 'alertname', value: 'Other', isRegex: false, isEqual: true }] });
    expect((await call('GET', '/api/v2/silences')).json).toEqual([silence]);
    const other = ((await call('GET', `/api/v2/alerts?filter=${encodeURIComponent('alertname="Other"')}`)).json as Array<{ status: unknown }>)[0];
    expect(other?.status).toEqual({ state: 'suppressed', silencedBy: [id], inhibitedBy: [] });
    expect((await call('GET', '/api/v2/alerts?silenced=false')).json).toHaveLength(1);
    expect((await call('DELETE', `/api/v2/silence/${id}`)).status).toBe(200);
    expect(((await call('GET', `/api/v2/silence/${id}`)).json as { status: unknown }).status).toEqual({ state: 'expired' });
    expect((await call('DELETE', `/api/v2/silence/${id}`)).status).toBe(500);
    expect((await call('DELETE', '/api/v2/silence/00000000-0000-0000-0000-000000000000')).status).toBe(404);
    expect((await call('GET', '/api/v2/silence/00000000-0000-0000-0000-000000000000')).status).toBe(404);
  });

  it('answers status, receivers, readiness and health', async () => {
    const status = (await call('GET', '/api/v2/status')).json as Record<string, unknown>;
    expect(status).toMatchObject({ cluster: { status: 'disabled', peers: [] }, config: { original: CONFIG } });
    expect(Object.keys(status.versionInfo as object).sort()).toEqual(['branch', 'buildDate', 'buildUser', 'goVersion', 'revision', 'version']);
    expect((await call('GET', '/api/v2/receivers')).json).toEqual([{ name: 'soc' }]);
    expect((await call('GET', '/-/ready')).status).toBe(200);
    expect((await call('GET', '/-/healthy')).status).toBe(200);
  });
});

describe('bad input gets Alertmanager\'s error shapes', () => {
  it.each([
    ['not JSON', '{"labels":', 400, /^parsing alerts body from "" failed, because /],
    ['an object, not a list', { labels: { a: 'b' } }, 400, /cannot unmarshal object into Go value of type models.PostableAlerts/],
    ['a label value that is not a string', [{ labels: { a: 1 } }], 400, /cannot unmarshal number/],
  ])('%s → 400 {code, message}', async (_name, body, status, message) => {
    const response = await call('POST', '/api/v2/alerts', body);
    expect(response.status).toBe(status);
    expect(response.json).toMatchObject({ code: 400, message: expect.stringMatching(message) });
  });

  it.each([
    ['no labels', [{ annotations: {} }], '0.labels in body is required'],
    ['a startsAt that is not a date-time', [{ labels: { a: 'b' }, startsAt: 'yesterday' }], '0.startsAt in body must be of type date-time: "yesterday"'],
  ])('%s → 422 {code: 602}', async (_name, body, message) => {
    const response = await call('POST', '/api/v2/alerts', body);
    expect(response.status).toBe(422);
    expect(response.json).toEqual({ code: 602, message });
  });

  it.each([
    ['empty labels', [{ labels: {} }], 'at least one label pair required'],
    ['a bad label name', [{ labels: { 'bad-name': 'x' } }], 'invalid name "bad-name"'],
    ['endsAt before startsAt', [{ labels: { a: 'b' }, startsAt: '2026-01-02T00:00:00Z', endsAt: '2026-01-01T00:00:00Z' }], 'start time must be before end time'],
  ])('%s → 400 with the reason as a JSON string', async (_name, body, message) => {
    const response = await call('POST', '/api/v2/alerts', body);
    expect(response.status).toBe(400);
    expect(response.json).toBe(message);
  });

  it('keeps the valid alerts of a batch that has an invalid one', async () => {
    const response = await call('POST', '/api/v2/alerts', [{ labels: {} }, { labels: { alertname: 'GoodOne' } }]);
    expect(response.status).toBe(400);
    expect(((await call('GET', `/api/v2/alerts?filter=${encodeURIComponent('alertname="GoodOne"')}`)).json as unknown[]).length).toBe(1);
  });

  it('refuses a bad filter, a bad silence and an oversized body', async () => {
    expect(await call('GET', `/api/v2/alerts?filter=${encodeURIComponent('alertname=~"("')}`)).toMatchObject({ status: 400, json: 'bad matcher format: alertname=~"("' });
    expect(await call('POST', '/api/v2/silences', { matchers: [], startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 1000).toISOString(), createdBy: 'x', comment: '' })).toMatchObject({ status: 400, json: 'at least one matcher required' });
    expect(await call('POST', '/api/v2/silences', { matchers: [{ name: 'a', value: '.*', isRegex: true }], startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 1000).toISOString(), createdBy: 'x', comment: '' })).toMatchObject({ status: 400, json: 'at least one matcher must not match the empty string' });
    expect(await call('POST', '/api/v2/silences', { matchers: [{ name: 'a', value: 'b', isRegex: false }], startsAt: new Date().toISOString(), endsAt: new Date().toISOString(), comment: '' })).toMatchObject({ status: 422, json: { code: 602, message: 'createdBy in body is required' } });
    const huge = JSON.stringify([{ labels: { a: 'x'.repeat(5 * 1024 * 1024) } }]);
    expect((await call('POST', '/api/v2/alerts', huge)).status).toBe(413);
    expect((await call('GET', '/-/ready')).status).toBe(200);
  });

  it('answers a malformed request-target with 400 and keeps serving', async () => {
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(am.port, '127.0.0.1', () => socket.write('GET * HTTP/1.1\r\nHost: a\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('close', () => resolve(text));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect((await call('GET', '/-/healthy')).status).toBe(200);
  });

  it('answers 404 for unknown paths and 405 for wrong methods', async () => {
    expect((await call('GET', '/api/v1/alerts')).status).toBe(404);
    expect((await call('PUT', '/api/v2/alerts', [])).status).toBe(405);
  });
});
