import { describe, expect, it } from 'vitest';
import type { ModelProvider, ModelRequest, ModelTurn } from '../models/types.ts';
import { runToolLoop, type LoopOutcome } from './loop.ts';

const TOOL = { tool: { name: 'lookup', description: 'Looks things up', inputSchema: { type: 'object' } } };

function modelOf(turns: (request: ModelRequest, index: number) => ModelTurn): ModelProvider & { requests: ModelRequest[] } {
  const requests: ModelRequest[] = [];
  return {
    provider: 'test',
    model: 'test',
    scripted: false,
    requests,
    next(request) {
      requests.push(structuredClone({ ...request, signal: undefined }));
      return Promise.resolve(turns(request, requests.length - 1));
    },
  };
}

describe('the tool loop', () => {
  it('runs the calls the model asks for, in order, shows it the results and ends on its text', async () => {
    const model = modelOf((_r, i) =>
      i === 0
        ? { kind: 'tool_calls', toolCalls: [{ id: 'a', name: 'lookup', arguments: { q: 1 } }, { id: 'b', name: 'lookup', arguments: { q: 2 } }] }
        : { kind: 'final', text: 'done' },
    );
    const seen: string[] = [];
    const result = await runToolLoop<typeof TOOL, LoopOutcome>({
      model,
      system: 'sys',
      messages: [{ role: 'user', content: 'hi' }],
      bindings: [TOOL],
      call: (_b, args) => {
        seen.push(JSON.stringify(args));
        return Promise.resolve({ content: `answer ${String(args.q)}`, isError: false });
      },
      unknownTool: () => ({ content: 'unknown', isError: true }),
      maxSteps: 5,
    });
    expect(seen).toEqual(['{"q":1}', '{"q":2}']);
    expect(result).toMatchObject({ text: 'done', steps: 2, stoppedBy: 'final' });
    expect(model.requests[1]!.messages.slice(-2)).toEqual([
      { role: 'tool', toolCallId: 'a', name: 'lookup', content: 'answer 1' },
      { role: 'tool', toolCallId: 'b', name: 'lookup', content: 'answer 2' },
    ]);
    expect(model.requests[0]!.tools).toEqual([TOOL.tool]);
  });

  it('shows the model a failed tool and a tool it made up as errors, and lets it go on', async () => {
    const model = modelOf((_r, i) =>
      i === 0 ? { kind: 'tool_calls', toolCalls: [{ id: 'a', name: 'lookup', arguments: {} }, { id: 'b', name: 'imaginary', arguments: {} }] } : { kind: 'final', text: 'sorry' },
    );
    const events: string[] = [];
    await runToolLoop<typeof TOOL, LoopOutcome>({
      model,
      system: '',
      messages: [{ role: 'user', content: 'hi' }],
      bindings: [TOOL],
      call: () => Promise.resolve({ content: '{"error":"backend down"}', isError: true }),
      unknownTool: (name) => ({ content: `no tool ${name}`, isError: true }),
      maxSteps: 5,
      onEvent: (e) => void events.push(`${e.type}:${e.call.name}:${e.binding ? 'bound' : 'unbound'}`),
    });
    expect(model.requests[1]!.messages.slice(-2)).toEqual([
      { role: 'tool', toolCallId: 'a', name: 'lookup', content: '{"error":"backend down"}', isError: true },
      { role: 'tool', toolCallId: 'b', name: 'imaginary', content: 'no tool imaginary', isError: true },
    ]);
    expect(events).toEqual(['call:lookup:bound', 'result:lookup:bound', 'call:imaginary:unbound', 'result:imaginary:unbound']);
  });

  it('stops at the step limit with a reply that says so', async () => {
    const model = modelOf(() => ({ kind: 'tool_calls', toolCalls: [{ id: 'x', name: 'lookup', arguments: {} }] }));
    let calls = 0;
    const result = await runToolLoop<typeof TOOL, LoopOutcome>({
      model,
      system: '',
      messages: [{ role: 'user', content: 'loop forever' }],
      bindings: [TOOL],
      call: () => Promise.resolve({ content: 'again', isError: (calls++, false) }),
      unknownTool: () => ({ content: '', isError: true }),
      maxSteps: 3,
    });
    expect(calls).toBe(3);
    expect(result.stoppedBy).toBe('step-limit');
    expect(result.text).toContain('within 3 steps');
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      runToolLoop<typeof TOOL, LoopOutcome>({ model: modelOf(() => ({ kind: 'final', text: 'x' })), system: '', messages: [], bindings: [], call: () => Promise.reject(new Error()), unknownTool: () => ({ content: '', isError: true }), maxSteps: 2, signal: controller.signal }),
    ).rejects.toThrow();
  });
});
