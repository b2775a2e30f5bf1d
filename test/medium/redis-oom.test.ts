import { describe, it, before, after } from 'node:test';
import { expect } from 'expect';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type Redis from 'ioredis';
import { RedisInstance } from '../support/redis-instance';
import { freshIds, product, startApp, waitFor, WRITE_KEY } from '../support/stack';
import { check } from '../support/check-plugin';

/** volatile-lru with nothing volatile left: Redis refuses writes, and the service must say so. */
describe('Redis OOM on the write and backfill paths', () => {
  const server = RedisInstance.forBasePort(26397);
  let app: NestFastifyApplication;
  let r: Redis;
  const auth = { authorization: `Bearer ${WRITE_KEY}` };

  before(async () => {
    await server.start('0');
    r = server.client();
    app = await startApp({ REDIS_URL: server.url, REDIS_REPLICA_URL: '' });
  });

  after(async () => {
    await app?.close();
    r?.disconnect();
    await server.stop();
  });

  const oomCount = async (op: string) => {
    const body = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    const m = new RegExp(`^catalog_redis_errors_total\\{op="${op}",kind="oom"\\} (\\d+)$`, 'm').exec(body);
    return m ? Number(m[1]) : 0;
  };

  it('applies an update in place when Redis is full, so no reader sees the old version', async () => {
    const [id, cold] = freshIds(2);
    const put = (pid: number, brand: string) =>
      app.inject({
        method: 'PUT',
        url: `/v1/products/${pid}`,
        headers: auth,
        payload: product(`OOM-${pid}`, { brand }),
      });
    expect((await put(id, 'first')).statusCode).toBe(201);
    expect((await put(cold, 'cold')).statusCode).toBe(201);
    await r.del(`product:${cold}`);
    // Every key is persistent: with maxmemory below what is used, nothing can be evicted.
    await r.config('SET', 'maxmemory', '1');
    try {
      await expect(r.set('probe', 'x')).rejects.toThrow(/^OOM /);

      const res = await put(id, 'second');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ version: 2, brand: 'second' });
      expect(await oomCount('write')).toBe(1);
      // The key Redis had is replaced (the old version would be served for as long as memory stays full).
      expect(JSON.parse((await r.get(`product:${id}`))!)).toMatchObject({ version: 2, brand: 'second' });
      const read = await app.inject({ method: 'GET', url: `/v1/products/${id}` });
      expect(read.json()).toMatchObject({ version: 2, brand: 'second' });

      // A key Redis did not have is not created under OOM: reads of it go to MySQL.
      expect((await put(cold, 'cold again')).statusCode).toBe(200);
      expect(await r.exists(`product:${cold}`)).toBe(0);
      // The cold read goes to the reader endpoint (either master): the other master serves version 2 once
      // it has applied it (semi-sync acknowledges on receipt, not on apply), so wait for that, boundedly.
      const coldRead = await waitFor(async () => {
        const res = await app.inject({ method: 'GET', url: `/v1/products/${cold}` });
        return res.json<{ version: number }>().version === 2 ? res : undefined;
      }, 10_000);
      expect(coldRead.statusCode).toBe(200);
      expect(coldRead.headers['x-catalog-tier']).toBe('mysql');
      expect(coldRead.json()).toMatchObject({ version: 2, brand: 'cold again' });
      // Its backfill is refused and counted (once per read that missed, so at least once).
      expect(await oomCount('backfill')).toBeGreaterThanOrEqual(1);
      // Both writes are published for the edge purgers all the same.
      const entries = await r.xrange('invalidations:product', '-', '+');
      const ids = entries.flatMap(([, f]) => (f[f.indexOf('ids') + 1] ?? '').split(' '));
      expect(ids.filter((x) => x === String(id)).length).toBe(2);
      expect(ids.filter((x) => x === String(cold)).length).toBe(2);
    } finally {
      await r.config('SET', 'maxmemory', '0');
    }
  });
});

/** The state the check plugin (and Icinga, test/medium/icinga2.test.ts) must page on: a Redis really full. */
describe('check_catalog_redis on a Redis filled to OOM with nothing volatile', () => {
  const server = RedisInstance.forBasePort(26398);
  let r: Redis;

  before(async () => {
    await server.start('16mb');
    r = server.client();
  });

  after(async () => {
    r?.disconnect();
    await server.stop();
  });

  it('goes from OK to CRITICAL as persistent writes fill memory, and Redis then refuses writes', async () => {
    const port = String(server.port);
    expect((await check('-p', port)).code).toBe(0);
    // Persistent 1 KB documents, as the catalog writes them, until Redis answers OOM.
    let oom: Error | undefined;
    for (let batch = 0; !oom && batch < 100; batch++) {
      const p = r.pipeline();
      for (let i = 0; i < 500; i++) p.set(`product:${batch * 500 + i}`, 'x'.repeat(1000));
      oom = ((await p.exec()) ?? []).map(([err]) => err).find((err): err is Error => err !== null);
    }
    expect(oom?.message).toMatch(/^OOM command not allowed when used memory > 'maxmemory'/);
    // Single writes until the next one is refused too (the pipeline's buffers are freed once it is answered).
    let refused = false;
    for (let i = 0; !refused && i < 1000; i++)
      refused = await r.set(`product:more-${i}`, 'x'.repeat(1000)).then(
        () => false,
        () => true,
      );
    expect(refused).toBe(true);

    const full = await check('-p', port);
    expect(full.code).toBe(2);
    expect(full.status).toMatch(
      /^REDIS WRITE ROOM CRITICAL - room for 0 bursts of 1\.6 MiB \(CRITICAL outside 1:\): 0\.0 MiB free \+ ~0\.0 MiB evictable of 1\d\.\d MiB used \/ 16\.0 MiB maxmemory; expire ratio 0 \(0 of \d+ keys volatile\), policy volatile-lru$/,
    );
    expect(full.perf.bursts).toMatch(/^0(\.0\d*)?;2:;1:;0;$/);
    expect(full.perf.evictable_memory).toBe('0B;;;0;');
    expect(full.perf.write_room).toMatch(/^\d+B;3355444:;1677722:;0;16777216$/);
  });
});
