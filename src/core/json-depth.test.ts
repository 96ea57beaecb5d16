// The attack: a body nested thousands of levels deep, which JSON.parse takes but every recursive consumer
// after it (JSON.stringify, schema validators, walks) overflows on. The clean path: ordinary JSON, strings
// full of brackets and escaped quotes, and values right at the limit parse as before.
import { describe, expect, it } from 'vitest';
import { JsonSyntaxError, JsonTooDeepError, MAX_JSON_DEPTH, jsonDepthProblem, parseBoundedJson } from './json-depth.ts';

const nested = (depth: number, open = '{"a":', close = '}'): string => open.repeat(depth) + '1' + close.repeat(depth);

describe('jsonDepthProblem', () => {
  it('lets through values up to the limit, objects and arrays alike', () => {
    expect(jsonDepthProblem(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(jsonDepthProblem(nested(MAX_JSON_DEPTH, '[', ']'))).toBeUndefined();
    expect(jsonDepthProblem('{"a":[1,{"b":[]}],"c":"x"}', 4)).toBeUndefined();
    expect(jsonDepthProblem('{"a":[1,{"b":[]}],"c":"x"}', 3)?.path).toEqual(['a', 1, 'b']);
  });

  it('refuses one level more, and 100,000 levels, without recursion', () => {
    expect(jsonDepthProblem(nested(MAX_JSON_DEPTH + 1))).toBeInstanceOf(JsonTooDeepError);
    expect(jsonDepthProblem(nested(100_000, '[', ']'))).toBeInstanceOf(JsonTooDeepError);
    expect(jsonDepthProblem(nested(100_000))?.message).toBe(`JSON nested deeper than ${MAX_JSON_DEPTH} levels (under a.a.a.a)`);
  });

  it('counts no bracket inside a string, escaped quotes included', () => {
    const inString = JSON.stringify({ text: '{'.repeat(5000) + '\\"[[[[' + '"' });
    expect(jsonDepthProblem(inString, 2)).toBeUndefined();
    expect(JSON.parse(inString)).toBeTruthy();
  });

  it('names the member the nesting was under: a JSON-RPC message, a batch element', () => {
    const message = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":${nested(1000)}}}`;
    expect(jsonDepthProblem(message)?.path).toEqual(['params', '_meta', 'a', 'a']);
    const batch = `[{"id":1},{"id":2,"params":{"arguments":{"x":${nested(1000, '[', ']')}}}}]`;
    expect(jsonDepthProblem(batch)?.path).toEqual([1, 'params', 'arguments', 'x']);
    const escapedKey = `{"pa\\u0072ams":${nested(300)}}`;
    expect(jsonDepthProblem(escapedKey)?.path[0]).toBe('params');
  });
});

describe('parseBoundedJson', () => {
  it('parses what is within the limit', () => {
    expect(parseBoundedJson('{"a":[1,2,{"b":null}]}')).toEqual({ ok: true, value: { a: [1, 2, { b: null }] } });
  });

  it('says why it refuses: too deep, or not JSON', () => {
    const deep = parseBoundedJson(nested(10_000));
    expect(deep.ok).toBe(false);
    expect(!deep.ok && deep.error).toBeInstanceOf(JsonTooDeepError);
    const broken = parseBoundedJson('{"a":');
    expect(!broken.ok && broken.error).toBeInstanceOf(JsonSyntaxError);
  });
});
