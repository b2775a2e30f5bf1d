import { describe, it, before, after } from 'node:test';
import { expect } from 'expect';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type Redis from 'ioredis';
import type { Connection } from 'mysql2/promise';
import { freshIds, mysqlServer, product, READ_KEY, redis, startApp, WRITE_KEY } from '../support/stack';
import { buildRequest, problemDefect, rawRequest } from '../fuzz/raw-http';

type Case = {
  name: string;
  method: 'GET' | 'PUT' | 'DELETE' | 'POST';
  url: string;
  status: number;
  headers?: Record<string, string>;
  payload?: string | object;
};

describe('bad input on every route', () => {
  let app: NestFastifyApplication;
  let r: Redis;
  let db: Connection;
  const [id, other] = freshIds(2);
  const writer = { authorization: `Bearer ${WRITE_KEY}` };
  const json = { ...writer, 'content-type': 'application/json' };
  const valid = product(`BAD-${id}`);

  const snapshot = async () => {
    const [rows] = await db.query('SELECT id, version, doc FROM products WHERE id IN (?) ORDER BY id', [
      [id, other],
    ]);
    return { rows, cache: await r.mget(`product:${id}`, `product:${other}`) };
  };

  before(async () => {
    app = await startApp();
    r = redis();
    db = await mysqlServer('a');
    const res = await app.inject({
      method: 'PUT',
      url: `/v1/products/${id}`,
      headers: writer,
      payload: valid,
    });
    expect(res.statusCode).toBe(201);
  });

  after(async () => {
    await app.close();
    r.disconnect();
    await db.end();
  });

  const ids501 = Array.from({ length: 501 }, (_, i) => i + 1).join(',');
  const cases: Case[] = [
    { name: 'malformed id', method: 'GET', url: '/v1/products/abc', status: 400 },
    { name: 'negative id', method: 'GET', url: '/v1/products/-5', status: 400 },
    { name: 'zero id', method: 'GET', url: '/v1/products/0', status: 400 },
    { name: 'non-integer id', method: 'GET', url: '/v1/products/1.5', status: 400 },
    { name: 'exponent id', method: 'GET', url: '/v1/products/1e3', status: 400 },
    { name: 'id over 2^53-1', method: 'GET', url: '/v1/products/9007199254740992', status: 400 },
    { name: 'empty ids', method: 'GET', url: '/v1/products?ids=', status: 400 },
    { name: 'missing ids', method: 'GET', url: '/v1/products', status: 400 },
    { name: 'malformed ids', method: 'GET', url: '/v1/products?ids=1,x,3', status: 400 },
    { name: 'empty element in ids', method: 'GET', url: '/v1/products?ids=1,,3', status: 400 },
    { name: '501 distinct ids', method: 'GET', url: `/v1/products?ids=${ids501}`, status: 400 },
    {
      name: 'duplicate ids beyond 500 distinct',
      method: 'GET',
      url: `/v1/products?ids=${ids501},1,2`,
      status: 400,
    },
    {
      name: 'PUT with malformed id',
      method: 'PUT',
      url: '/v1/products/x1',
      status: 400,
      headers: json,
      payload: valid,
    },
    {
      name: 'PUT with wrong JSON types',
      method: 'PUT',
      url: `/v1/products/${id}`,
      status: 400,
      headers: json,
      payload: { ...valid, sku: 42, name: 'plain string' },
    },
    {
      name: 'PUT with unknown field',
      method: 'PUT',
      url: `/v1/products/${id}`,
      status: 400,
      headers: json,
      payload: { ...valid, price: 10 },
    },
    {
      name: 'PUT with server-set fields',
      method: 'PUT',
      url: `/v1/products/${id}`,
      status: 400,
      headers: json,
      payload: { ...valid, version: 99 },
    },
    {
      name: 'PUT with an over-long name',
      method: 'PUT',
      url: `/v1/products/${id}`,
      status: 400,
      headers: json,
      payload: { ...valid, name: { en: 'x'.repeat(201) } },
    },
    {
      name: 'PUT with an empty locale key',
      method: 'PUT',
      url: `/v1/products/${id}`,
      status: 400,
      headers: json,
      payload: { ...valid, name: { '': 'x' } },
    },
    {
      name: 'PUT with a name key that is not a locale',
      method: 'PUT',
      url: `/v1/products/${id}`,
      status: 400,
      headers: json,
      payload: { ...valid, name: { english: 'x' } },
    },
    {
      name: 'PUT with 31 locales',
      method: 'PUT',
      url: `/v1/products/${id}`,
      status: 400,
      headers: json,
      payload: {
        ...valid,
        name: Object.fromEntries(
          Array.from({ length: 31 }, (_, i) => [
            `a${String.fromCharCode(97 + (i % 26))}${'abcdefghij'[Math.floor(i / 26)]}`,
            'x',
          ]),
        ),
      },
    },
    {
      name: 'PUT with a 100 KB name',
      method: 'PUT',
      url: `/v1/products/${id}`,
      status: 400,
      headers: json,
      payload: { ...valid, name: { en: 'x'.repeat(100_000) } },
    },
    {
      name: 'PUT with an attribute key that is not snake_case',
      method: 'PUT',
      url: `/v1/products/${id}`,
      status: 400,
      headers: json,
      payload: { ...valid, attributes: { Color: 'red' } },
    },
    {
      name: 'PUT with 51 attributes',
      method: 'PUT',
      url: `/v1/products/${id}`,
      status: 400,
      headers: json,
      payload: {
        ...valid,
        attributes: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`a${i}`, i])),
      },
    },
    {
      name: 'PUT with a category id of 0',
      method: 'PUT',
      url: `/v1/products/${id}`,
      status: 400,
      headers: json,
      payload: { ...valid, categoryIds: [0] },
    },
    {
      name: 'PUT with an unknown field in an image',
      method: 'PUT',
      url: `/v1/products/${id}`,
      status: 400,
      headers: json,
      payload: { ...valid, images: [{ url: 'https://img.example.com/a.jpg', size: 3 }] },
    },
    {
      name: 'PUT with a javascript: image',
      method: 'PUT',
      url: `/v1/products/${id}`,
      status: 400,
      headers: json,
      payload: { ...valid, images: [{ url: 'javascript:alert(1)' }] },
    },
    {
      name: 'PUT with a non-https image',
      method: 'PUT',
      url: `/v1/products/${id}`,
      status: 400,
      headers: json,
      payload: { ...valid, images: [{ url: 'ftp://x/y.jpg' }] },
    },
    {
      name: 'PUT with a JSON array body',
      method: 'PUT',
      url: `/v1/products/${id}`,
      status: 400,
      headers: json,
      payload: '[1,2]',
    },
    {
      name: 'PUT with malformed JSON',
      method: 'PUT',
      url: `/v1/products/${id}`,
      status: 400,
      headers: json,
      payload: '{"sku":',
    },
    {
      name: 'PUT with an oversized body',
      method: 'PUT',
      url: `/v1/products/${id}`,
      status: 413,
      headers: json,
      payload: { ...valid, description: { en: 'x'.repeat(300_000) } },
    },
    {
      name: 'PUT with wrong Content-Type',
      method: 'PUT',
      url: `/v1/products/${id}`,
      status: 415,
      headers: { ...writer, 'content-type': 'text/plain' },
      payload: JSON.stringify(valid),
    },
    {
      name: 'PUT without a key',
      method: 'PUT',
      url: `/v1/products/${id}`,
      status: 401,
      headers: { 'content-type': 'application/json' },
      payload: valid,
    },
    {
      name: 'PUT with a wrong key',
      method: 'PUT',
      url: `/v1/products/${id}`,
      status: 401,
      headers: { authorization: 'Bearer not-a-real-key', 'content-type': 'application/json' },
      payload: valid,
    },
    {
      name: 'PUT with a malformed Authorization',
      method: 'PUT',
      url: `/v1/products/${id}`,
      status: 401,
      headers: { authorization: WRITE_KEY, 'content-type': 'application/json' },
      payload: valid,
    },
    {
      name: 'PUT with a read-only key',
      method: 'PUT',
      url: `/v1/products/${id}`,
      status: 403,
      headers: { authorization: `Bearer ${READ_KEY}`, 'content-type': 'application/json' },
      payload: valid,
    },
    {
      name: 'PUT with a mismatched If-Match',
      method: 'PUT',
      url: `/v1/products/${id}`,
      status: 412,
      headers: { ...json, 'if-match': `"p${id}-v42"` },
      payload: { ...valid, brand: 'changed' },
    },
    {
      name: 'PUT with a garbage If-Match',
      method: 'PUT',
      url: `/v1/products/${id}`,
      status: 412,
      headers: { ...json, 'if-match': 'W/"whatever"' },
      payload: { ...valid, brand: 'changed' },
    },
    {
      name: 'PUT taking the sku of another product',
      method: 'PUT',
      url: `/v1/products/${other}`,
      status: 409,
      headers: json,
      payload: valid,
    },
    { name: 'DELETE without a key', method: 'DELETE', url: `/v1/products/${id}`, status: 401 },
    {
      name: 'DELETE with a read-only key',
      method: 'DELETE',
      url: `/v1/products/${id}`,
      status: 403,
      headers: { authorization: `Bearer ${READ_KEY}` },
    },
    {
      name: 'DELETE with a mismatched If-Match',
      method: 'DELETE',
      url: `/v1/products/${id}`,
      status: 412,
      headers: { ...writer, 'if-match': `"p${id}-v9"` },
    },
    {
      name: 'DELETE of an unknown product',
      method: 'DELETE',
      url: `/v1/products/${other}`,
      status: 404,
      headers: writer,
    },
    {
      name: 'batch without items',
      method: 'POST',
      url: '/v1/products/batch',
      status: 400,
      headers: json,
      payload: { products: [] },
    },
    {
      name: 'batch with empty items',
      method: 'POST',
      url: '/v1/products/batch',
      status: 400,
      headers: json,
      payload: { items: [] },
    },
    {
      name: 'batch with 1001 items',
      method: 'POST',
      url: '/v1/products/batch',
      status: 400,
      headers: json,
      payload: { items: Array.from({ length: 1001 }, (_, i) => ({ id: other, ...product(`S${i}`) })) },
    },
    {
      name: 'batch with an unknown top-level field',
      method: 'POST',
      url: '/v1/products/batch',
      status: 400,
      headers: json,
      payload: { items: [{ id: other, ...product(`N-${other}`) }], dryRun: true },
    },
    {
      name: 'batch with a read-only key',
      method: 'POST',
      url: '/v1/products/batch',
      status: 403,
      headers: { authorization: `Bearer ${READ_KEY}`, 'content-type': 'application/json' },
      payload: { items: [{ id: other, ...product(`N-${other}`) }] },
    },
  ];

  for (const c of cases)
    it(`${c.name} -> ${c.status} problem+json, nothing changed`, async () => {
      const prior = await snapshot();
      const res = await app.inject({
        method: c.method,
        url: c.url,
        headers: c.headers,
        payload: typeof c.payload === 'object' ? JSON.stringify(c.payload) : c.payload,
      });
      expect(res.statusCode).toBe(c.status);
      expect(res.headers['content-type']).toBe('application/problem+json');
      const problem = res.json<Record<string, unknown>>();
      expect(problem).toMatchObject({
        status: c.status,
        type: expect.stringMatching(/^https:\/\//),
        title: expect.any(String),
        detail: expect.any(String),
      });
      expect(problem.requestId).toBe(res.headers['x-request-id']);
      expect(await snapshot()).toEqual(prior);
    });

  it('accepts up to 500 distinct ids even when duplicates make the list longer', async () => {
    const list = Array.from({ length: 500 }, (_, i) => i + 1);
    const res = await app.inject({ method: 'GET', url: `/v1/products?ids=${[...list, 1, 2, 3].join(',')}` });
    expect(res.statusCode).toBe(200);
  });

  it('names the offending values', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/products?ids=7,seven,-1' });
    expect(res.json<{ invalid: string[] }>().invalid).toEqual(['seven', '-1']);
  });
});

/** JSON nested 10,000 deep (about 60 KB): the shape that overflowed class-transformer's recursion. */
const deep = (depth: number) => '{"x":'.repeat(depth) + '1' + '}'.repeat(depth);

describe('deeply nested JSON', () => {
  let app: NestFastifyApplication;
  let db: Connection;
  const [id, deepId, nextId] = freshIds(3);
  const json = { authorization: `Bearer ${WRITE_KEY}`, 'content-type': 'application/json' };

  before(async () => {
    app = await startApp();
    db = await mysqlServer('a');
  });
  after(async () => {
    await app.close();
    await db.end();
  });

  it('a PUT nested 10,000 deep is a 400 problem+json and stores nothing', async () => {
    const body = JSON.stringify({ ...product(`DEEP-${id}`), attributes: { a: 1 } }).replace(
      '{"a":1}',
      deep(10_000),
    );
    expect(body.length).toBeGreaterThan(60_000);
    const res = await app.inject({ method: 'PUT', url: `/v1/products/${id}`, headers: json, payload: body });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.json<{ detail: string }>().detail).toMatch(/nested/);
    const [rows] = await db.query('SELECT id FROM products WHERE id = ?', [id]);
    expect(rows).toEqual([]);
  });

  it('in a batch, the deep item alone is rejected and the others are written', async () => {
    const items = [
      { id: nextId, ...product(`DEEP-OK-${nextId}`) },
      { id: deepId, ...product(`DEEP-${deepId}`), attributes: { a: 1 } },
    ];
    const payload = JSON.stringify({ items }).replace('{"a":1}', deep(10_000));
    const res = await app.inject({ method: 'POST', url: '/v1/products/batch', headers: json, payload });
    expect(res.statusCode).toBe(200);
    const { results } = res.json<{ results: Array<{ id: number; result: string; errors?: string[] }> }>();
    expect(results[0]).toMatchObject({ id: nextId, result: 'created' });
    expect(results[1]).toMatchObject({ id: deepId, result: 'rejected' });
    expect(results[1].errors!.join(' ')).toMatch(/nested/);
  });
});

describe('unknown query parameters on reads', () => {
  let app: NestFastifyApplication;
  before(async () => {
    app = await startApp();
  });
  after(() => app.close());

  for (const url of [
    '/v1/products?ids=1,2&x=1',
    '/v1/products?ids=1&IDS=2',
    '/v1/products/by-sku?skus=A&cachebust=7',
    '/v1/products/1?utm_source=mail',
  ]) {
    it(`${url} -> 400 problem+json naming the parameter`, async () => {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toBe('application/problem+json');
      const name = /[?&]((?!ids=|skus=)[^=&]+)=/.exec(url.replace(/\?(ids|skus)=[^&]*/, '?'))![1];
      expect(res.json<{ invalid: string[] }>().invalid).toEqual([name]);
    });
  }

  it('a repeated ids parameter is a 400 that says to send it once', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/products?ids=1&ids=2' });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ detail: string }>().detail).toMatch(/once/);
  });
});

describe('errors below the router are problem+json too (real socket)', () => {
  let app: NestFastifyApplication;
  let port: number;
  before(async () => {
    app = await startApp();
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.getHttpServer().address() as { port: number }).port;
  });
  after(() => app.close());

  const cases: Array<{ name: string; request: Buffer | string; status: number }> = [
    {
      name: 'a bad percent escape in the path',
      request: buildRequest('GET', '/v1/products/%zz'),
      status: 400,
    },
    {
      name: 'a bad percent escape in the query',
      request: buildRequest('GET', '/v1/products?ids=%zz'),
      status: 400,
    },
    {
      name: 'a header line without a colon',
      request: 'GET /v1/products/1 HTTP/1.1\r\nHost: x\r\nBroken header\r\n\r\n',
      status: 400,
    },
    { name: 'a garbage request line', request: 'HELLO\r\n\r\n', status: 400 },
    {
      name: 'an invalid chunk size',
      request: buildRequest(
        'PUT',
        '/v1/products/1',
        { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        'zz\r\n{}\r\n0\r\n\r\n',
      ),
      status: 400,
    },
    {
      name: 'headers over the size limit',
      request: buildRequest('GET', '/v1/products/1', { 'x-big': 'a'.repeat(70_000) }),
      status: 431,
    },
    {
      name: 'an Expect the server cannot meet',
      request: buildRequest(
        'PUT',
        '/v1/products/1',
        { expect: 'teapot', 'content-type': 'application/json' },
        '{}',
      ),
      status: 417,
    },
  ];
  for (const c of cases) {
    it(`${c.name} -> ${c.status} problem+json`, async () => {
      const res = await rawRequest(port, c.request);
      expect(res.status).toBe(c.status);
      expect(problemDefect(res)).toBeUndefined();
    });
  }
});
