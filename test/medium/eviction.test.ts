import { describe, it, before, after } from 'node:test';
import { expect } from 'expect';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type Redis from 'ioredis';
import { freshIds, product, redis, startApp, WRITE_KEY } from '../support/stack';

/** maxmemory-policy volatile-lru: under memory pressure only keys with a TTL may go. */
describe('Redis eviction under volatile-lru', () => {
  let app: NestFastifyApplication;
  let r: Redis;
  let savedMaxmemory: string;
  const persistent = freshIds(200);
  const filler = freshIds(3000);

  before(async () => {
    app = await startApp();
    r = redis();
    savedMaxmemory = ((await r.config('GET', 'maxmemory')) as string[])[1];
  });

  after(async () => {
    await r.config('SET', 'maxmemory', savedMaxmemory);
    for (let i = 0; i < filler.length; i += 500)
      await r.unlink(...filler.slice(i, i + 500).map((id) => `product:${id}`));
    await app.close();
    r.disconnect();
  });

  const stat = async (section: string, field: string) =>
    Number(new RegExp(`${field}:(\\d+)`).exec(await r.info(section))![1]);

  it('evicts only volatile keys; every persistent (written) key survives', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/products/batch',
      headers: { authorization: `Bearer ${WRITE_KEY}` },
      payload: { items: persistent.map((id) => ({ id, ...product(`EV-${id}`) })) },
    });
    expect(res.statusCode).toBe(200);
    expect(await r.ttl(`product:${persistent[0]}`)).toBe(-1);

    const evictedBefore = await stat('stats', 'evicted_keys');
    await r.config('SET', 'maxmemory', String((await stat('memory', 'used_memory')) + 4 * 1024 * 1024));
    const blob = 'x'.repeat(10_000);
    for (let i = 0; i < filler.length; i += 100) {
      const p = r.pipeline();
      for (const id of filler.slice(i, i + 100)) p.set(`product:${id}`, blob, 'EX', 3600);
      const results = (await p.exec())!;
      expect(results.filter(([err]) => err !== null)).toEqual([]);
    }

    expect(await stat('stats', 'evicted_keys')).toBeGreaterThan(evictedBefore);
    const present = await r.exists(...persistent.map((id) => `product:${id}`));
    expect(present).toBe(persistent.length);
    const fillerLeft = await r.exists(...filler.map((id) => `product:${id}`));
    expect(fillerLeft).toBeLessThan(filler.length);
  });
});
