// The Anthropic provider against a local fake of the Messages API: the request it sends (exactly), the turns it
// makes of the answers, and the ModelError each failure becomes.
import { afterEach, describe, expect, it } from 'vitest';
import { closeFakes, converse, type Fake, failure, ok, REQUEST, startFake } from './fake-server.test-support.ts';
import { createAnthropicModel } from './anthropic.ts';
import { ModelError, type ModelProvider } from './types.ts';

const KEY = 'sk-ant-test-7f3a9c';

afterEach(closeFakes);

function message(content: unknown[], stopReason: string): Record<string, unknown> {
  return {
    id: 'msg_01',
    type: 'message',
    role: 'assistant',
    model: 'claude-haiku-4-5',
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 5 },
  };
}

function modelAt(fake: Fake, extra: { timeoutMs?: number } = {}): ModelProvider {
  return createAnthropicModel({ model: 'claude-haiku-4-5', apiKey: KEY, baseUrl: fake.url, env: {}, ...extra });
}




const ANTHROPIC_TOOLS = [
  {
    name: 'get_balance',
    description: 'The balance of an account.',
    input_schema: { type: 'object', properties: { account: { type: 'string' } }, required: ['account'] },
  },
  {
    name: 'list_transactions',
    description: 'Recent transactions of an account.',
    input_schema: { type: 'object', properties: { account: { type: 'string' }, limit: { type: 'number' } } },
  },
];

describe('Anthropic provider', () => {
  it('runs a tool and then answers, sending the tool result in the next request', async () => {
    const fake = await startFake((_request, index) =>
      index === 0
        ? ok(message([{ type: 'tool_use', id: 'toolu_01', name: 'get_balance', input: { account: 'ACC-1' } }], 'tool_use'))
        : ok(message([{ type: 'text', text: 'Your balance is 1204.50 EUR.' }], 'end_turn')),
    );
    const model = modelAt(fake);
    expect([model.provider, model.model, model.scripted]).toEqual(['anthropic', 'claude-haiku-4-5', false]);

    const { turns } = await converse(model, 'What is my balance on ACC-1?');

    expect(turns).toEqual([
      { kind: 'tool_calls', toolCalls: [{ id: 'toolu_01', name: 'get_balance', arguments: { account: 'ACC-1' } }] },
      { kind: 'final', text: 'Your balance is 1204.50 EUR.' },
    ]);
    expect(fake.requests).toHaveLength(2);
    for (const request of fake.requests) {
      expect(request.method).toBe('POST');
      expect(request.url).toBe('/v1/messages');
      expect(request.headers['x-api-key']).toBe(KEY);
      expect(request.headers['anthropic-version']).toBe('2023-06-01');
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers.authorization).toBeUndefined();
    }
    expect(fake.requests[0]?.body).toEqual({
      model: 'claude-haiku-4-5',
      max_tokens: 4096,
      system: 'You are the bank support bot.',
      messages: [{ role: 'user', content: 'What is my balance on ACC-1?' }],
      tools: ANTHROPIC_TOOLS,
    });
    expect(fake.requests[1]?.body).toEqual({
      model: 'claude-haiku-4-5',
      max_tokens: 4096,
      system: 'You are the bank support bot.',
      messages: [
        { role: 'user', content: 'What is my balance on ACC-1?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01', name: 'get_balance', input: { account: 'ACC-1' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: 'balance of ACC-1: 1204.50 EUR', is_error: false }] },
      ],
      tools: ANTHROPIC_TOOLS,
    });
  });

  it('takes several tool calls in one turn and returns all their results in one user message', async () => {
    const fake = await startFake((_request, index) =>
      index === 0
        ? ok(
            message(
              [
                { type: 'tool_use', id: 'toolu_a', name: 'get_balance', input: { account: 'ACC-1' } },
                { type: 'tool_use', id: 'toolu_b', name: 'list_transactions', input: { account: 'ACC-1', limit: 3 } },
              ],
              'tool_use',
            ),
          )
        : ok(message([{ type: 'text', text: 'Done.' }], 'end_turn')),
    );
    const { turns } = await converse(modelAt(fake), 'Balance and transactions?');

    expect(turns[0]).toEqual({
      kind: 'tool_calls',
      toolCalls: [
        { id: 'toolu_a', name: 'get_balance', arguments: { account: 'ACC-1' } },
        { id: 'toolu_b', name: 'list_transactions', arguments: { account: 'ACC-1', limit: 3 } },
      ],
    });
    expect((fake.requests[1]?.body as { messages: unknown[] }).messages).toEqual([
      { role: 'user', content: 'Balance and transactions?' },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'toolu_a', name: 'get_balance', input: { account: 'ACC-1' } },
          { type: 'tool_use', id: 'toolu_b', name: 'list_transactions', input: { account: 'ACC-1', limit: 3 } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_a', content: 'balance of ACC-1: 1204.50 EUR', is_error: false },
          { type: 'tool_result', tool_use_id: 'toolu_b', content: 'account is locked', is_error: true },
        ],
      },
    ]);
  });

  it('keeps the text of a turn that also calls a tool, and sends it back as a text block', async () => {
    const fake = await startFake((_request, index) =>
      index === 0
        ? ok(
            message(
              [
                { type: 'text', text: 'Let me check ' },
                { type: 'text', text: 'that account.' },
                { type: 'tool_use', id: 'toolu_1', name: 'get_balance', input: { account: 'ACC-2' } },
              ],
              'tool_use',
            ),
          )
        : ok(message([{ type: 'text', text: 'It holds 1204.50 EUR.' }], 'end_turn')),
    );
    const { turns } = await converse(modelAt(fake), 'ACC-2?');

    expect(turns[0]).toEqual({
      kind: 'tool_calls',
      text: 'Let me check that account.',
      toolCalls: [{ id: 'toolu_1', name: 'get_balance', arguments: { account: 'ACC-2' } }],
    });
    expect((fake.requests[1]?.body as { messages: unknown[] }).messages[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'text', text: 'Let me check that account.' },
        { type: 'tool_use', id: 'toolu_1', name: 'get_balance', input: { account: 'ACC-2' } },
      ],
    });
  });

  it('treats tool_use blocks without the tool_use stop reason as a final answer, and sends no empty tools or system', async () => {
    const fake = await startFake(() =>
      ok(message([{ type: 'text', text: 'Partial' }, { type: 'tool_use', id: 'toolu_x', name: 'get_balance', input: {} }], 'max_tokens')),
    );
    const turn = await modelAt(fake).next({ system: '', messages: [{ role: 'user', content: 'Hi' }], tools: [] });
    expect(turn).toEqual({ kind: 'final', text: 'Partial' });
    expect(fake.requests[0]?.body).toEqual({ model: 'claude-haiku-4-5', max_tokens: 4096, messages: [{ role: 'user', content: 'Hi' }] });
  });

  describe('errors', () => {
    it('401 is auth, and the key never appears in the message even when the server echoes it', async () => {
      const fake = await startFake((request) => ({
        status: 401,
        body: { type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key: ${String(request.headers['x-api-key'])}` } },
      }));
      const error = await failure(modelAt(fake).next(REQUEST));
      expect(fake.requests[0]?.headers['x-api-key']).toBe(KEY);
      expect(error.kind).toBe('auth');
      expect(error.status).toBe(401);
      expect(error.message).toBe('Anthropic API refused the API key (HTTP 401); check ANTHROPIC_API_KEY');
      expect(`${error.message} ${error.stack ?? ''} ${JSON.stringify(error)}`).not.toContain(KEY);
    });

    it('403 is auth, with the server message redacted of the key', async () => {
      const fake = await startFake((request) => ({
        status: 403,
        body: { type: 'error', error: { type: 'permission_error', message: `key ${String(request.headers['x-api-key'])} may not use this model` } },
      }));
      const error = await failure(modelAt(fake).next(REQUEST));
      expect(error.kind).toBe('auth');
      expect(error.message).toBe('Anthropic API refused the request (HTTP 403): key [redacted] may not use this model');
      expect(error.message).not.toContain(KEY);
    });

    it('429 is rate_limit, with the retry-after', async () => {
      const fake = await startFake(() => ({
        status: 429,
        headers: { 'retry-after': '17' },
        body: { type: 'error', error: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' } },
      }));
      const error = await failure(modelAt(fake).next(REQUEST));
      expect(error.kind).toBe('rate_limit');
      expect(error.status).toBe(429);
      expect(error.message).toBe('Anthropic API is rate limiting (HTTP 429), retry after 17 s: Number of request tokens has exceeded your per-minute rate limit');
    });

    it('400 is bad_request, with the API error message', async () => {
      const fake = await startFake(() => ({
        status: 400,
        body: { type: 'error', error: { type: 'invalid_request_error', message: 'messages.1.content.0: unexpected `tool_use_id` found in `tool_result` blocks' } },
      }));
      const error = await failure(modelAt(fake).next(REQUEST));
      expect(error.kind).toBe('bad_request');
      expect(error.status).toBe(400);
      expect(error.message).toBe('Anthropic API rejected the request (HTTP 400): messages.1.content.0: unexpected `tool_use_id` found in `tool_result` blocks');
    });

    it.each([
      [500, { type: 'error', error: { type: 'api_error', message: 'Internal server error' } }, 'Anthropic API is unavailable (HTTP 500): Internal server error'],
      [529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, 'Anthropic API is unavailable (HTTP 529): Overloaded'],
      [502, '<html>Bad Gateway</html>', 'Anthropic API is unavailable (HTTP 502)'],
    ])('%i is unavailable', async (status, body, expected) => {
      const fake = await startFake(() => ({ status, body }));
      const error = await failure(modelAt(fake).next(REQUEST));
      expect(error.kind).toBe('unavailable');
      expect(error.status).toBe(status);
      expect(error.message).toBe(expected);
    });

    it('malformed JSON is bad_response', async () => {
      const fake = await startFake(() => ({ status: 200, body: '{"content": [' }));
      const error = await failure(modelAt(fake).next(REQUEST));
      expect(error.kind).toBe('bad_response');
      expect(error.message).toBe('Anthropic API answered with malformed JSON');
    });

    it.each([
      ['no content', { id: 'msg_01', type: 'message', stop_reason: 'end_turn' }, 'it has no content array'],
      ['tool_use without a block', message([{ type: 'text', text: 'hm' }], 'tool_use'), 'stop_reason is tool_use but there is no tool_use block'],
      ['input not an object', message([{ type: 'tool_use', id: 'toolu_1', name: 'get_balance', input: 'ACC-1' }], 'tool_use'), 'the input of tool_use "get_balance" is not an object'],
    ])('a response with %s is bad_response', async (_case, body, what) => {
      const fake = await startFake(() => ok(body));
      const error = await failure(modelAt(fake).next(REQUEST));
      expect(error.kind).toBe('bad_response');
      expect(error.message).toBe(`Anthropic API answered with an unexpected shape: ${what}`);
    });

    it('a server that never answers is a timeout, and the request is abandoned', async () => {
      const fake = await startFake(() => 'hang');
      const error = await failure(modelAt(fake, { timeoutMs: 200 }).next(REQUEST));
      expect(error.kind).toBe('timeout');
      expect(error.message).toBe('Anthropic API did not answer within 200 ms');
      await fake.abandoned;
    });

    it("the request's own signal aborts it, with the signal's reason rather than a ModelError", async () => {
      const fake = await startFake(() => 'hang');
      const controller = new AbortController();
      const pending = modelAt(fake).next({ ...REQUEST, signal: controller.signal });
      await fake.received;
      const reason = new Error('user cancelled');
      controller.abort(reason);
      await expect(pending).rejects.toBe(reason);
      await fake.abandoned;
    });

    it('a network failure is unavailable', async () => {
      const fake = await startFake(() => ok(message([], 'end_turn')));
      await fake.stop();
      const error = await failure(modelAt(fake).next(REQUEST));
      expect(error.kind).toBe('unavailable');
      expect(error.message).toMatch(/^Anthropic API could not be reached at http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    });
  });

  describe('configuration', () => {
    it('a missing key is a config error at creation', () => {
      let thrown: unknown;
      try {
        createAnthropicModel({ model: 'claude-haiku-4-5', env: { ANTHROPIC_API_KEY: '' } });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ModelError);
      expect(thrown).toMatchObject({ kind: 'config' });
      expect((thrown as ModelError).message).toMatch(/^ANTHROPIC_API_KEY is not set/);
    });

    it('takes the key and base URL from the environment', async () => {
      const fake = await startFake(() => ok(message([{ type: 'text', text: 'hello' }], 'end_turn')));
      const model = createAnthropicModel({ model: 'claude-haiku-4-5', maxTokens: 512, env: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: `${fake.url}/` } });
      expect(await model.next(REQUEST)).toEqual({ kind: 'final', text: 'hello' });
      expect(fake.requests[0]?.url).toBe('/v1/messages');
      expect(fake.requests[0]?.headers['x-api-key']).toBe(KEY);
      expect(fake.requests[0]?.body).toMatchObject({ max_tokens: 512 });
    });

    it('refuses a base URL that is not http(s), without echoing it', () => {
      expect(() => createAnthropicModel({ model: 'm', apiKey: KEY, baseUrl: 'ftp://example.test', env: {} })).toThrow(
        expect.objectContaining({ kind: 'config', message: 'baseUrl must be an http or https URL' }),
      );
    });
  });
});
