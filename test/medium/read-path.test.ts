import { describe, it, before, after } from 'node:test';
import { expect } from 'expect';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type Redis from 'ioredis';
import type { Connection } from 'mysql2/promise';
import {
  commandCalls,
  comSelect,
  freshIds,
  mysqlServer,
  product,
  redis,
  startApp,
  WRITE_KEY,
} from '../support/stack';

describe('ProductReadService against Redis and MariaDB', () => {
  let app: NestFastifyApplication;
  let r: Redis;
  let dbs: Connection[];
  const ids = freshIds(100);
  const nowhere = freshIds(1)[0];

  before(async () => {
    app = await startApp();
    r = redis();
    dbs = await Promise.all([mysqlServer('a'), mysqlServer('b')]);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/products/batch',
      headers: { authorization: `Bearer ${WRITE_KEY}` },
      payload: { items: ids.map((id) => ({ id, ...product(`READ-${id}`) })) },
    });
    expect(res.statusCode).toBe(200);
  });

  after(async () => {
    await app.close();
    r.disconnect();
    await Promise.all(dbs.map((d) => d.end()));
  });

  const bulk = () => app.inject({ method: 'GET', url: `/v1/products?ids=${ids.join(',')}` });

  /** Counts Redis MGETs and MySQL SELECTs (on both masters) that one call makes. */
  async function measure(fn: () => Promise<unknown>) {
    const [mget0, select0] = [await commandCalls(r, 'mget'), await comSelect(dbs)];
    await fn();
    return { mgets: (await commandCalls(r, 'mget')) - mget0, selects: (await comSelect(dbs)) - select0 };
  }

  it('serves 100 hot ids with exactly one MGET and no MySQL query', async () => {
    let res!: Awaited<ReturnType<typeof bulk>>;
    expect(await measure(async () => (res = await bulk()))).toEqual({ mgets: 1, selects: 0 });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-catalog-tier']).toBe('redis');
    const body = res.json<{ data: Array<{ id: number }>; missing: number[] }>();
    expect(body.data.map((p) => p.id)).toEqual(ids);
    expect(body.missing).toEqual([]);
  });

  it('reads evicted ids with one MGET and one SELECT, then backfills them with a TTL', async () => {
    await r.del(...ids.map((id) => `product:${id}`));
    let res!: Awaited<ReturnType<typeof bulk>>;
    expect(await measure(async () => (res = await bulk()))).toEqual({ mgets: 1, selects: 1 });
    expect(res.headers['x-catalog-tier']).toBe('mysql');
    expect(res.json<{ data: unknown[] }>().data).toHaveLength(100);
    const ttls = await Promise.all(ids.map((id) => r.ttl(`product:${id}`)));
    expect(ttls.every((t) => t > 0)).toBe(true);
    expect(await measure(async () => (res = await bulk()))).toEqual({ mgets: 1, selects: 0 });
  });

  it('answers an id that exists nowhere from the negative entry on the second read', async () => {
    const url = `/v1/products?ids=${ids[0]},${nowhere}`;
    const first = await app.inject({ method: 'GET', url });
    expect(first.json<{ missing: number[] }>().missing).toEqual([nowhere]);
    expect(await r.ttl(`product:${nowhere}`)).toBeGreaterThan(0);
    let second!: Awaited<ReturnType<typeof bulk>>;
    expect(await measure(async () => (second = await app.inject({ method: 'GET', url })))).toEqual({
      mgets: 1,
      selects: 0,
    });
    expect(second.headers['x-catalog-tier']).toBe('redis');
    expect(second.json<{ missing: number[] }>().missing).toEqual([nowhere]);
    const single = await app.inject({ method: 'GET', url: `/v1/products/${nowhere}` });
    expect(single.statusCode).toBe(404);
    expect(single.headers['content-type']).toBe('application/problem+json');
  });

  it('coalesces concurrent misses for the same ids into one SELECT', async () => {
    const cold = ids.slice(0, 30);
    await r.del(...cold.map((id) => `product:${id}`));
    const counts = await measure(() =>
      Promise.all(
        Array.from({ length: 10 }, () =>
          app.inject({ method: 'GET', url: `/v1/products?ids=${cold.join(',')}` }),
        ),
      ),
    );
    expect(counts).toEqual({ mgets: 10, selects: 1 });
  });

  it('keeps data in request order, drops duplicates and lists missing ids in request order', async () => {
    const [m1, m2] = freshIds(2);
    const res = await app.inject({
      method: 'GET',
      url: `/v1/products?ids=${m2},${ids[5]},${ids[2]},${ids[5]},${m1}`,
    });
    const body = res.json<{ data: Array<{ id: number }>; missing: number[] }>();
    expect(body.data.map((p) => p.id)).toEqual([ids[5], ids[2]]);
    expect(body.missing).toEqual([m2, m1]);
    expect(res.headers.xkey).toBe(`product:${m2} product:${ids[5]} product:${ids[2]} product:${m1}`);
  });

  it('answers If-None-Match with the current ETag with 304, and a new ETag after a write', async () => {
    const url = `/v1/products/${ids[7]}`;
    const first = await app.inject({ method: 'GET', url });
    const etag = String(first.headers.etag);
    expect(first.headers['cache-control']).toMatch(
      /public, max-age=\d+.*stale-while-revalidate=\d+.*stale-if-error=\d+/,
    );
    const again = await app.inject({ method: 'GET', url, headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    const bulkFirst = await bulk();
    const bulkAgain = await app.inject({
      method: 'GET',
      url: `/v1/products?ids=${ids.join(',')}`,
      headers: { 'if-none-match': String(bulkFirst.headers.etag) },
    });
    expect(bulkAgain.statusCode).toBe(304);

    await app.inject({
      method: 'PUT',
      url,
      headers: { authorization: `Bearer ${WRITE_KEY}` },
      payload: product(`READ-${ids[7]}`, { brand: 'New' }),
    });
    const changed = await app.inject({ method: 'GET', url, headers: { 'if-none-match': etag } });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect((await bulk()).headers.etag).not.toBe(bulkFirst.headers.etag);
  });
});
