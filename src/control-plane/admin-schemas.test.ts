// The admin API's bodies: a bad body is refused before a route runs, with a message naming the field (the admin
// API answers a UserError as 400), and a good one comes out typed.
import { describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.ts';
import { ApproveBody, ChatBody, DocumentsBody, RugpullBody, TokenBody, WorkloadBody, parseBody } from './admin-schemas.ts';

const refusal = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return (error as Error).message;
  }
  throw new Error('accepted');
};

describe('admin API bodies', () => {
  it.each([
    ['chat without a prompt', () => parseBody(ChatBody, {}), '"prompt" must be a non-empty string'],
    ['chat with an empty prompt', () => parseBody(ChatBody, { prompt: '' }), '"prompt" must be a non-empty string'],
    ['chat with a prompt that is not text', () => parseBody(ChatBody, { prompt: 42 }), '"prompt" must be a non-empty string'],
    ['chat as something that is not ns/sa', () => parseBody(ChatBody, { prompt: 'hi', as: 'chatbot' }), '--as takes <namespace>/<serviceaccount>, got "chatbot"'],
    ['chat as ns/sa/extra', () => parseBody(ChatBody, { prompt: 'hi', as: 'a/b/c' }), '--as takes <namespace>/<serviceaccount>, got "a/b/c"'],
    ['chat over an unknown A2A version', () => parseBody(ChatBody, { prompt: 'hi', protocol: '2.0' }), 'protocol must be 0.3 or 1.0, got "2.0"'],
    ['chat with a huge prompt', () => parseBody(ChatBody, { prompt: 'x'.repeat(70_000) }), '"prompt" is longer than 64 KiB'],
    ['apply without documents', () => parseBody(DocumentsBody, {}), 'expected {documents: [{file, text}]}'],
    ['apply with a document without text', () => parseBody(DocumentsBody, { documents: [{ file: 'a.yaml' }] }), '"documents.0.text"'],
    ['exec without a workload', () => parseBody(WorkloadBody, { namespace: 'ns' }), '"workload" must be a non-empty string'],
    ['release without a token', () => parseBody(TokenBody, { token: '' }), '"token" must be a non-empty string'],
    ['rugpull with a variant that is not text', () => parseBody(RugpullBody, { variant: 3 }), '"variant" must be a string'],
    ['approve with tools that are not names', () => parseBody(ApproveBody, { server: 's', tools: [1] }), '"tools.0"'],
    ['approve with tools that are not a list', () => parseBody(ApproveBody, { server: 's', tools: 'convert' }), '"tools" must be a list of tool names'],
  ])('refuses %s, naming the field', (_what, run, message) => {
    expect(refusal(run)).toContain(message);
  });

  it('reads good bodies, typed', () => {
    expect(parseBody(ChatBody, { prompt: 'hi', as: 'ns/sa', protocol: '1.0' })).toEqual({ prompt: 'hi', as: 'ns/sa', protocol: '1.0' });
    expect(parseBody(RugpullBody, undefined)).toEqual({});
    expect(parseBody(DocumentsBody, { documents: [{ file: 'a.yaml', text: 'x' }] }).documents).toHaveLength(1);
  });
});
