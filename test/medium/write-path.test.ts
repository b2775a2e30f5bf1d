import { describe, it, before, after } from 'node:test';
import { expect } from 'expect';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type Redis from 'ioredis';
import type { Connection } from 'mysql2/promise';
import { freshIds, mysqlServer, product, redis, startApp, WRITE_KEY } from '../support/stack';

describe('ProductWriteService against Redis and MariaDB', () => {
  let app: NestFastifyApplication;
  let r: Redis;
  let db: Connection;
  const auth = { authorization: `Bearer ${WRITE_KEY}` };

  before(async () => {
    app = await startApp();
    r = redis();
    db = await mysqlServer('a');
  });

  after(async () => {
    await app.close();
    r.disconnect();
    await db.end();
  });

  const put = (id: number, body: object, headers: Record<string, string> = {}) =>
    app.inject({ method: 'PUT', url: `/v1/products/${id}`, headers: { ...auth, ...headers }, payload: body });

  it('creates with 201, replaces with 200, and bumps the version in MySQL and Redis', async () => {
    const [id] = freshIds(1);
    const created = await put(id, product(`W-${id}`));
    expect(created.statusCode).toBe(201);
    expect(created.headers.etag).toBe(`"p${id}-v1"`);
    const replaced = await put(id, product(`W-${id}`, { brand: 'B' }));
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json()).toMatchObject({ id, version: 2, brand: 'B', sku: `W-${id}` });
    const [rows] = await db.query('SELECT version FROM products WHERE id = ?', [id]);
    expect((rows as Array<{ version: number }>)[0].version).toBe(2);
    expect(JSON.parse((await r.get(`product:${id}`))!)).toMatchObject({ version: 2 });
  });

  it('writes persistent keys, and a write turns a volatile (backfilled) key back into a persistent one', async () => {
    const [id] = freshIds(1);
    await put(id, product(`P-${id}`));
    expect(await r.ttl(`product:${id}`)).toBe(-1);
    await r.del(`product:${id}`);
    await app.inject({ method: 'GET', url: `/v1/products/${id}` });
    expect(await r.ttl(`product:${id}`)).toBeGreaterThan(0);
    await put(id, product(`P-${id}`, { brand: 'again' }));
    expect(await r.ttl(`product:${id}`)).toBe(-1);
  });

  it('honours If-Match: 412 on a stale version, success on the current one', async () => {
    const [id] = freshIds(1);
    await put(id, product(`M-${id}`));
    expect((await put(id, product(`M-${id}`), { 'if-match': `"p${id}-v7"` })).statusCode).toBe(412);
    expect((await put(id, product(`M-${id}`), { 'if-match': `"p${id}-v1"` })).statusCode).toBe(200);
    const [missing] = freshIds(1);
    expect((await put(missing, product(`M-${missing}`), { 'if-match': '*' })).statusCode).toBe(412);
  });

  it('deletes with 204, then reads 404 and deletes 404; re-creating continues the version', async () => {
    const [id] = freshIds(1);
    await put(id, product(`D-${id}`));
    expect(
      (await app.inject({ method: 'DELETE', url: `/v1/products/${id}`, headers: auth })).statusCode,
    ).toBe(204);
    expect((await app.inject({ method: 'GET', url: `/v1/products/${id}` })).statusCode).toBe(404);
    expect(
      (await app.inject({ method: 'DELETE', url: `/v1/products/${id}`, headers: auth })).statusCode,
    ).toBe(404);
    const again = await put(id, product(`D-${id}`));
    expect(again.statusCode).toBe(201);
    expect(again.json()).toMatchObject({ version: 3 });
  });

  it('batch: upserts valid items and rejects invalid ones, each with its result', async () => {
    const [a, b, c] = freshIds(3);
    await put(a, product(`BA-${a}`));
    const res = await app.inject({
      method: 'POST',
      url: '/v1/products/batch',
      headers: auth,
      payload: {
        items: [
          { id: a, ...product(`BA-${a}`) },
          { id: b, ...product(`BB-${b}`) },
          { id: c, sku: 'no name' },
          { id: b, ...product(`BX-${b}`) },
        ],
      },
    });
    expect(res.statusCode).toBe(200);
    const results = res.json<{
      results: Array<{ id: number; result: string; version?: number; errors?: string[] }>;
    }>().results;
    expect(results.map((x) => x.result)).toEqual(['replaced', 'created', 'rejected', 'rejected']);
    expect(results[0].version).toBe(2);
    expect(results[2].errors!.join(' ')).toMatch(/name/);
    expect(JSON.parse((await r.get(`product:${b}`))!)).toMatchObject({ id: b, version: 1 });
    expect(await r.exists(`product:${c}`)).toBe(0);
  });

  it('batch: a sku held by another product rejects that item only', async () => {
    const [owner, x, y] = freshIds(3);
    await put(owner, product(`OWN-${owner}`));
    const res = await app.inject({
      method: 'POST',
      url: '/v1/products/batch',
      headers: auth,
      payload: {
        items: [
          { id: x, ...product(`OWN-${owner}`) },
          { id: y, ...product(`Y-${y}`) },
        ],
      },
    });
    expect(res.json<{ results: Array<{ result: string }> }>().results.map((i) => i.result)).toEqual([
      'rejected',
      'created',
    ]);
  });

  it('never lets an older version overwrite a newer one in Redis', async () => {
    const [id] = freshIds(1);
    await put(id, product(`V-${id}`));
    await put(id, product(`V-${id}`, { brand: 'v2' }));
    const v2 = await r.get(`product:${id}`);
    // A late writer or a replayed outbox row carrying version 1:
    const stale = JSON.stringify({ id, version: 1, sku: `V-${id}` });
    const cache = app.get(
      (await import('@catalog/products/repositories/product-cache.repository')).ProductCacheRepository,
    );
    const opts = {
      tombstoneTtl: 60,
      indexTtl: 0,
      streamMaxLen: 1000,
      node: 'test',
      source: 'relay',
    } as const;
    expect(await cache.apply([{ id, version: 1, doc: stale }], opts)).toEqual({
      changed: 0,
      invalidation: null,
    });
    expect(await r.get(`product:${id}`)).toBe(v2);
  });
});
