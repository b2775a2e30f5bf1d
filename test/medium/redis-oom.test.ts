import { describe, it, before, after } from 'node:test';
import { expect } from 'expect';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type Redis from 'ioredis';
import { RedisInstance } from '../support/redis-instance';
import { freshIds, product, startApp, WRITE_KEY } from '../support/stack';

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

  it('counts writes Redis refuses with OOM; the write is still committed and answered', async () => {
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

    const res = await put(id, 'second');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ version: 2, brand: 'second' });
    expect(await oomCount('write')).toBe(1);
    expect(JSON.parse((await r.get(`product:${id}`))!)).toMatchObject({ version: 1 });

    // A cold read is still answered from MySQL; its backfill is refused and counted.
    const read = await app.inject({ method: 'GET', url: `/v1/products/${cold}` });
    expect(read.statusCode).toBe(200);
    expect(read.headers['x-catalog-tier']).toBe('mysql');
    expect(await oomCount('backfill')).toBe(1);
    await r.config('SET', 'maxmemory', '0');
  });
});
