import { describe, it, before, after } from 'node:test';
import { expect } from 'expect';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Connection } from 'mysql2/promise';
import { freshIds, mysqlServer, product, startApp, WRITE_KEY } from '../support/stack';

/** Concurrent writes are normal traffic: they wait or retry, and never answer 5xx. */
describe('concurrent writes against MariaDB', () => {
  let app: NestFastifyApplication;
  let db: Connection;
  const auth = { authorization: `Bearer ${WRITE_KEY}` };

  before(async () => {
    app = await startApp();
    db = await mysqlServer('a');
  });

  after(async () => {
    await app?.close();
    await db?.end();
  });

  const put = (id: number, body: object) =>
    app.inject({ method: 'PUT', url: `/v1/products/${id}`, headers: auth, payload: body });

  it('creates 200 new products at once beside bulk reads without a 5xx', async () => {
    const ids = freshIds(200);
    const reads = Array.from({ length: 20 }, (_, i) =>
      app.inject({ method: 'GET', url: `/v1/products?ids=${ids.slice(i * 10, i * 10 + 50).join(',')}` }),
    );
    const writes = ids.map((id) => put(id, product(`C-${id}`)));
    const answers = await Promise.all([...writes, ...reads]);
    const statuses = answers.map((a) => a.statusCode);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.slice(0, ids.length).every((s) => s === 201)).toBe(true);
  });

  it('gives every concurrent write of one new id its own version, and each version one document', async () => {
    const [id] = freshIds(1);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => put(id, product(`SAME-${id}`, { brand: `writer-${i}` }))),
    );
    expect(answers.map((a) => a.statusCode).filter((s) => s >= 500)).toEqual([]);
    expect(answers.filter((a) => a.statusCode === 201)).toHaveLength(1);
    const versions = answers.map((a) => a.json<{ version: number }>().version).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // The stored document is the one its version was acknowledged with.
    const [rows] = await db.query('SELECT version, doc FROM products WHERE id = ?', [id]);
    const row = (rows as Array<{ version: number; doc: string }>)[0];
    const last = answers.find((a) => a.json<{ version: number }>().version === 20)!;
    expect(row.version).toBe(20);
    expect(JSON.parse(row.doc)).toEqual(last.json());
  });
});
