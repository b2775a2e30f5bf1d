import { describe, it, before, after } from 'node:test';
import { expect } from 'expect';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Connection } from 'mysql2/promise';
import { freshIds, mysqlServer, startApp, WRITE_KEY } from '../support/stack';

describe('prices per market against Redis and MariaDB', () => {
  let app: NestFastifyApplication;
  let db: Connection;
  const auth = { authorization: `Bearer ${WRITE_KEY}` };

  before(async () => {
    app = await startApp();
    db = await mysqlServer('a');
  });
  after(async () => {
    await app.close();
    await db.end();
  });

  it('creates with 201, replaces with 200, reads back by ids and market, and keeps amounts integers', async () => {
    const [a, b] = freshIds(2);
    const put = (id: number, body: object) =>
      app.inject({ method: 'PUT', url: `/v1/prices/de-EUR/${id}`, headers: auth, payload: body });
    const first = await put(a, { amount: 1999, strikeThrough: 2499 });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({
      id: a,
      version: 1,
      market: 'de-EUR',
      currency: 'EUR',
      amount: 1999,
    });
    expect((await put(a, { amount: 1899 })).statusCode).toBe(200);

    const res = await app.inject({ method: 'GET', url: `/v1/prices?ids=${a},${b}&market=de-EUR` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      data: [{ id: a, version: 2, amount: 1899, strikeThrough: null }],
      missing: [b],
    });
    expect(res.headers.xkey).toBe(`price:de-EUR:${a} price:de-EUR:${b}`);
    const [rows] = await db.query('SELECT amount, version FROM prices WHERE product_id = ? AND market = ?', [
      a,
      'de-EUR',
    ]);
    expect(rows).toEqual([{ amount: 1899, version: 2 }]);
    const [outbox] = await db.query(
      "SELECT record_type FROM outbox WHERE record_id = ? AND record_type LIKE 'price:%'",
      [a],
    );
    expect((outbox as Array<{ record_type: string }>).every((r) => r.record_type === 'price:de-EUR')).toBe(
      true,
    );
  });

  it('keeps markets apart, and writes batches across markets', async () => {
    const [id] = freshIds(1);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/prices/batch',
      headers: auth,
      payload: {
        items: [
          { id, market: 'de-EUR', amount: 1000 },
          { id, market: 'ch-CHF', amount: 1100 },
          { id, market: 'xx-XXX', amount: 1 },
          { id, market: 'de-EUR', amount: 2.5 },
        ],
      },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ results: Array<{ result: string }> }>().results.map((r) => r.result)).toEqual([
      'created',
      'created',
      'rejected',
      'rejected',
    ]);
    const ch = await app.inject({ method: 'GET', url: `/v1/prices?ids=${id}&market=ch-CHF` });
    expect(ch.json()).toMatchObject({ data: [{ id, amount: 1100, currency: 'CHF' }], missing: [] });
  });

  it('deletes through the versioned write: 204, a tombstone row, 404 after, If-Match checked', async () => {
    const [id, other] = freshIds(2);
    const url = `/v1/prices/de-EUR/${id}`;
    const put = await app.inject({ method: 'PUT', url, headers: auth, payload: { amount: 500 } });
    const etag = put.headers.etag as string;
    expect(etag).toBe(`"pr${id}-de-EUR-v1"`);
    const del = (headers: Record<string, string>, to = url) =>
      app.inject({ method: 'DELETE', url: to, headers: { ...auth, ...headers } });
    expect((await del({}, `/v1/prices/de-EUR/${other}`)).statusCode).toBe(404);
    const stale = await del({ 'if-match': `"pr${id}-de-EUR-v7"` });
    expect(stale.statusCode).toBe(412);
    expect(stale.headers['content-type']).toContain('application/problem+json');
    expect((await del({ 'if-match': `"pr${id}-fr-EUR-v1"` })).statusCode).toBe(412);
    expect((await app.inject({ method: 'DELETE', url })).statusCode).toBe(401);
    expect((await del({}, `/v1/prices/xx-XXX/${id}`)).statusCode).toBe(400);
    expect((await del({}, `/v1/prices/de-EUR/0`)).statusCode).toBe(400);
    expect((await del({ 'if-match': etag })).statusCode).toBe(204);
    expect((await del({})).statusCode).toBe(404);

    const read = await app.inject({ method: 'GET', url: `/v1/prices?ids=${id}&market=de-EUR` });
    expect(read.json()).toEqual({ data: [], missing: [id] });
    const composed = await app.inject({
      method: 'GET',
      url: `/v1/products?ids=${id}&market=de-EUR&include=price`,
    });
    expect(composed.statusCode).toBe(200);
    const [rows] = await db.query(
      'SELECT version, doc, deleted_at IS NOT NULL AS deleted FROM prices WHERE product_id = ?',
      [id],
    );
    expect(rows).toEqual([{ version: 2, doc: null, deleted: 1 }]);
    const [outbox] = await db.query(
      "SELECT version FROM outbox WHERE record_id = ? AND record_type = 'price:de-EUR' ORDER BY version",
      [id],
    );
    // The relay may already have applied and removed them; what is left is in version order.
    expect((outbox as Array<{ version: number }>).every((r) => r.version <= 2)).toBe(true);
    // A write after the delete creates it again, one version on.
    const again = await app.inject({ method: 'PUT', url, headers: auth, payload: { amount: 600 } });
    expect(again.statusCode).toBe(201);
    expect(again.json()).toMatchObject({ version: 3, amount: 600 });
  });

  it('refuses bad input with a 400 problem+json and changes nothing', async () => {
    const [id] = freshIds(1);
    for (const [url, body] of [
      [`/v1/prices/de-EUR/${id}`, { amount: 19.99 }],
      [`/v1/prices/de-EUR/${id}`, { amount: -1 }],
      [
        `/v1/prices/de-EUR/${id}`,
        { amount: 1, validFrom: '2026-12-02T00:00:00Z', validTo: '2026-12-01T00:00:00Z' },
      ],
      [`/v1/prices/xx-XXX/${id}`, { amount: 1 }],
      [`/v1/prices/de-EUR/${id}`, { amount: 1, extra: true }],
    ] as const) {
      const res = await app.inject({ method: 'PUT', url, headers: auth, payload: body });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    expect(
      (await app.inject({ method: 'PUT', url: `/v1/prices/de-EUR/${id}`, payload: { amount: 1 } }))
        .statusCode,
    ).toBe(401);
    expect((await app.inject({ method: 'GET', url: `/v1/prices?ids=${id}` })).statusCode).toBe(400);
    expect(
      (await app.inject({ method: 'GET', url: `/v1/prices?ids=${id}&market=de-EUR&x=1` })).statusCode,
    ).toBe(400);
    const [rows] = await db.query('SELECT 1 FROM prices WHERE product_id = ?', [id]);
    expect(rows).toEqual([]);
  });
});
