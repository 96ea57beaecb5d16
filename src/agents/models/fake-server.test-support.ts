// What the HTTP provider tests share: a local fake of a model API that records each request and answers as the test
// says, and the tools, request and agent loop the tests drive it with. Not a test file itself (vitest runs only
// *.test.ts); a test file calls `closeFakes` after each test.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { type ChatMessage, ModelError, type ModelProvider, type ModelTool, type ModelTurn, type ToolCall } from './types.ts';

export interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/** What the fake answers: a status and a body (an object is sent as JSON, a string as is), or nothing at all. */
export type Reply = { status: number; body: unknown; headers?: Record<string, string> } | 'hang';

export interface Fake {
  url: string;
  requests: Received[];
  /** Resolves when the first request has arrived. */
  received: Promise<void>;
  /** Resolves when a request the fake never answered has been closed by the client. */
  abandoned: Promise<void>;
  /** Stops the server now, so that its URL refuses connections. */
  stop(): Promise<void>;
}

const servers: Server[] = [];

/** Closes every fake still running; for `afterEach`. */
export async function closeFakes(): Promise<void> {
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    }),
  );
}

/** A fake API on 127.0.0.1; `reply` sees each request (and its index) and says what to answer. */
export async function startFake(reply: (request: Received, index: number) => Reply): Promise<Fake> {
  const requests: Received[] = [];
  let onReceived!: () => void;
  let onAbandoned!: () => void;
  const received = new Promise<void>((resolve) => (onReceived = resolve));
  const abandoned = new Promise<void>((resolve) => (onAbandoned = resolve));
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const request: Received = { method: req.method, url: req.url, headers: req.headers, body: text === '' ? undefined : JSON.parse(text) };
      requests.push(request);
      onReceived();
      const answer = reply(request, requests.length - 1);
      if (answer === 'hang') {
        res.on('close', () => onAbandoned());
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stop = async (): Promise<void> => {
    servers.splice(servers.indexOf(server), 1);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { url: `http://127.0.0.1:${port}`, requests, received, abandoned, stop };
}

export function ok(body: unknown): Reply {
  return { status: 200, body };
}

/** The conversation tests' system prompt. */
export const SYSTEM = 'You are the bank support bot.';

export const TOOLS: ModelTool[] = [
  {
    name: 'get_balance',
    description: 'The balance of an account.',
    inputSchema: { type: 'object', properties: { account: { type: 'string' } }, required: ['account'] },
  },
  {
    name: 'list_transactions',
    description: 'Recent transactions of an account.',
    inputSchema: { type: 'object', properties: { account: { type: 'string' }, limit: { type: 'number' } } },
  },
];

export const REQUEST = { system: SYSTEM, messages: [{ role: 'user', content: 'Hi' }] as ChatMessage[], tools: TOOLS };

/** The failure of a call, which must be a ModelError. */
export async function failure(promise: Promise<unknown>): Promise<ModelError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ModelError);
    return error as ModelError;
  }
  throw new Error('expected the call to fail');
}

/** What the test's tools answer: get_balance succeeds, anything else reports an error. */
function runTool(toolCall: ToolCall): { content: string; isError?: boolean } {
  if (toolCall.name === 'get_balance') return { content: `balance of ${String(toolCall.arguments.account)}: 1204.50 EUR` };
  return { content: 'account is locked', isError: true };
}

/** A minimal agent loop: ask, run the tools asked for, hand back the results, until the model answers. */
export async function converse(model: ModelProvider, question: string): Promise<{ turns: ModelTurn[]; messages: ChatMessage[] }> {
  const messages: ChatMessage[] = [{ role: 'user', content: question }];
  const turns: ModelTurn[] = [];
  for (let step = 0; step < 5; step++) {
    const turn = await model.next({ system: SYSTEM, messages: [...messages], tools: TOOLS });
    turns.push(turn);
    if (turn.kind === 'final') return { turns, messages };
    messages.push({ role: 'assistant', content: turn.text ?? '', toolCalls: turn.toolCalls });
    for (const call of turn.toolCalls) messages.push({ role: 'tool', toolCallId: call.id, name: call.name, ...runTool(call) });
  }
  throw new Error('the conversation did not end');
}
