import { describe, it, before, after } from 'node:test';
import { expect } from 'expect';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Connection } from 'mysql2/promise';
import { freshIds, mysqlServer, startApp, WRITE_KEY } from '../support/stack';

describe('stock levels per warehouse, availability per market', () => {
  let app: NestFastifyApplication;
  let db: Connection;
  const auth = { authorization: `Bearer ${WRITE_KEY}` };

  before(async () => {
    // de-EUR is stocked from berlin and lyon, fr-EUR from lyon only.
    app = await startApp({ MARKETS: 'de-EUR:berlin+lyon,fr-EUR:lyon', STOCK_LOW_THRESHOLD: '5' });
    db = await mysqlServer('a');
  });
  after(async () => {
    await app.close();
    await db.end();
  });

  const put = (warehouse: string, id: number, quantity: unknown) =>
    app.inject({ method: 'PUT', url: `/v1/stock/${warehouse}/${id}`, headers: auth, payload: { quantity } });
  const read = async (ids: number[], market: string) =>
    (await app.inject({ method: 'GET', url: `/v1/stock?ids=${ids.join(',')}&market=${market}` })).json<{
      data: Array<{ id: number; availability: string; quantity: number }>;
      missing: number[];
    }>();

  it('sums the market warehouses and says in stock, low or out', async () => {
    const [a, b, c, none] = freshIds(4);
    expect((await put('berlin', a, 10)).statusCode).toBe(201);
    expect((await put('lyon', a, 3)).statusCode).toBe(201);
    expect((await put('lyon', b, 2)).statusCode).toBe(201);
    expect((await put('berlin', c, 0)).statusCode).toBe(201);
    expect(await read([a, b, c, none], 'de-EUR')).toEqual({
      data: [
        { id: a, market: 'de-EUR', availability: 'in_stock', quantity: 13 },
        { id: b, market: 'de-EUR', availability: 'low', quantity: 2 },
        { id: c, market: 'de-EUR', availability: 'out_of_stock', quantity: 0 },
      ],
      missing: [none],
    });
    expect(await read([a, c], 'fr-EUR')).toEqual({
      data: [{ id: a, market: 'fr-EUR', availability: 'low', quantity: 3 }],
      missing: [c],
    });
    expect((await put('lyon', a, 30)).statusCode).toBe(200);
    expect((await read([a], 'fr-EUR')).data[0]).toMatchObject({ availability: 'in_stock', quantity: 30 });
    const [rows] = await db.query(
      'SELECT warehouse, quantity, version FROM stock WHERE product_id = ? ORDER BY warehouse',
      [a],
    );
    expect(rows).toEqual([
      { warehouse: 'berlin', quantity: 10, version: 1 },
      { warehouse: 'lyon', quantity: 30, version: 2 },
    ]);
  });

  it('deletes a level through the versioned write, and the market availability follows', async () => {
    const [id] = freshIds(1);
    await put('berlin', id, 10);
    await put('lyon', id, 3);
    expect((await read([id], 'de-EUR')).data[0]).toMatchObject({ quantity: 13 });
    const del = (warehouse: string, headers: Record<string, string> = {}) =>
      app.inject({ method: 'DELETE', url: `/v1/stock/${warehouse}/${id}`, headers: { ...auth, ...headers } });
    expect((await del('berlin', { 'if-match': `"st${id}-berlin-v2"` })).statusCode).toBe(412);
    expect((await del('mars')).statusCode).toBe(400);
    expect((await del('berlin', { 'if-match': `"st${id}-berlin-v1"` })).statusCode).toBe(204);
    expect((await del('berlin')).statusCode).toBe(404);
    expect((await read([id], 'de-EUR')).data[0]).toMatchObject({ availability: 'low', quantity: 3 });
    expect((await del('lyon', { 'if-match': '*' })).statusCode).toBe(204);
    expect(await read([id], 'de-EUR')).toEqual({ data: [], missing: [id] });
    expect(await read([id], 'fr-EUR')).toEqual({ data: [], missing: [id] });
    const [rows] = await db.query(
      'SELECT warehouse, version, doc FROM stock WHERE product_id = ? AND deleted_at IS NOT NULL ORDER BY warehouse',
      [id],
    );
    expect(rows).toEqual([
      { warehouse: 'berlin', version: 2, doc: null },
      { warehouse: 'lyon', version: 2, doc: null },
    ]);
  });

  it('tags every answer stock:{id}, with a short freshness, and refuses bad input', async () => {
    const [id] = freshIds(1);
    await put('berlin', id, 1);
    const res = await app.inject({ method: 'GET', url: `/v1/stock?ids=${id}&market=de-EUR` });
    expect(res.headers.xkey).toBe(`stock:${id}`);
    expect(res.headers['cache-control']).toContain('max-age=10,');
    for (const [w, q] of [
      ['berlin', -1],
      ['berlin', 1.5],
      ['berlin', '3'],
      ['nowhere', 1],
    ] as const)
      expect((await put(w, id, q)).statusCode).toBe(400);
    const batch = await app.inject({
      method: 'POST',
      url: '/v1/stock/batch',
      headers: auth,
      payload: {
        items: [
          { id, warehouse: 'lyon', quantity: 4 },
          { id, warehouse: 'mars', quantity: 1 },
        ],
      },
    });
    expect(batch.json<{ results: Array<{ result: string }> }>().results.map((r) => r.result)).toEqual([
      'created',
      'rejected',
    ]);
  });
});
