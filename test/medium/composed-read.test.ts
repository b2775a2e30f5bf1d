import { describe, it, before, after } from 'node:test';
import { expect } from 'expect';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import Redis from 'ioredis';
import type { Connection } from 'mysql2/promise';
import {
  commandCalls,
  comSelect,
  freshIds,
  mysqlServer,
  product,
  redis,
  stackEnv,
  startApp,
  WRITE_KEY,
} from '../support/stack';

interface Composed {
  id: number;
  name: Record<string, string>;
  price?: { amount: number; market: string } | null;
  stock?: { availability: string; quantity: number } | null;
}

/** The test stack runs products on one Redis and prices + stock on another (scripts/stack.sh). */
describe('composed read: products with price and stock, one MGET per Redis', () => {
  let app: NestFastifyApplication;
  let products: Redis;
  let prices: Redis;
  let dbs: Connection[];
  const ids = freshIds(100);
  const auth = { authorization: `Bearer ${WRITE_KEY}` };
  const url = `/v1/products?ids=${ids.join(',')}&market=de-EUR&locale=de&include=price,stock`;

  before(async () => {
    app = await startApp();
    products = redis();
    prices = new Redis(stackEnv().REDIS_PRICE_URL);
    dbs = await Promise.all([mysqlServer('a'), mysqlServer('b')]);
    const post = async (path: string, items: object[]) =>
      expect(
        (await app.inject({ method: 'POST', url: path, headers: auth, payload: { items } })).statusCode,
      ).toBe(200);
    await post(
      '/v1/products/batch',
      ids.map((id) => ({
        id,
        ...product(`CMP-${id}`, { name: { en: `P ${id}`, de: `Ware ${id}`, 'de-AT': `Ware AT ${id}` } }),
      })),
    );
    await post(
      '/v1/prices/batch',
      ids.slice(0, 90).map((id) => ({ id, market: 'de-EUR', amount: 1000 + (id % 100) })),
    );
    await post(
      '/v1/stock/batch',
      ids.slice(0, 80).map((id) => ({ id, warehouse: 'berlin', quantity: id % 7 })),
    );
  });

  after(async () => {
    await app.close();
    products.disconnect();
    prices.disconnect();
    await Promise.all(dbs.map((d) => d.end()));
  });

  async function measure(fn: () => Promise<unknown>) {
    const before = [
      await commandCalls(products, 'mget'),
      await commandCalls(prices, 'mget'),
      await comSelect(dbs),
    ];
    await fn();
    const after = [
      await commandCalls(products, 'mget'),
      await commandCalls(prices, 'mget'),
      await comSelect(dbs),
    ];
    return {
      productMgets: after[0] - before[0],
      priceStockMgets: after[1] - before[1],
      selects: after[2] - before[2],
    };
  }

  it('runs prices and stock on a Redis of their own', () => {
    expect(stackEnv().REDIS_PRICE_URL).not.toBe(stackEnv().REDIS_URL);
  });

  it('costs exactly one MGET on each Redis for 100 ids with include=price,stock', async () => {
    await app.inject({ method: 'GET', url }); // misses of types never read here are loaded once
    let res!: Awaited<ReturnType<NestFastifyApplication['inject']>>;
    expect(await measure(async () => (res = await app.inject({ method: 'GET', url })))).toEqual({
      productMgets: 1,
      priceStockMgets: 1,
      selects: 0,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ data: Composed[]; missing: number[] }>();
    expect(body.data.map((p) => p.id)).toEqual(ids);
    expect(body.data[0].name).toEqual({ de: `Ware ${ids[0]}`, 'de-AT': `Ware AT ${ids[0]}` });
    expect(body.data[0].price).toMatchObject({ market: 'de-EUR', amount: 1000 + (ids[0] % 100) });
    expect(body.data[95].price).toBeNull();
    expect(body.data[0].stock).toEqual({
      market: 'de-EUR',
      // STOCK_LOW_THRESHOLD 5: a level of 6 is in stock (ids are fresh per run, so any of 0..6 comes up).
      availability: ids[0] % 7 === 0 ? 'out_of_stock' : ids[0] % 7 <= 5 ? 'low' : 'in_stock',
      quantity: ids[0] % 7,
    });
    expect(body.data[85].stock).toBeNull();
    expect(res.headers.xkey).toContain(`product:${ids[0]} price:de-EUR:${ids[0]} stock:${ids[0]}`);
    expect(res.headers['cache-control']).toContain('max-age=10,');
  });

  it('keeps one availability key per product and market in step with every level write', async () => {
    await app.inject({ method: 'GET', url }); // derives what the levels' writes could not (lyon unknown)
    const put = (warehouse: string, id: number, quantity: number) =>
      app.inject({
        method: 'PUT',
        url: `/v1/stock/${warehouse}/${id}`,
        headers: auth,
        payload: { quantity },
      });
    expect((await put('lyon', ids[1], 40)).statusCode).toBe(201);
    expect((await put('berlin', ids[90], 2)).statusCode).toBe(201);
    let res!: Awaited<ReturnType<NestFastifyApplication['inject']>>;
    // The writes' apply derived the keys: still one MGET, and no level read.
    expect(await measure(async () => (res = await app.inject({ method: 'GET', url })))).toEqual({
      productMgets: 1,
      priceStockMgets: 1,
      selects: 0,
    });
    const data = res.json<{ data: Composed[] }>().data;
    expect(data[1].stock).toEqual({
      market: 'de-EUR',
      availability: 'in_stock',
      quantity: 40 + (ids[1] % 7),
    });
    expect(data[90].stock).toEqual({ market: 'de-EUR', availability: 'low', quantity: 2 });
    expect((await prices.get(`stock:de-EUR:berlin+lyon:5:${ids[1]}`))?.startsWith('berlin:1;lyon:1;{')).toBe(
      true,
    );
    // The fallback (no key) answers the same bytes and ETag as the key.
    const etag = res.headers.etag;
    await prices.del(ids.map((id) => `stock:de-EUR:berlin+lyon:5:${id}`));
    const fallback = await app.inject({ method: 'GET', url });
    expect(fallback.headers.etag).toBe(etag);
    expect(fallback.body).toBe(res.body);
  });

  it('changes the ETag when a price changes, and answers 304 to the current one', async () => {
    const first = await app.inject({ method: 'GET', url });
    const etag = first.headers.etag as string;
    expect((await app.inject({ method: 'GET', url, headers: { 'if-none-match': etag } })).statusCode).toBe(
      304,
    );
    await app.inject({
      method: 'PUT',
      url: `/v1/prices/de-EUR/${ids[3]}`,
      headers: auth,
      payload: { amount: 5 },
    });
    const after = await app.inject({ method: 'GET', url });
    expect(after.headers.etag).not.toBe(etag);
    expect(after.json<{ data: Composed[] }>().data[3].price).toMatchObject({ amount: 5 });
  });

  it('answers the plain bulk read exactly as before without include, market or locale', async () => {
    const plain = await app.inject({ method: 'GET', url: `/v1/products?ids=${ids[0]}` });
    const doc = plain.json<{ data: Composed[] }>().data[0];
    expect(doc.price).toBeUndefined();
    expect(doc.name).toEqual({ en: `P ${ids[0]}`, de: `Ware ${ids[0]}`, 'de-AT': `Ware AT ${ids[0]}` });
    for (const q of [
      'include=price',
      'market=de-EUR',
      'include=cost&market=de-EUR',
      'include=price&market=xx-XXX',
      'locale=DE',
    ])
      expect((await app.inject({ method: 'GET', url: `/v1/products?ids=${ids[0]}&${q}` })).statusCode).toBe(
        400,
      );
  });
});
