import { describe, expect, it } from 'vitest';
import { sseParser } from './sse.ts';
import { tokenFromFragment } from './token.ts';

describe('the page’s event-stream parser', () => {
  it('yields whole events only, across chunk boundaries, skipping comments', () => {
    const parser = sseParser();
    expect(parser.push('event: snapshot\ndata: {"loot"')).toEqual([]);
    expect(parser.push(':1}\n\n: keep-alive\n\nevent: progress\r\ndata: a\r\ndata: b\r\n\r\n')).toEqual([
      { event: 'snapshot', data: '{"loot":1}' },
      { event: 'progress', data: 'a\nb' },
    ]);
    expect(parser.push('data: plain\n\n')).toEqual([{ event: 'message', data: 'plain' }]);
  });
});

describe('the token in the fragment', () => {
  it('is read from #token=… and nothing that does not look like one', () => {
    expect(tokenFromFragment('#token=1323ZhMAKT-BQUil4CjyCrhdikcvOoTGbQUvnp6uAi8')).toBe('1323ZhMAKT-BQUil4CjyCrhdikcvOoTGbQUvnp6uAi8');
    expect(tokenFromFragment('')).toBeUndefined();
    expect(tokenFromFragment('#token=short')).toBeUndefined();
    expect(tokenFromFragment('#token=<script>alert(1)</script>xxxxxxxx')).toBeUndefined();
  });
});
