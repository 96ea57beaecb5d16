// The page's reading of an A2A 0.3 stream: events split however the network cuts them, folded into a task whose
// chain and reply read as `trustusbank chat` reads a whole task.
import { describe, expect, it } from 'vitest';
import { applyStreamEvent, createSseParser, viewOf, type StreamState } from './stream.ts';

const meta = (type: string) => ({ kagent_type: type, kagent_author: 'support-bot' });
const EVENTS = [
  { kind: 'task', id: 't1', contextId: 'ctx-1', status: { state: 'working' }, history: [{ kind: 'message', role: 'user', parts: [{ kind: 'text', text: 'balance?' }] }] },
  { kind: 'status-update', taskId: 't1', contextId: 'ctx-1', final: false, status: { state: 'working', message: { kind: 'message', role: 'agent', parts: [{ kind: 'data', data: { id: 'c1', name: 'get_balance', args: { account_id: '12345' } }, metadata: meta('function_call') }] } } },
  { kind: 'status-update', taskId: 't1', contextId: 'ctx-1', final: false, status: { state: 'working', message: { kind: 'message', role: 'agent', parts: [{ kind: 'data', data: { id: 'c1', name: 'get_balance', response: { result: { balance: 4287.55 } } }, metadata: meta('function_response') }] } } },
  { kind: 'artifact-update', taskId: 't1', contextId: 'ctx-1', artifact: { artifactId: 'a1', parts: [{ kind: 'text', text: 'Your balance is £4,287.55.' }] } },
  { kind: 'status-update', taskId: 't1', contextId: 'ctx-1', final: true, status: { state: 'completed', message: { kind: 'message', role: 'agent', metadata: { kagent_author: 'support-bot', kagent_model: 'scripted' }, parts: [{ kind: 'text', text: 'Your balance is £4,287.55.' }] } } },
];
const sse = EVENTS.map((result, i) => `data: ${JSON.stringify({ jsonrpc: '2.0', id: i, result })}\r\n\r\n`).join('');

describe('the page stream reader', () => {
  it('reads events cut at any byte, and builds the chain as it comes', () => {
    for (const cut of [1, 7, 64, sse.length]) {
      const parser = createSseParser();
      let state: StreamState = {};
      const seen: string[] = [];
      for (let at = 0; at < sse.length; at += cut) {
        for (const event of parser.push(sse.slice(at, at + cut))) {
          state = applyStreamEvent(state, JSON.parse(event.data));
          const view = viewOf(state)!;
          seen.push(`${view.chain.length}:${view.text}`);
        }
      }
      expect(seen).toEqual(['0:', '1:', '2:', '2:Your balance is £4,287.55.', '2:Your balance is £4,287.55.']);
      expect(viewOf(state)).toMatchObject({ contextId: 'ctx-1', author: 'support-bot', model: 'scripted', state: 'completed', failed: false });
    }
  });

  it('keeps a JSON-RPC error and an event stream error apart from the reply', () => {
    const parser = createSseParser();
    const [event] = parser.push('event: error\ndata: {"jsonrpc":"2.0","id":1,\ndata: "error":{"code":-32603,"message":"boom"}}\n\n');
    expect(event!.event).toBe('error');
    expect(applyStreamEvent({}, JSON.parse(event!.data))).toEqual({ error: 'A2A error -32603: boom' });
    expect(applyStreamEvent({}, 'nonsense').error).toMatch(/not JSON-RPC/);
  });
});
