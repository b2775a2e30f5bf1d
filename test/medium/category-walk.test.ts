import { describe, it, before } from 'node:test';
import { expect } from 'expect';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CategoryProductsCacheRepository as Sets } from '@catalog/categories/repositories/category-products-cache.repository';
import { rootSql } from '../support/db-pair';
import { appWithStores, freshIds, product, ROOT, WRITE_KEY } from '../support/stack';

/**
 * Issue 15, "the cursor walk test": 10,000 products in one category, walked 100 at a time while 1,000
 * concurrent writes add, move and remove products. Every product present throughout appears exactly once,
 * and MariaDB's general log shows no OFFSET and no COUNT( while it runs.
 */
const MEMBERS = 10_000;
const WRITES = 1_000;
const PAGE = 100;
const WRITERS = 8;
const auth = { authorization: `Bearer ${WRITE_KEY}` };

type Kind = 'remove' | 'move' | 'add' | 'stay';

describe('category walk under concurrent writes (real Redis and MariaDB)', () => {
  const s = appWithStores();
  const [cat, other] = freshIds(2);
  const initial = freshIds(MEMBERS);
  const added = freshIds(WRITES / 4);
  const logDir = path.join(ROOT, '.stack', process.env.STACK_NAME ?? 'test');
  const logs = { a: path.join(logDir, 'walk-general-a.log'), b: path.join(logDir, 'walk-general-b.log') };
  const saved: Record<string, string> = {};

  before(async () => {
    for (let i = 0; i < MEMBERS; i += 1000) {
      const items = initial
        .slice(i, i + 1000)
        .map((id) => ({ id, ...product(`CW-${id}`), categoryIds: [cat] }));
      const res = await s.app.inject({
        method: 'POST',
        url: '/v1/products/batch',
        headers: auth,
        payload: { items },
      });
      expect(res.statusCode).toBe(200);
    }
  });

  /** The 1,000 writes, in a fixed interleaving of kinds, on initial members chosen apart from each other. */
  function plan(): Array<{ kind: Kind; id: number }> {
    const out: Array<{ kind: Kind; id: number }> = [];
    const kinds: Kind[] = ['remove', 'move', 'add', 'stay'];
    for (let i = 0; i < WRITES; i++) {
      const kind = kinds[i % 4];
      const n = Math.floor(i / 4);
      // Spread over the whole id range, so pages both before and after the walk's position change.
      const id = kind === 'add' ? added[n] : initial[(n * 37 + kinds.indexOf(kind) * 13) % MEMBERS];
      out.push({ kind, id });
    }
    return out;
  }

  async function write({ kind, id }: { kind: Kind; id: number }): Promise<void> {
    const res =
      kind === 'remove'
        ? await s.app.inject({ method: 'DELETE', url: `/v1/products/${id}`, headers: auth })
        : await s.app.inject({
            method: 'PUT',
            url: `/v1/products/${id}`,
            headers: auth,
            payload: {
              ...product(`CW-${id}`, { brand: kind }),
              categoryIds: kind === 'move' ? [other] : kind === 'stay' ? [other, cat] : [cat],
            },
          });
    expect([200, 201, 204]).toContain(res.statusCode);
  }

  /**
   * Walks the category while the writes run: page k waits until k/pages of the writes are answered, so
   * every stretch of the walk has writes landing before and after its position.
   */
  async function walkDuringWrites(): Promise<{ seen: number[]; tiers: Record<string, number> }> {
    const writes = plan();
    let done = 0;
    let next = 0;
    const workers = Array.from({ length: WRITERS }, async () => {
      while (next < writes.length) {
        await write(writes[next++]);
        done++;
      }
    });
    const seen: number[] = [];
    const tiers: Record<string, number> = {};
    let cursor: string | null = null;
    let page = 0;
    const pages = MEMBERS / PAGE;
    do {
      while (done < Math.min(WRITES, (page * WRITES) / pages)) await new Promise((res) => setTimeout(res, 2));
      const query: string = `limit=${PAGE}` + (cursor ? `&cursor=${cursor}` : '');
      const res = await s.app.inject({ method: 'GET', url: `/v1/categories/${cat}/products?${query}` });
      expect(res.statusCode).toBe(200);
      const body = res.json<{ productIds: number[]; nextCursor: string | null }>();
      expect(body.productIds.length).toBeLessThanOrEqual(PAGE);
      seen.push(...body.productIds);
      const tier = String(res.headers['x-catalog-tier']);
      tiers[tier] = (tiers[tier] ?? 0) + 1;
      cursor = body.nextCursor;
      page++;
    } while (cursor !== null);
    await Promise.all(workers);
    return { seen, tiers };
  }

  function check(seen: number[]): void {
    const writes = plan();
    const gone = new Set(writes.filter((w) => w.kind === 'remove' || w.kind === 'move').map((w) => w.id));
    const throughout = initial.filter((id) => !gone.has(id));
    const counts = new Map<number, number>();
    for (const id of seen) counts.set(id, (counts.get(id) ?? 0) + 1);
    // Each product present throughout exactly once, nothing twice, and nothing that was never a member.
    expect(throughout.filter((id) => counts.get(id) !== 1)).toEqual([]);
    expect([...counts].filter(([, n]) => n > 1)).toEqual([]);
    const everMember = new Set([...initial, ...added]);
    expect(seen.filter((id) => !everMember.has(id))).toEqual([]);
    expect(seen.every((id, i) => i === 0 || id > seen[i - 1])).toBe(true);
    expect(throughout.length).toBe(MEMBERS - WRITES / 2);
  }

  async function membersInMysql(category: number): Promise<number[]> {
    const [rows] = await s.db.query(
      'SELECT product_id FROM category_products WHERE category_id = ? AND present = 1 ORDER BY product_id',
      [category],
    );
    return (rows as Array<{ product_id: number }>).map((x) => Number(x.product_id));
  }

  async function membersInRedis(category: number): Promise<number[]> {
    return (await s.r.zrangebyscore(Sets.setKey(category), '(0', '+inf')).map(Number);
  }

  it('served by the MySQL keyset alone: exactly once, and no OFFSET or COUNT( in the general log', async () => {
    await s.r.del(Sets.setKey(cat), Sets.versionsKey(cat));
    // Holding the rebuild lease keeps the set incomplete, so every page comes from MySQL.
    await s.r.set(`category-products-rebuild:${cat}`, 'test', 'PX', 600_000);
    for (const x of ['a', 'b'] as const) {
      saved[x] = await rootSql(x, 'SELECT CONCAT(@@general_log, " ", @@general_log_file, " ", @@log_output)');
      fs.rmSync(logs[x], { force: true });
      await rootSql(x, `SET GLOBAL general_log_file = '${logs[x]}'; SET GLOBAL general_log = 1`);
    }
    let walk;
    try {
      walk = await walkDuringWrites();
    } finally {
      for (const x of ['a', 'b'] as const) {
        const [on, file] = saved[x].split(' ');
        await rootSql(x, `SET GLOBAL general_log = 0; SET GLOBAL general_log_file = '${file}'`);
        if (on === '1') await rootSql(x, 'SET GLOBAL general_log = 1');
      }
      await s.r.del(`category-products-rebuild:${cat}`);
    }
    expect(walk.tiers).toEqual({ mysql: expect.any(Number) });
    check(walk.seen);
    const log = Object.values(logs)
      .map((f) => fs.readFileSync(f, 'utf8'))
      .join('\n');
    for (const f of Object.values(logs)) fs.rmSync(f, { force: true });
    // The log did capture the walk (so this check can fail), and nothing in it offsets or counts.
    expect(log).toMatch(
      /FROM category_products\s+WHERE category_id = \d+ AND product_id > \d+ AND present = 1/,
    );
    expect(log.split('\n').filter((l) => /\bOFFSET\b|COUNT\(/i.test(l))).toEqual([]);
  });

  it('served from the Redis set while it is rebuilt beside the writes; the set ends equal to MySQL', async () => {
    // Back to the 10,000 members, then a walk that starts with no set in Redis at all.
    for (const w of plan()) {
      if (w.kind === 'add')
        await s.app.inject({ method: 'DELETE', url: `/v1/products/${w.id}`, headers: auth });
      else
        await s.app.inject({
          method: 'PUT',
          url: `/v1/products/${w.id}`,
          headers: auth,
          payload: { ...product(`CW-${w.id}`), categoryIds: [cat] },
        });
    }
    expect(await membersInMysql(cat)).toEqual(initial);
    await s.r.del(Sets.setKey(cat), Sets.versionsKey(cat));

    const walk = await walkDuringWrites();
    expect(walk.tiers.mysql).toBeGreaterThanOrEqual(1);
    expect(walk.tiers.redis).toBeGreaterThanOrEqual(1);
    check(walk.seen);
    // Whatever order the rebuild and the writes' applies came in, the set holds exactly MySQL's members.
    expect(await s.r.zscore(Sets.setKey(cat), 'complete')).toBe('0');
    expect(await membersInRedis(cat)).toEqual(await membersInMysql(cat));
    expect(await membersInRedis(other)).toEqual(await membersInMysql(other));
  });
});
