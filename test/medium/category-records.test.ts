import { describe, it } from 'node:test';
import { expect } from 'expect';
import { OutboxRelayService } from '@catalog/record-types/services/outbox-relay.service';
import { appWithStores, freshIds, READ_KEY, waitFor, WRITE_KEY } from '../support/stack';

describe('categories as records (real Redis and MariaDB)', () => {
  const s = appWithStores();
  const auth = { authorization: `Bearer ${WRITE_KEY}` };
  const cat = (en: string, parentId: number | null = null, extra: object = {}) => ({
    parentId,
    name: { en },
    slug: { en: en.toLowerCase().replace(/ /g, '-') },
    ...extra,
  });
  const put = (id: number, body: object, headers: Record<string, string> = auth) =>
    s.app.inject({ method: 'PUT', url: `/v1/categories/${id}`, headers, payload: body });
  const get = (url: string, headers: Record<string, string> = {}) =>
    s.app.inject({ method: 'GET', url, headers });
  const doc = async (id: number) =>
    JSON.parse((await s.r.get(`category:${id}`)) ?? 'null') as { path: number[]; version: number } | null;

  it('creates, reads one and many, revalidates, and keeps the document in Redis as a persistent key', async () => {
    const [root, child, missing] = freshIds(3);
    const created = await put(root, cat('Hiking'));
    expect(created.statusCode).toBe(201);
    expect(created.headers.etag).toBe(`"c${root}-v1"`);
    expect((await put(child, cat('Hiking boots', root, { position: 2 }))).json()).toMatchObject({
      id: child,
      version: 1,
      parentId: root,
      position: 2,
      path: [root, child],
      name: { en: 'Hiking boots' },
      slug: { en: 'hiking-boots' },
    });
    const one = await get(`/v1/categories/${child}`);
    expect(one.statusCode).toBe(200);
    expect(one.headers).toMatchObject({ etag: `"c${child}-v1"`, xkey: `category:${child}` });
    expect((await get(`/v1/categories/${child}`, { 'if-none-match': `"c${child}-v1"` })).statusCode).toBe(
      304,
    );
    const many = await get(`/v1/categories?ids=${child},${missing},${root}`);
    expect(many.json()).toMatchObject({ data: [{ id: child }, { id: root }], missing: [missing] });
    expect(many.headers.xkey).toBe(`category:${child} category:${missing} category:${root}`);
    expect(await s.r.ttl(`category:${child}`)).toBe(-1);
    expect((await get(`/v1/categories/${missing}`)).statusCode).toBe(404);
  });

  it('moving a category moves its subtree: new paths and versions below it, in MySQL and Redis', async () => {
    const [a, b, c, d] = freshIds(4);
    await put(a, cat('A'));
    await put(b, cat('B'));
    await put(c, cat('C', a));
    await put(d, cat('D', c));
    expect((await doc(d))?.path).toEqual([a, c, d]);
    expect((await put(c, cat('C', b))).json()).toMatchObject({ version: 2, path: [b, c] });
    expect(await doc(d)).toMatchObject({ version: 2, path: [b, c, d] });
    // Master A may be the writer's peer: it has the row once replication applied it.
    const row = await waitFor(async () => {
      const [rows] = await s.db.query('SELECT path, version FROM categories WHERE id = ?', [d]);
      const [r] = rows as Array<{ path: string; version: number }>;
      return r?.version === 2 ? r : undefined;
    }, 10_000);
    expect(row.path).toBe(`/${b}/${c}/${d}/`);
  });

  it('refuses a missing parent, a cycle, its own parent and deleting a parent with 409, changing nothing', async () => {
    const [a, b, nowhere] = freshIds(3);
    await put(a, cat('A'));
    await put(b, cat('B', a));
    for (const [id, body] of [
      [a, cat('A', nowhere)],
      [a, cat('A', b)],
      [a, cat('A', a)],
    ] as const) {
      const res = await put(id, body);
      expect({ id, status: res.statusCode }).toEqual({ id, status: 409 });
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    const del = await s.app.inject({ method: 'DELETE', url: `/v1/categories/${a}`, headers: auth });
    expect(del.statusCode).toBe(409);
    expect((await get(`/v1/categories/${a}`)).json()).toMatchObject({ version: 1, parentId: null });
    expect(
      (await s.app.inject({ method: 'DELETE', url: `/v1/categories/${b}`, headers: auth })).statusCode,
    ).toBe(204);
    expect((await get(`/v1/categories/${b}`)).statusCode).toBe(404);
    expect(
      (await s.app.inject({ method: 'DELETE', url: `/v1/categories/${a}`, headers: auth })).statusCode,
    ).toBe(204);
  });

  it('honours If-Match and refuses a tree deeper than 8 levels', async () => {
    const ids = freshIds(9);
    let parent: number | null = null;
    for (const id of ids.slice(0, 8)) {
      expect((await put(id, cat(`L${id}`, parent))).statusCode).toBe(201);
      parent = id;
    }
    expect((await put(ids[8], cat('too deep', parent))).statusCode).toBe(409);
    expect((await put(ids[0], cat('x'), { ...auth, 'if-match': `"c${ids[0]}-v7"` })).statusCode).toBe(412);
    expect((await put(ids[0], cat('x'), { ...auth, 'if-match': `"c${ids[0]}-v1"` })).statusCode).toBe(200);
  });

  it('answers bad input and missing credentials with problem+json, writing nothing', async () => {
    const [id] = freshIds(1);
    for (const body of [
      {},
      { name: { en: 'x' } },
      cat('x', 0),
      { ...cat('x'), position: -1 },
      { ...cat('x'), slug: { en: 'Not A Slug' } },
      { ...cat('x'), color: 'red' },
      [],
    ]) {
      const res = await put(id, body);
      expect({ body, status: res.statusCode }).toEqual({ body, status: 400 });
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect((await put(id, cat('x'), {})).statusCode).toBe(401);
    expect((await put(id, cat('x'), { authorization: `Bearer ${READ_KEY}` })).statusCode).toBe(403);
    for (const url of [
      '/v1/categories/0',
      '/v1/categories?ids=1,x',
      '/v1/categories',
      `/v1/categories/${id}?x=1`,
    ])
      expect((await get(url)).statusCode).toBe(400);
    expect((await get(`/v1/categories/${id}`)).statusCode).toBe(404);
  });

  it('the outbox relay applies category rows like product rows', async () => {
    const [id] = freshIds(1);
    await put(id, cat('Relay'));
    await s.r.del(`category:${id}`);
    await s.app.get(OutboxRelayService).runOnce(0);
    expect(await doc(id)).toMatchObject({ id, version: 1 });
  });
});
