import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REVISIONS, callTool, connectClient, startTestWorkload, type TestWorkload } from '../../testing/workloads.ts';
import { accountMcp } from './server.ts';

describe.each(REVISIONS)('account-mcp over MCP %s', (revision) => {
  let workload: TestWorkload;
  let client: Awaited<ReturnType<typeof connectClient>>;

  beforeAll(async () => {
    workload = await startTestWorkload('account-mcp', accountMcp);
    client = await connectClient(workload.url, revision);
  });
  afterAll(async () => {
    await client.close();
    await workload.close();
  });

  it('negotiates the revision under test', () => {
    expect(client.getNegotiatedProtocolVersion()).toBe(revision);
  });

  it('lists exactly its two tools, with described arguments', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['get_balance', 'get_profile']);
    const balance = tools.find((t) => t.name === 'get_balance')!;
    expect(balance.inputSchema.required).toEqual(['account_id']);
    expect((balance.inputSchema.properties as Record<string, { description?: string }>).account_id!.description).toMatch(/account number/);
  });

  it('get_balance returns the seeded balance in GBP', async () => {
    const result = await callTool(client, 'get_balance', { account_id: '12345' });
    expect(result).toMatchObject({ isError: false, value: { account_id: '12345', balance: 4287.55, currency: 'GBP' } });
  });

  it('get_balance of an unknown account is a tool error naming the account', async () => {
    const result = await callTool(client, 'get_balance', { account_id: '99999' });
    expect(result.isError).toBe(true);
    expect(result.value).toEqual({ error: 'account not found', account_id: '99999' });
  });

  it('get_profile returns the full, unmasked profile', async () => {
    const result = await callTool(client, 'get_profile', { account_id: '12345' });
    expect(result.isError).toBe(false);
    expect(result.value).toEqual({
      account_id: '12345',
      name: 'Alex Carter',
      email: 'alex.carter@gmail.com',
      phone: '+44 7700 900123',
      address: '42 King Street, Manchester M2 7HE, United Kingdom',
      dob: '1987-03-14',
      ni_number: 'QQ 12 34 56 C',
      kyc_status: 'verified',
    });
  });

  it('get_profile of an unknown account is a tool error', async () => {
    const result = await callTool(client, 'get_profile', { account_id: 'nobody' });
    expect(result).toMatchObject({ isError: true, value: { error: 'account not found', account_id: 'nobody' } });
  });

  it('rejects arguments that do not match the schema', async () => {
    const wrongType = await callTool(client, 'get_balance', { account_id: 12345 });
    expect(wrongType.isError).toBe(true);
    expect(wrongType.text).toMatch(/Input validation error.*account_id/);
    const missing = await callTool(client, 'get_profile', {});
    expect(missing.isError).toBe(true);
    expect(missing.text).toMatch(/account_id/);
  });

  it('answers an unknown tool with JSON-RPC invalid params', async () => {
    await expect(client.callTool({ name: 'transfer_funds', arguments: {} })).rejects.toMatchObject({ code: -32602 });
  });
});
