// The debug pane's reading of a tool chain: Act 1's clean chain has nothing flagged; Act 2's rug-pulled chain
// flags get_profile and the converter call that carries the profile; a hand-off shows as one.
import { describe, expect, it } from 'vitest';
import type { ChainEntry } from '../../../src/agents/runtime/a2a-client.ts';
import { PII_ARGUMENT_KEYS, flagsOf, summariseChain } from './chain-view.ts';

const call = (author: string, id: string, name: string, args: Record<string, unknown>): ChainEntry => ({ type: 'function_call', id, name, author, args });
const done = (author: string, id: string, name: string, result: unknown, isError = false): ChainEntry => ({ type: 'function_response', id, name, author, result, ...(isError ? { isError } : {}) });
const PROFILE = { name: 'Alex Carter', email: 'alex.carter@example.com', phone: '+44 7700 900123', address: '42 King Street, Manchester', dob: '1987-04-12', ni_number: 'QQ123456C' };

describe('summariseChain', () => {
  it('Act 1: three calls, none flagged', () => {
    const summary = summariseChain([
      call('support-bot', 'c1', 'get_balance', { account_id: '12345' }),
      done('support-bot', 'c1', 'get_balance', { balance: 4287.55 }),
      call('support-bot', 'c2', 'list_recent', { account_id: '12345' }),
      done('support-bot', 'c2', 'list_recent', { transactions: [] }),
      call('support-bot', 'c3', 'convert_currency', { amount: 4287.55, from_ccy: 'GBP', to_ccy: 'USD' }),
      done('support-bot', 'c3', 'convert_currency', { converted: 5445.19 }),
    ]);
    expect(summary).toMatchObject({ calls: 3, getProfile: false, flagged: 0 });
    expect(summary.steps.map((s) => [s.author, s.name, s.pending, s.flags])).toEqual([
      ['support-bot', 'get_balance', false, []],
      ['support-bot', 'list_recent', false, []],
      ['support-bot', 'convert_currency', false, []],
    ]);
  });

  it('Act 2: get_profile invoked and the profile passed to the converter, two flagged', () => {
    const summary = summariseChain([
      call('support-bot', 'c1', 'get_balance', { account_id: '12345' }),
      done('support-bot', 'c1', 'get_balance', { balance: 4287.55 }),
      call('support-bot', 'c2', 'get_profile', { account_id: '12345' }),
      done('support-bot', 'c2', 'get_profile', PROFILE),
      call('support-bot', 'c3', 'convert_currency', { amount: 4287.55, from_ccy: 'GBP', to_ccy: 'USD', customer_profile: PROFILE }),
    ]);
    expect(summary).toMatchObject({ calls: 3, getProfile: true, flagged: 2 });
    expect(summary.steps[1]!.flags).toEqual(['get_profile reads the whole customer profile']);
    const convert = summary.steps[2]!;
    expect(convert.pending).toBe(true);
    expect(convert.flags).toContain('argument "customer_profile" carries personal data');
    expect(convert.flags).toContain('argument "email" carries personal data');
  });

  it('marks a hand-off to another agent, whose own calls follow under its name', () => {
    const summary = summariseChain([
      call('support-bot', 'c1', 'fraud-bot', { request: 'score 12345' }),
      call('fraud-bot', 'c1', 'get_details', { txn_id: 'TXN-1' }),
      done('fraud-bot', 'c1', 'get_details', { amount: -1499 }),
      done('support-bot', 'c1', 'fraud-bot', 'scored'),
    ]);
    expect(summary.steps.map((s) => [s.author, s.name, s.handoff, s.pending])).toEqual([
      ['support-bot', 'fraud-bot', true, false],
      ['fraud-bot', 'get_details', false, false],
    ]);
  });
});

describe('flagsOf', () => {
  it.each(PII_ARGUMENT_KEYS.map((key) => [key]))('flags an argument named %s, at any depth and in any case', (key) => {
    expect(flagsOf('convert_currency', { [key]: 'x' })).toEqual([`argument "${key}" carries personal data`]);
    expect(flagsOf('convert_currency', { extra: { nested: [{ [key.toUpperCase()]: 'x' }] } })).toEqual([`argument "${key.toUpperCase()}" carries personal data`]);
  });

  it('flags values shaped like personal data under an innocent key', () => {
    expect(flagsOf('convert_currency', { memo: 'ref alex.carter@example.com' })).toEqual(['an argument value looks like an e-mail address']);
    expect(flagsOf('convert_currency', { memo: 'QQ 12 34 56 C' })).toEqual(['an argument value looks like a National Insurance number']);
  });

  it('leaves ordinary arguments alone', () => {
    expect(flagsOf('convert_currency', { amount: 4287.55, from_ccy: 'GBP', to_ccy: 'USD' })).toEqual([]);
    expect(flagsOf('get_balance', { account_id: '12345', username_hint: 'x', named: 'y' })).toEqual([]);
    expect(flagsOf('create_ticket', { customer_id: '12345', summary: 'Unrecognised 1499 USD charge', severity: 'critical' })).toEqual([]);
  });
});
