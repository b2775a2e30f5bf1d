import { describe, it, before, after } from 'node:test';
import { expect } from 'expect';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type Redis from 'ioredis';
import { StoreBreakers } from '@catalog/health/services/store-breaker';
import { RedisInstance } from '../support/redis-instance';
import { TcpProxy } from '../support/tcp-proxy';
import { freshIds, product, stackEnv, startApp, waitFor, WRITE_KEY } from '../support/stack';

/** How long Redis is paused; the reads must not wait for it. */
const PAUSE_MS = 8_000;
/**
 * A read during the pause may take the Redis breaker's timeout (REDIS_READ_TIMEOUT_MS, 250 ms) plus a MySQL
 * read; bound at 12x that, which holds on a machine 4x slower. Waiting for Redis instead (the command
 * timeout, 2 s, and a backfill's 2 s more) does not fit.
 */
const PAUSED_READ_BOUND_MS = 3_000;

/**
 * Readiness means "this node can answer reads". The app runs on a Redis of the test's own and reaches the
 * MySQL writer and reader endpoints through TCP forwarders that the test can close, so the stores go away
 * for this app only: first the writer, then Redis (paused, then stopped), then the readers.
 */
describe('readiness and store breakers', () => {
  const server = RedisInstance.forBasePort(26398);
  const env = stackEnv();
  const writer = new TcpProxy(Number(env.MYSQL_WRITER_PORT));
  const reader = new TcpProxy(Number(env.MYSQL_READER_PORT));
  let app: NestFastifyApplication;
  let r: Redis;
  let redisStopped = false;
  const hot = freshIds(30);
  const cold = freshIds(5);

  const ready = () => app.inject({ method: 'GET', url: '/health/ready' });
  const read = (ids: number[]) => app.inject({ method: 'GET', url: `/v1/products?ids=${ids.join(',')}` });

  before(async () => {
    await server.start();
    r = server.client();
    await writer.open();
    await reader.open();
    app = await startApp({
      REDIS_URL: server.url,
      REDIS_REPLICA_URL: '',
      MYSQL_WRITER_PORT: String(writer.port),
      MYSQL_READER_PORT: String(reader.port),
    });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/products/batch',
      headers: { authorization: `Bearer ${WRITE_KEY}` },
      payload: { items: [...hot, ...cold].map((id) => ({ id, ...product(`HEALTH-${id}`) })) },
    });
    expect(res.statusCode).toBe(200);
    await r.del(...cold.map((id) => `product:${id}`));
  });

  after(async () => {
    // The app's Redis clients quit cleanly only while a Redis answers on their port.
    const again = redisStopped ? new RedisInstance(server.port) : undefined;
    try {
      await again?.start();
      await app?.close();
    } finally {
      r?.disconnect();
      await Promise.allSettled([writer.close(), reader.close(), server.stop(), again?.stop()]);
    }
  });

  it('is ready with every store up', async () => {
    const res = await ready();
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'ok',
      reads: 'redis',
      details: {
        redis: { status: 'up', breaker: 'closed' },
        mysqlReader: { status: 'up', breaker: 'closed' },
      },
    });
  });

  it('stays ready, and answers reads, while the MySQL writer is gone', async () => {
    await writer.close();
    const res = await ready();
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', reads: 'redis' });
    const hits = await read(hot.slice(0, 3));
    expect(hits.statusCode).toBe(200);
    const misses = await read(cold);
    expect(misses.statusCode).toBe(200);
    expect(misses.headers['x-catalog-tier']).toBe('mysql');
    expect(misses.json<{ missing: number[] }>().missing).toEqual([]);
    // A write cannot be done, and says so (the write path is not this test's subject).
    const put = await app.inject({
      method: 'PUT',
      url: `/v1/products/${hot[0]}`,
      headers: { authorization: `Bearer ${WRITE_KEY}` },
      payload: product(`HEALTH-${hot[0]}`),
    });
    expect(put.statusCode).toBeGreaterThanOrEqual(500);
  });

  it('answers reads from MySQL without waiting for a paused Redis, stays ready, and opens the breaker', async () => {
    const breaker = app.get(StoreBreakers).redis;
    await r.call('CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL');
    const pausedAt = performance.now();
    const timed = async (ids: number[]) => {
      const started = performance.now();
      const res = await read(ids);
      return { res, ms: performance.now() - started };
    };
    // One read per hot id at once: more failed calls than the breaker needs (BREAKER_MIN_CALLS, 10) to open.
    const wave = await Promise.all(hot.slice(0, 20).map((id) => timed([id])));
    const readiness = await ready();
    const afterOpen = await timed(hot.slice(20));
    const elapsed = performance.now() - pausedAt;

    for (const { res } of [...wave, afterOpen]) {
      expect(res.statusCode).toBe(200);
      // Answered from MySQL: Redis would only have answered after the pause.
      expect(res.headers['x-catalog-tier']).toBe('mysql');
    }
    const slowest = Math.max(...wave.map((w) => w.ms), afterOpen.ms);
    expect(slowest).toBeLessThan(PAUSED_READ_BOUND_MS);
    expect(elapsed).toBeLessThan(PAUSE_MS);
    expect(readiness.statusCode).toBe(200);
    expect(readiness.json()).toMatchObject({
      status: 'degraded',
      reads: 'mysql',
      details: { redis: { status: 'down' }, mysqlReader: { status: 'up' } },
    });
    expect(breaker.state).toBe('open');
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^catalog_breaker_state\{store="redis"\} 2$/m);
    expect(metrics).toMatch(/^catalog_breaker_calls_total\{store="redis",outcome="timeout"\} [1-9]/m);
    process.stdout.write(
      `redis paused: ${wave.length + 1} reads answered from mysql, slowest ${Math.round(slowest)} ms ` +
        `(breaker timeout 250 ms); while open: ${Math.round(afterOpen.ms)} ms\n`,
    );

    // Once Redis answers again, a trial call closes the breaker and reads come from Redis again.
    await waitFor(
      async () => {
        if (breaker.state === 'closed') return true;
        await read([hot[0]]); // the trial call of a half-open breaker
        return false;
      },
      PAUSE_MS * 4,
      200,
    );
    const back = await read(hot.slice(0, 3));
    expect(back.headers['x-catalog-tier']).toBe('redis');
  });

  it('stays ready on MySQL, and answers every read, while Redis is gone', async () => {
    await server.stop();
    redisStopped = true;
    const res = await ready();
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'degraded', reads: 'mysql' });
    for (let i = 0; i < 3; i++) {
      const all = await read(hot);
      expect(all.statusCode).toBe(200);
      expect(all.headers['x-catalog-tier']).toBe('mysql');
      expect(all.json<{ data: unknown[] }>().data.length).toBe(hot.length);
    }
  });

  it('is not ready, and refuses reads with 503 and Retry-After, when neither store answers', async () => {
    await reader.close();
    const res = await ready();
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.json()).toMatchObject({
      status: 503,
      checks: { redis: { status: 'down' }, mysqlReader: { status: 'down' } },
    });
    const refused = await read(hot.slice(0, 3));
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['content-type']).toBe('application/problem+json');
    expect(refused.headers['retry-after']).toBe('2');
    expect(refused.json()).toMatchObject({ type: 'https://catalog.example.com/problems/unavailable' });
  });
});
