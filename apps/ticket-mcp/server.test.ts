import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REVISIONS, callTool, connectClient, startTestWorkload, tempDir, type TestWorkload } from '../../testing/workloads.ts';
import { ticketMcp } from './server.ts';

describe.each(REVISIONS)('ticket-mcp over MCP %s', (revision) => {
  let workload: TestWorkload;
  let client: Awaited<ReturnType<typeof connectClient>>;

  beforeAll(async () => {
    workload = await startTestWorkload('ticket-mcp', ticketMcp);
    client = await connectClient(workload.url, revision);
  });
  afterAll(async () => {
    await client.close();
    await workload.close();
  });

  it('create_ticket opens a TICK- ticket, severity medium by default', async () => {
    const result = await callTool(client, 'create_ticket', { customer_id: '12345', summary: 'Unrecognised 1499 USD charge' });
    expect(result.isError).toBe(false);
    expect(result.value.ticket_id).toMatch(/^TICK-[0-9A-F]{8}$/);
    expect(result.value).toMatchObject({ customer_id: '12345', summary: 'Unrecognised 1499 USD charge', severity: 'medium', status: 'open' });
    expect(Number.isNaN(Date.parse(result.value.created_at as string))).toBe(false);
  });

  it('create_ticket gives each ticket its own id', async () => {
    const ids = new Set<unknown>();
    for (let i = 0; i < 5; i++) ids.add((await callTool(client, 'create_ticket', { customer_id: '12346', summary: `t${i}`, severity: 'low' })).value.ticket_id);
    expect(ids.size).toBe(5);
  });

  it('create_ticket refuses an unknown severity with the service error shape', async () => {
    const result = await callTool(client, 'create_ticket', { customer_id: '12345', summary: 's', severity: 'urgent' });
    expect(result.isError).toBe(true);
    expect(result.value).toMatchObject({ error: 'invalid severity', got: 'urgent' });
  });

  it('notify_human notifies on slack by default, or on the channel asked', async () => {
    const ticket = await callTool(client, 'create_ticket', { customer_id: '12345', summary: 'fraud', severity: 'critical' });
    const id = ticket.value.ticket_id as string;
    expect(await callTool(client, 'notify_human', { ticket_id: id })).toMatchObject({ isError: false, value: { ticket_id: id, notified: 'slack' } });
    expect(await callTool(client, 'notify_human', { ticket_id: id, channel: 'pager' })).toMatchObject({ value: { notified: 'pager' } });
  });

  it('notify_human errors on an unknown ticket or channel', async () => {
    expect(await callTool(client, 'notify_human', { ticket_id: 'TICK-00000000' })).toMatchObject({ isError: true, value: { error: 'ticket not found' } });
    const ticket = await callTool(client, 'create_ticket', { customer_id: '12345', summary: 's' });
    expect(await callTool(client, 'notify_human', { ticket_id: ticket.value.ticket_id, channel: 'carrier-pigeon' })).toMatchObject({
      isError: true,
      value: { error: 'invalid channel', got: 'carrier-pigeon' },
    });
  });
});

describe('ticket-mcp state', () => {
  it('keeps tickets across a restart on the same data directory', async () => {
    const dir = tempDir();
    try {
      const first = await startTestWorkload('ticket-mcp', ticketMcp, { dataDir: dir.path });
      const firstClient = await connectClient(first.url, '2026-07-28');
      const id = (await callTool(firstClient, 'create_ticket', { customer_id: '12345', summary: 'persist me' })).value.ticket_id;
      await firstClient.close();
      await first.close();

      const second = await startTestWorkload('ticket-mcp', ticketMcp, { dataDir: dir.path });
      const secondClient = await connectClient(second.url, '2025-11-25');
      expect(await callTool(secondClient, 'notify_human', { ticket_id: id, channel: 'email' })).toMatchObject({ isError: false, value: { notified: 'email' } });
      await secondClient.close();
      await second.close();
    } finally {
      dir.remove();
    }
  });
});
