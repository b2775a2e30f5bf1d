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

type SkuList = {
  data: Array<{ id: number; sku: string; version: number; gtin?: string }>;
  missing: string[];
};

describe('GET /v1/products/by-sku against Redis and MariaDB', () => {
  let app: NestFastifyApplication;
  let r: Redis;
  let dbs: Connection[];
  const ids = freshIds(50);
  const skuOf = (id: number) => `BYSKU-${id}`;
  const skus = ids.map(skuOf);
  const auth = { authorization: `Bearer ${WRITE_KEY}` };

  before(async () => {
    app = await startApp();
    r = redis();
    dbs = await Promise.all([mysqlServer('a'), mysqlServer('b')]);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/products/batch',
      headers: auth,
      payload: { items: ids.map((id) => ({ id, ...product(skuOf(id)) })) },
    });
    expect(res.statusCode).toBe(200);
  });

  after(async () => {
    await app.close();
    r.disconnect();
    await Promise.all(dbs.map((d) => d.end()));
  });

  const bySku = (list: readonly string[], headers: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url: `/v1/products/by-sku?skus=${list.join(',')}`, headers });
  const put = (id: number, body: object) =>
    app.inject({ method: 'PUT', url: `/v1/products/${id}`, headers: auth, payload: body });

  async function measure(fn: () => Promise<unknown>) {
    const [mget0, select0] = [await commandCalls(r, 'mget'), await comSelect(dbs)];
    await fn();
    return { mgets: (await commandCalls(r, 'mget')) - mget0, selects: (await comSelect(dbs)) - select0 };
  }

  it('serves written skus with one MGET of the sku index, one MGET of the products and no MySQL query', async () => {
    let res!: Awaited<ReturnType<typeof bySku>>;
    expect(await measure(async () => (res = await bySku(skus)))).toEqual({ mgets: 2, selects: 0 });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-catalog-tier']).toBe('redis');
    const body = res.json<SkuList>();
    expect(body.data.map((p) => p.sku)).toEqual(skus);
    expect(body.missing).toEqual([]);
    // The index is derived data: volatile, never part of the persistent set.
    expect(await r.ttl(`sku:${skus[0]}`)).toBeGreaterThan(0);
  });

  it('reads cold skus with one SELECT by sku, then backfills products and index with a TTL', async () => {
    const cold = skus.slice(0, 20);
    await r.del(...cold.map((s) => `sku:${s}`), ...ids.slice(0, 20).map((id) => `product:${id}`));
    let res!: Awaited<ReturnType<typeof bySku>>;
    // The index MGET finds nothing, so there is no product MGET at all.
    expect(await measure(async () => (res = await bySku(cold)))).toEqual({ mgets: 1, selects: 1 });
    expect(res.headers['x-catalog-tier']).toBe('mysql');
    expect(res.json<SkuList>().data.map((p) => p.id)).toEqual(ids.slice(0, 20));
    expect(await r.get(`sku:${cold[3]}`)).toBe(String(ids[3]));
    expect(await r.ttl(`sku:${cold[3]}`)).toBeGreaterThan(0);
    expect(await r.ttl(`product:${ids[3]}`)).toBeGreaterThan(0);
    expect(await measure(async () => (res = await bySku(cold)))).toEqual({ mgets: 2, selects: 0 });
    expect(res.headers['x-catalog-tier']).toBe('redis');
  });

  it('caches a sku found nowhere as a negative entry and lists it as missing, in request order', async () => {
    const nowhere = `NOWHERE-${freshIds(1)[0]}`;
    const list = [nowhere, skus[1], skus[0], skus[1]];
    const first = await bySku(list);
    expect(first.json<SkuList>()).toMatchObject({ missing: [nowhere] });
    expect(first.json<SkuList>().data.map((p) => p.sku)).toEqual([skus[1], skus[0]]);
    expect(await r.get(`sku:${nowhere}`)).toBe('!0');
    let second!: Awaited<ReturnType<typeof bySku>>;
    expect(await measure(async () => (second = await bySku(list)))).toEqual({ mgets: 2, selects: 0 });
    expect(second.json<SkuList>().missing).toEqual([nowhere]);
    expect(second.headers.xkey).toBe(
      `sku:${nowhere} sku:${skus[1]} product:${ids[1]} sku:${skus[0]} product:${ids[0]}`,
    );
  });

  it('coalesces concurrent cold reads of the same skus into one SELECT', async () => {
    const cold = skus.slice(20, 40);
    await r.del(...cold.map((s) => `sku:${s}`));
    const counts = await measure(() => Promise.all(Array.from({ length: 8 }, () => bySku(cold))));
    expect(counts.selects).toBe(1);
  });

  it('never serves the wrong product after a rename, even from a stale index entry', async () => {
    const [a, b] = freshIds(2);
    const [s1, s2] = [`REN-${a}-1`, `REN-${a}-2`];
    expect((await put(a, product(s1))).statusCode).toBe(201);
    expect((await bySku([s1])).json<SkuList>().data.map((p) => p.id)).toEqual([a]);

    // A renames s1 -> s2; then B takes s1.
    expect((await put(a, product(s2))).statusCode).toBe(200);
    // The old sku now reads as missing from Redis, without asking a MySQL reader that may lag.
    expect(await r.get(`sku:${s1}`)).toBe('!0');
    expect((await bySku([s1])).json<SkuList>()).toEqual({ data: [], missing: [s1] });
    expect((await put(b, product(s1))).statusCode).toBe(201);
    const after = (await bySku([s1, s2])).json<SkuList>();
    expect(after.data.map((p) => [p.sku, p.id])).toEqual([
      [s1, b],
      [s2, a],
    ]);

    // An index entry that still names A for s1 (as a lost update would leave it) is caught and repaired.
    await r.set(`sku:${s1}`, String(a));
    let res!: Awaited<ReturnType<typeof bySku>>;
    expect(await measure(async () => (res = await bySku([s1])))).toEqual({ mgets: 2, selects: 1 });
    expect(res.json<SkuList>().data.map((p) => p.id)).toEqual([b]);
    expect(await r.get(`sku:${s1}`)).toBe(String(b));
  });

  it('lists a deleted product as missing', async () => {
    const [id] = freshIds(1);
    const sku = `DEL-${id}`;
    await put(id, product(sku));
    expect((await bySku([sku])).json<SkuList>().data).toHaveLength(1);
    const del = await app.inject({ method: 'DELETE', url: `/v1/products/${id}`, headers: auth });
    expect(del.statusCode).toBe(204);
    let res!: Awaited<ReturnType<typeof bySku>>;
    expect(await measure(async () => (res = await bySku([sku])))).toEqual({ mgets: 1, selects: 0 });
    expect(res.json<SkuList>()).toEqual({ data: [], missing: [sku] });
  });

  it('answers If-None-Match with 304, and changes the ETag when a product changes', async () => {
    const list = skus.slice(40, 45);
    const first = await bySku(list);
    expect(first.headers['cache-control']).toMatch(/^public, max-age=\d+/);
    const etag = String(first.headers.etag);
    const again = await bySku(list, { 'if-none-match': etag });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    await put(ids[41], product(skus[41], { brand: 'Changed' }));
    expect((await bySku(list, { 'if-none-match': etag })).statusCode).toBe(200);
  });

  it('matches the static by-sku route before :id, and rejects bad skus with a problem', async () => {
    for (const url of [
      '/v1/products/by-sku',
      '/v1/products/by-sku?skus=',
      '/v1/products/by-sku?skus=ok,has%20space',
      `/v1/products/by-sku?skus=${Array.from({ length: 501 }, (_, i) => `S${i}`).join(',')}`,
    ]) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(res.json<{ detail: string }>().detail).toMatch(/skus/);
    }
  });

  it('keeps gtin optional: stored and returned when given, absent when not, 400 when malformed', async () => {
    const [withGtin, without] = freshIds(2);
    const created = await put(withGtin, product(`GTIN-${withGtin}`, { gtin: '4006381333931' }));
    expect(created.json<{ gtin: string; sku: string }>()).toMatchObject({ gtin: '4006381333931' });
    const plain = await put(without, product(`GTIN-${without}`));
    expect(Object.keys(plain.json<object>())).not.toContain('gtin');
    const bad = await put(without, product(`GTIN-${without}`, { gtin: '12345' }));
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ detail: string }>().detail).toMatch(/gtin/);
    const read = (await bySku([`GTIN-${withGtin}`])).json<SkuList>();
    expect(read.data[0].gtin).toBe('4006381333931');
  });
});
