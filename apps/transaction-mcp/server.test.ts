import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REVISIONS, callTool, connectClient, startTestWorkload, type TestWorkload } from '../../testing/workloads.ts';
import { transactionMcp } from './server.ts';

describe.each(REVISIONS)('transaction-mcp over MCP %s', (revision) => {
  let workload: TestWorkload;
  let client: Awaited<ReturnType<typeof connectClient>>;

  beforeAll(async () => {
    workload = await startTestWorkload('transaction-mcp', transactionMcp);
    client = await connectClient(workload.url, revision);
  });
  afterAll(async () => {
    await client.close();
    await workload.close();
  });

  it('lists its three tools', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['flag_suspicious', 'get_details', 'list_recent']);
  });

  it('list_recent returns the account transactions newest first, days defaulting to 7', async () => {
    const result = await callTool(client, 'list_recent', { account_id: '12345' });
    expect(result.isError).toBe(false);
    expect(result.value.days).toBe(7);
    const transactions = result.value.transactions as { txn_id: string; ts: string; amount: number }[];
    expect(transactions.map((t) => t.txn_id)).toEqual(['txn-001', 'txn-002', 'txn-003', 'txn-004']);
    const times = transactions.map((t) => Date.parse(t.ts));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(transactions.map((t) => t.amount)).toEqual([-22.1, -89.99, -1499, 2300]);
    expect(transactions[0]).toEqual({ txn_id: 'txn-001', ts: transactions[0]!.ts, amount: -22.1, merchant: 'Pret a Manger', currency: 'GBP', country: 'GB', flagged: false });
  });

  it('list_recent of another customer shows only theirs', async () => {
    const result = await callTool(client, 'list_recent', { account_id: '12346', days: 30 });
    expect((result.value.transactions as { txn_id: string }[]).map((t) => t.txn_id)).toEqual(['txn-005']);
  });

  it('list_recent refuses a window outside 1-365 days', async () => {
    const result = await callTool(client, 'list_recent', { account_id: '12345', days: 0 });
    expect(result.isError).toBe(true);
    expect(result.text).toMatch(/days/);
  });

  it('get_details adds the account', async () => {
    const result = await callTool(client, 'get_details', { txn_id: 'txn-003' });
    expect(result.value).toMatchObject({ txn_id: 'txn-003', account_id: '12345', amount: -1499, currency: 'USD', country: 'RU', merchant: 'GenericLuxuryGoods' });
  });

  it('flag_suspicious marks the transaction, and the mark shows in later reads', async () => {
    const flagged = await callTool(client, 'flag_suspicious', { txn_id: 'txn-002' });
    expect(flagged).toMatchObject({ isError: false, value: { txn_id: 'txn-002', flagged: true } });
    const details = await callTool(client, 'get_details', { txn_id: 'txn-002' });
    expect(details.value.flagged).toBe(true);
  });

  it('unknown transactions are tool errors', async () => {
    expect(await callTool(client, 'get_details', { txn_id: 'txn-404' })).toMatchObject({ isError: true, value: { error: 'transaction not found', txn_id: 'txn-404' } });
    expect(await callTool(client, 'flag_suspicious', { txn_id: 'txn-404' })).toMatchObject({ isError: true, value: { error: 'transaction not found' } });
  });
});
