import { describe, expect, it } from 'vitest';
import { tokenFromFragment } from './token.ts';

describe('the token in the fragment', () => {
  it('is read from #token=… and nothing that does not look like one', () => {
    expect(tokenFromFragment('#token=1323ZhMAKT-BQUil4CjyCrhdikcvOoTGbQUvnp6uAi8')).toBe('1323ZhMAKT-BQUil4CjyCrhdikcvOoTGbQUvnp6uAi8');
    expect(tokenFromFragment('')).toBeUndefined();
    expect(tokenFromFragment('#token=short')).toBeUndefined();
    expect(tokenFromFragment('#token=<script>alert(1)</script>xxxxxxxx')).toBeUndefined();
  });
});
