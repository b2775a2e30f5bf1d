import { describe, it } from 'node:test';
import { expect } from 'expect';
import { encodeCursor } from '@catalog/categories/dtos/category-cursor';
import { CategoryMembershipRepository } from '@catalog/categories/repositories/category-membership.repository';
import { CategoryProductsCacheRepository as Sets } from '@catalog/categories/repositories/category-products-cache.repository';
import { OutboxRelayService } from '@catalog/record-types/services/outbox-relay.service';
import { appWithStores, freshIds, product, waitFor, WRITE_KEY } from '../support/stack';

describe('category membership and the walk endpoint (real Redis and MariaDB)', () => {
  const s = appWithStores();
  const auth = { authorization: `Bearer ${WRITE_KEY}` };

  const put = (id: number, categoryIds: number[]) =>
    s.app.inject({
      method: 'PUT',
      url: `/v1/products/${id}`,
      headers: auth,
      payload: { ...product(`CP-${id}`), categoryIds },
    });
  const del = (id: number) => s.app.inject({ method: 'DELETE', url: `/v1/products/${id}`, headers: auth });
  const get = (url: string, headers: Record<string, string> = {}) =>
    s.app.inject({ method: 'GET', url, headers });
  const inSet = async (c: number, id: number) => (await s.r.zscore(Sets.setKey(c), String(id))) !== null;

  async function pairs(id: number): Promise<Array<[number, number, number]>> {
    const [rows] = await s.db.query(
      'SELECT category_id, present, version FROM category_products WHERE product_id = ? ORDER BY category_id',
      [id],
    );
    return (rows as Array<{ category_id: number; present: number; version: number }>).map((x) => [
      Number(x.category_id),
      x.present,
      x.version,
    ]);
  }

  it('keeps category_products and the Redis sets with each product write, tombstones included', async () => {
    const [c1, c2, id] = freshIds(3);
    expect((await put(id, [c1, c2])).statusCode).toBe(201);
    expect(await pairs(id)).toEqual([
      [c1, 1, 1],
      [c2, 1, 1],
    ]);
    expect([await inSet(c1, id), await inSet(c2, id)]).toEqual([true, true]);
    await put(id, [c2]);
    expect(await pairs(id)).toEqual([
      [c1, 0, 2],
      [c2, 1, 1],
    ]);
    expect([await inSet(c1, id), await inSet(c2, id)]).toEqual([false, true]);
    expect((await del(id)).statusCode).toBe(204);
    expect(await pairs(id)).toEqual([
      [c1, 0, 2],
      [c2, 0, 3],
    ]);
    expect(await inSet(c2, id)).toBe(false);
  });

  it('never lets an older state re-add a removed member (a rebuild that read before the removal)', async () => {
    const [c, id] = freshIds(2);
    await put(id, [c]);
    const members = s.app.get(CategoryMembershipRepository);
    const sets = s.app.get(Sets);
    const stale = await members.rebuildPage(c, 0, 1000);
    expect(stale).toEqual([{ categoryId: c, productId: id, present: true, version: 1 }]);
    await put(id, []);
    expect(await inSet(c, id)).toBe(false);
    expect(await sets.apply(stale)).toBe(0);
    expect(await inSet(c, id)).toBe(false);
    // ...nor an older removal take out a member that came back.
    const removal = await members.rebuildPage(c, 0, 1000);
    await put(id, [c]);
    expect(await sets.apply(removal)).toBe(0);
    expect(await inSet(c, id)).toBe(true);
  });

  it('the outbox relay restores a set entry a crash after COMMIT left out', async () => {
    const [c, id] = freshIds(2);
    await put(id, [c]);
    await s.r.zrem(Sets.setKey(c), String(id));
    await s.r.hdel(Sets.versionsKey(c), String(id));
    await s.app.get(OutboxRelayService).runOnce(0);
    expect(await inSet(c, id)).toBe(true);
  });

  it('walks from MySQL while the set is incomplete, rebuilds it, then walks from Redis', async () => {
    const [c, ...ids] = freshIds(6);
    for (const id of ids) await put(id, [c]);
    await s.r.del(Sets.setKey(c));
    const first = await get(`/v1/categories/${c}/products?limit=2`);
    expect(first.statusCode).toBe(200);
    expect(first.headers['x-catalog-tier']).toBe('mysql');
    expect(first.headers['xkey']).toBe(`category:${c}`);
    expect(first.headers['cache-control']).toMatch(/^public, max-age=\d+/);
    expect(first.json()).toEqual({
      categoryId: c,
      productIds: ids.slice(0, 2),
      nextCursor: expect.any(String),
    });
    await waitFor(async () => (await s.r.zscore(Sets.setKey(c), 'complete')) !== null, 10_000);
    const walked: number[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`/v1/categories/${c}/products?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.headers['x-catalog-tier']).toBe('redis');
      const body = res.json<{ productIds: number[]; nextCursor: string | null }>();
      walked.push(...body.productIds);
      cursor = body.nextCursor;
    } while (cursor);
    expect(walked).toEqual(ids);
    const again = await get(`/v1/categories/${c}/products?limit=2`, {
      'if-none-match': String(first.headers.etag),
    });
    expect(again.statusCode).toBe(304);
  });

  it('an empty or unknown category is an empty last page, and starts no rebuild', async () => {
    const [c] = freshIds(1);
    const res = await get(`/v1/categories/${c}/products`);
    expect(res.json()).toEqual({ categoryId: c, productIds: [], nextCursor: null });
    // An empty answer starts no rebuild: unknown ids must not create persistent keys.
    expect(await s.r.exists(Sets.setKey(c))).toBe(0);
  });

  it('answers bad input with 400 problem+json', async () => {
    const [c, d] = freshIds(2);
    const good = encodeCursor(c, 5);
    const tampered = (good[3] === 'A' ? 'B' : 'A') + good.slice(1);
    for (const url of [
      `/v1/categories/0/products`,
      `/v1/categories/abc/products`,
      `/v1/categories/${c}/products?limit=0`,
      `/v1/categories/${c}/products?limit=101`,
      `/v1/categories/${c}/products?limit=1e2`,
      `/v1/categories/${c}/products?limit=5&limit=6`,
      `/v1/categories/${c}/products?offset=10`,
      `/v1/categories/${c}/products?cursor=${tampered}`,
      `/v1/categories/${c}/products?cursor=${good}&cursor=${good}`,
      `/v1/categories/${d}/products?cursor=${good}`,
      `/v1/categories/${c}/products?cursor=not-a-cursor`,
    ]) {
      const res = await get(url);
      expect({ url, status: res.statusCode }).toEqual({ url, status: 400 });
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({
        status: 400,
        title: expect.any(String),
        detail: expect.any(String),
      });
    }
    expect((await get(`/v1/categories/${c}/products?cursor=${good}&limit=100`)).statusCode).toBe(200);
  });
});
