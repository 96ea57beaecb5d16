// The OpenAI provider against a local fake of Chat Completions: the request it sends (exactly), the turns it makes
// of the answers, the ModelError each failure becomes, and a keyless local server via OPENAI_BASE_URL.
import { afterEach, describe, expect, it } from 'vitest';
import { closeFakes, converse, type Fake, failure, ok, REQUEST, startFake, SYSTEM } from './fake-server.test-support.ts';
import { createOpenAiModel } from './openai.ts';
import { ModelError, type ModelProvider } from './types.ts';

const KEY = 'sk-proj-test-4b8e21';

afterEach(closeFakes);

/** A completion whose first choice carries `message`. */
function completion(message: Record<string, unknown>, finishReason = 'stop'): Record<string, unknown> {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1_760_000_000,
    model: 'gpt-4.1-mini',
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finishReason }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  };
}

function call(id: string, name: string, args: string): Record<string, unknown> {
  return { id, type: 'function', function: { name, arguments: args } };
}

function modelAt(fake: Fake, extra: { timeoutMs?: number } = {}): ModelProvider {
  return createOpenAiModel({ model: 'gpt-4.1-mini', apiKey: KEY, baseUrl: fake.url, env: {}, ...extra });
}


const OPENAI_TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_balance',
      description: 'The balance of an account.',
      parameters: { type: 'object', properties: { account: { type: 'string' } }, required: ['account'] },
    },
  },
  {
    type: 'function',
    function: {
      name: 'list_transactions',
      description: 'Recent transactions of an account.',
      parameters: { type: 'object', properties: { account: { type: 'string' }, limit: { type: 'number' } } },
    },
  },
];



describe('OpenAI provider', () => {
  it('runs a tool and then answers, sending the tool result in the next request', async () => {
    const fake = await startFake((_request, index) =>
      index === 0
        ? ok(completion({ content: null, tool_calls: [call('call_1', 'get_balance', '{"account":"ACC-1"}')] }, 'tool_calls'))
        : ok(completion({ content: 'Your balance is 1204.50 EUR.' })),
    );
    const model = modelAt(fake);
    expect([model.provider, model.model, model.scripted]).toEqual(['openai', 'gpt-4.1-mini', false]);

    const { turns } = await converse(model, 'What is my balance on ACC-1?');

    expect(turns).toEqual([
      { kind: 'tool_calls', toolCalls: [{ id: 'call_1', name: 'get_balance', arguments: { account: 'ACC-1' } }] },
      { kind: 'final', text: 'Your balance is 1204.50 EUR.' },
    ]);
    expect(fake.requests).toHaveLength(2);
    for (const request of fake.requests) {
      expect(request.method).toBe('POST');
      expect(request.url).toBe('/chat/completions');
      expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(request.headers['content-type']).toBe('application/json');
    }
    expect(fake.requests[0]?.body).toEqual({
      model: 'gpt-4.1-mini',
      messages: [
        { role: 'system', content: SYSTEM },
        { role: 'user', content: 'What is my balance on ACC-1?' },
      ],
      tools: OPENAI_TOOLS,
    });
    expect(fake.requests[1]?.body).toEqual({
      model: 'gpt-4.1-mini',
      messages: [
        { role: 'system', content: SYSTEM },
        { role: 'user', content: 'What is my balance on ACC-1?' },
        { role: 'assistant', content: null, tool_calls: [call('call_1', 'get_balance', '{"account":"ACC-1"}')] },
        { role: 'tool', tool_call_id: 'call_1', content: 'balance of ACC-1: 1204.50 EUR' },
      ],
      tools: OPENAI_TOOLS,
    });
  });

  it('takes several tool calls in one turn, and marks a failed tool result with ERROR:', async () => {
    const fake = await startFake((_request, index) =>
      index === 0
        ? ok(
            completion(
              {
                content: null,
                tool_calls: [call('call_a', 'get_balance', '{"account":"ACC-1"}'), call('call_b', 'list_transactions', '{"account":"ACC-1","limit":3}')],
              },
              'tool_calls',
            ),
          )
        : ok(completion({ content: 'Done.' })),
    );
    const { turns } = await converse(modelAt(fake), 'Balance and transactions?');

    expect(turns[0]).toEqual({
      kind: 'tool_calls',
      toolCalls: [
        { id: 'call_a', name: 'get_balance', arguments: { account: 'ACC-1' } },
        { id: 'call_b', name: 'list_transactions', arguments: { account: 'ACC-1', limit: 3 } },
      ],
    });
    expect((fake.requests[1]?.body as { messages: unknown[] }).messages.slice(2)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [call('call_a', 'get_balance', '{"account":"ACC-1"}'), call('call_b', 'list_transactions', '{"account":"ACC-1","limit":3}')],
      },
      { role: 'tool', tool_call_id: 'call_a', content: 'balance of ACC-1: 1204.50 EUR' },
      { role: 'tool', tool_call_id: 'call_b', content: 'ERROR: account is locked' },
    ]);
  });

  it('keeps the text of a turn that also calls a tool, and sends it back as the content', async () => {
    const fake = await startFake((_request, index) =>
      index === 0
        ? ok(completion({ content: 'Let me check that account.', tool_calls: [call('call_1', 'get_balance', '{"account":"ACC-2"}')] }, 'tool_calls'))
        : ok(completion({ content: 'It holds 1204.50 EUR.' })),
    );
    const { turns } = await converse(modelAt(fake), 'ACC-2?');

    expect(turns[0]).toEqual({
      kind: 'tool_calls',
      text: 'Let me check that account.',
      toolCalls: [{ id: 'call_1', name: 'get_balance', arguments: { account: 'ACC-2' } }],
    });
    expect((fake.requests[1]?.body as { messages: unknown[] }).messages[2]).toEqual({
      role: 'assistant',
      content: 'Let me check that account.',
      tool_calls: [call('call_1', 'get_balance', '{"account":"ACC-2"}')],
    });
  });

  it('accepts what local servers send: tool_calls null, empty or object arguments, a missing id; sends no empty tools or system', async () => {
    const fake = await startFake((_request, index) =>
      index === 0
        ? ok(completion({ content: 'plain', tool_calls: null }))
        : ok(
            completion(
              {
                content: '',
                tool_calls: [
                  { type: 'function', function: { name: 'get_balance', arguments: { account: 'ACC-3' } } },
                  { id: 'call_2', type: 'function', function: { name: 'list_transactions', arguments: '' } },
                ],
              },
              'tool_calls',
            ),
          ),
    );
    const model = modelAt(fake);
    expect(await model.next({ system: '', messages: [{ role: 'user', content: 'Hi' }], tools: [] })).toEqual({ kind: 'final', text: 'plain' });
    expect(fake.requests[0]?.body).toEqual({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Hi' }] });

    const turn = await model.next(REQUEST);
    expect(turn).toMatchObject({ kind: 'tool_calls', toolCalls: [{ name: 'get_balance', arguments: { account: 'ACC-3' } }, { id: 'call_2', name: 'list_transactions', arguments: {} }] });
    expect(turn.kind === 'tool_calls' && turn.toolCalls[0]?.id).toMatch(/^call_[0-9a-f-]{36}$/);
  });

  describe('errors', () => {
    it('401 is auth, and the key never appears in the message even when the server echoes it', async () => {
      const fake = await startFake((request) => ({
        status: 401,
        body: { error: { message: `Incorrect API key provided: ${String(request.headers.authorization)}`, type: 'invalid_request_error', code: 'invalid_api_key' } },
      }));
      const error = await failure(modelAt(fake).next(REQUEST));
      expect(fake.requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(error.kind).toBe('auth');
      expect(error.status).toBe(401);
      expect(error.message).toBe(`OpenAI-compatible server at ${fake.url} refused the API key (HTTP 401); check OPENAI_API_KEY`);
      expect(`${error.message} ${error.stack ?? ''} ${JSON.stringify(error)}`).not.toContain(KEY);
    });

    it('400 is bad_request, with the API error message redacted of the key', async () => {
      const fake = await startFake((request) => ({
        status: 400,
        body: { error: { message: `Invalid 'messages[2].tool_call_id' (sent with ${String(request.headers.authorization)})`, type: 'invalid_request_error', code: null } },
      }));
      const error = await failure(modelAt(fake).next(REQUEST));
      expect(error.kind).toBe('bad_request');
      expect(error.status).toBe(400);
      expect(error.message).toBe(`OpenAI-compatible server at ${fake.url} rejected the request (HTTP 400): Invalid 'messages[2].tool_call_id' (sent with Bearer [redacted])`);
    });

    it('404 from a local server (model not pulled) is bad_request, with its plain-string error', async () => {
      const fake = await startFake(() => ({ status: 404, body: { error: 'model "llama3.2" not found, try pulling it first' } }));
      const error = await failure(modelAt(fake).next(REQUEST));
      expect(error.kind).toBe('bad_request');
      expect(error.message).toMatch(/\(HTTP 404\): model "llama3\.2" not found, try pulling it first$/);
    });

    it.each([
      [{ 'retry-after': '20' }, 'retry after 20 s'],
      [{ 'retry-after-ms': '1500' }, 'retry after 1500 ms'],
    ])('429 is rate_limit, with the retry-after (%o)', async (headers, after) => {
      const fake = await startFake(() => ({
        status: 429,
        headers,
        body: { error: { message: 'Rate limit reached for gpt-4.1-mini', type: 'requests', code: 'rate_limit_exceeded' } },
      }));
      const error = await failure(modelAt(fake).next(REQUEST));
      expect(error.kind).toBe('rate_limit');
      expect(error.status).toBe(429);
      expect(error.message).toBe(`OpenAI-compatible server at ${fake.url} is rate limiting (HTTP 429), ${after}: Rate limit reached for gpt-4.1-mini`);
    });

    it.each([
      [500, { error: { message: 'The server had an error while processing your request.', type: 'server_error', code: null } }, ': The server had an error while processing your request.'],
      [503, 'Service Unavailable', ''],
    ])('%i is unavailable', async (status, body, detail) => {
      const fake = await startFake(() => ({ status, body }));
      const error = await failure(modelAt(fake).next(REQUEST));
      expect(error.kind).toBe('unavailable');
      expect(error.status).toBe(status);
      expect(error.message).toBe(`OpenAI-compatible server at ${fake.url} is unavailable (HTTP ${status})${detail}`);
    });

    it('malformed JSON is bad_response', async () => {
      const fake = await startFake(() => ({ status: 200, body: '{"choices": [' }));
      const error = await failure(modelAt(fake).next(REQUEST));
      expect(error.kind).toBe('bad_response');
      expect(error.message).toBe(`OpenAI-compatible server at ${fake.url} answered with malformed JSON`);
    });

    it.each([
      ['no choices', { id: 'chatcmpl-1', object: 'chat.completion' }, 'it has no choices array'],
      ['empty choices', { id: 'chatcmpl-1', choices: [] }, 'choices[0] has no message'],
      ['a tool call without a function', completion({ content: null, tool_calls: [{ id: 'call_1', type: 'function' }] }), 'a tool call has no function'],
    ])('a response with %s is bad_response', async (_case, body, what) => {
      const fake = await startFake(() => ok(body));
      const error = await failure(modelAt(fake).next(REQUEST));
      expect(error.kind).toBe('bad_response');
      expect(error.message).toBe(`OpenAI-compatible server at ${fake.url} answered with an unexpected shape: ${what}`);
    });

    it.each([
      ['{"account": "ACC-1"', 'are not valid JSON'],
      ['["ACC-1"]', 'are not a JSON object'],
    ])('tool call arguments %s are bad_response naming the tool', async (args, what) => {
      const fake = await startFake(() => ok(completion({ content: null, tool_calls: [call('call_1', 'get_balance', args)] }, 'tool_calls')));
      const error = await failure(modelAt(fake).next(REQUEST));
      expect(error.kind).toBe('bad_response');
      expect(error.message).toBe(`OpenAI-compatible server at ${fake.url}: the arguments of tool call "get_balance" ${what}`);
    });

    it('a server that never answers is a timeout, and the request is abandoned', async () => {
      const fake = await startFake(() => 'hang');
      const error = await failure(modelAt(fake, { timeoutMs: 200 }).next(REQUEST));
      expect(error.kind).toBe('timeout');
      expect(error.message).toBe(`OpenAI-compatible server at ${fake.url} did not answer within 200 ms`);
      await fake.abandoned;
    });

    it("the request's own signal aborts it, with the signal's reason rather than a ModelError", async () => {
      const fake = await startFake(() => 'hang');
      const controller = new AbortController();
      const pending = modelAt(fake).next({ ...REQUEST, signal: controller.signal });
      await fake.received;
      controller.abort();
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
      await expect(pending).rejects.not.toBeInstanceOf(ModelError);
      await fake.abandoned;
    });

    it('a network failure is unavailable', async () => {
      const fake = await startFake(() => ok(completion({ content: 'never' })));
      await fake.stop();
      const error = await failure(modelAt(fake).next(REQUEST));
      expect(error.kind).toBe('unavailable');
      expect(error.message).toMatch(/^OpenAI-compatible server at http:\/\/127\.0\.0\.1:\d+ could not be reached: .*ECONNREFUSED/);
    });
  });

  describe('configuration', () => {
    it('a missing key is a config error at creation when the base URL is OpenAI', () => {
      for (const env of [{}, { OPENAI_BASE_URL: 'https://api.openai.com/v1/' }]) {
        let thrown: unknown;
        try {
          createOpenAiModel({ model: 'gpt-4.1-mini', env });
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(ModelError);
        expect(thrown).toMatchObject({ kind: 'config' });
        expect((thrown as ModelError).message).toMatch(/^OPENAI_API_KEY is not set/);
      }
    });

    it('OPENAI_BASE_URL pointing at a local server works without a key, and sends no Authorization header', async () => {
      const fake = await startFake(() => ok(completion({ content: 'hello from a local model' })));
      const model = createOpenAiModel({ model: 'llama3.2', env: { OPENAI_BASE_URL: `${fake.url}/v1/` } });
      expect(await model.next(REQUEST)).toEqual({ kind: 'final', text: 'hello from a local model' });
      expect(fake.requests[0]?.url).toBe('/v1/chat/completions');
      expect(fake.requests[0]?.headers.authorization).toBeUndefined();
      expect(fake.requests[0]?.body).toMatchObject({ model: 'llama3.2' });
    });

    it('takes the key from OPENAI_API_KEY', async () => {
      const fake = await startFake(() => ok(completion({ content: 'hi' })));
      const model = createOpenAiModel({ model: 'gpt-4.1-mini', env: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: fake.url } });
      await model.next(REQUEST);
      expect(fake.requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
    });
  });
});
