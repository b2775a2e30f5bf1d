import { after, before, describe, it } from 'node:test';
import { expect } from 'expect';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import Redis from 'ioredis';
import type { Connection } from 'mysql2/promise';
import { INVALIDATION_STREAM } from '@catalog/invalidation/invalidation-stream';
import { ProductCacheRepository } from '@catalog/products/repositories/product-cache.repository';
import { OutboxRelayService } from '@catalog/record-types/services/outbox-relay.service';
import {
  freshIds,
  mysqlServer,
  product,
  redis,
  stackEnv,
  startApp,
  waitFor,
  WRITE_KEY,
} from '../support/stack';

/** The stream entries after `after`, as { ids, by }. */
async function entriesAfter(r: Redis, after: string) {
  const rows = await r.xrange(INVALIDATION_STREAM, `(${after}`, '+');
  return rows.map(([, f]) => ({ ids: f[f.indexOf('ids') + 1], by: f[f.indexOf('by') + 1] }));
}

async function end(r: Redis): Promise<string> {
  const [last] = await r.xrevrange(INVALIDATION_STREAM, '+', '-', 'COUNT', 1);
  return last?.[0] ?? '0-0';
}

describe('invalidation stream (written with the Redis update)', () => {
  let app: NestFastifyApplication;
  let r: Redis;
  let db: Connection;
  const opts = {
    tombstoneTtl: 60,
    indexTtl: 0,
    streamMaxLen: 100_000,
    node: 'medium',
    source: 'request',
  } as const;

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

  it('publishes the ids a write changed, and nothing when a state is applied again', async () => {
    const [a, b] = freshIds(2);
    const cache = app.get(ProductCacheRepository);
    const from = await end(r);
    const states = [
      { id: a, version: 1, doc: JSON.stringify({ id: a, version: 1 }) },
      { id: b, version: 1, doc: JSON.stringify({ id: b, version: 1 }) },
    ];
    const first = await cache.apply(states, opts);
    expect(first.changed).toBe(2);
    expect(first.invalidation).toBe(await end(r));
    expect(await cache.apply(states, opts)).toEqual({ changed: 0, invalidation: null });
    expect(await entriesAfter(r, from)).toEqual([{ ids: `${a} ${b}`, by: 'request' }]);
  });

  it('publishes when it makes a backfilled copy of the same version persistent (an edge cache may hold the one before)', async () => {
    const [id] = freshIds(1);
    const doc = JSON.stringify({ id, version: 3 });
    await r.set(`product:${id}`, doc, 'EX', 100);
    const from = await end(r);
    const res = await app.get(ProductCacheRepository).apply([{ id, version: 3, doc }], opts);
    expect(res.invalidation).not.toBeNull();
    expect(await r.ttl(`product:${id}`)).toBe(-1);
    expect(await entriesAfter(r, from)).toEqual([{ ids: String(id), by: 'request' }]);
  });

  it('keeps backfilled copies off the replica; applying the same version gives the replica the document, persistent', async () => {
    const replica = new Redis(stackEnv().REDIS_REPLICA_URL);
    try {
      const [id, absent] = freshIds(2);
      const key = `product:${id}`;
      const doc = JSON.stringify({ id, version: 2 });
      const cache = app.get(ProductCacheRepository);
      await cache.backfill(new Map([[id, Buffer.from(doc)]]), [absent], () => 100, 10);
      expect(await r.ttl(key)).toBeGreaterThan(0);
      expect(await r.get(`product:${absent}`)).toBe('!0');
      // WAIT: the replica has applied everything the primary propagated so far.
      expect(await r.wait(1, 5_000)).toBe(1);
      expect(await replica.exists(key, `product:${absent}`)).toBe(0);

      await cache.apply([{ id, version: 2, doc }], opts);
      expect(await r.wait(1, 5_000)).toBe(1);
      expect(await replica.get(key)).toBe(doc);
      expect(await replica.ttl(key)).toBe(-1);
      expect(await r.ttl(key)).toBe(-1);
    } finally {
      replica.disconnect();
    }
  });

  it('lets the outbox relay publish what it repairs', async () => {
    const [id] = freshIds(1);
    const res = await app.inject({
      method: 'PUT',
      url: `/v1/products/${id}`,
      headers: { authorization: `Bearer ${WRITE_KEY}`, 'content-type': 'application/json' },
      payload: product(`INV-${id}`),
    });
    expect(res.statusCode).toBe(201);
    // A writer that committed version 2 and died before updating Redis (and publishing):
    await db.query('UPDATE products SET version = 2, doc = ? WHERE id = ?', [
      JSON.stringify({ id, version: 2, sku: `INV-${id}` }),
      id,
    ]);
    await db.query("INSERT INTO outbox (record_type, record_id, version) VALUES ('product', ?, 2)", [id]);
    const from = await end(r);
    // runOnce returns 0 while another process still holds the relay lease (it expires within RELAY_LEASE_MS;
    // a wait, generous for a busy machine).
    await waitFor(async () => (await app.get(OutboxRelayService).runOnce(0)) > 0, 60_000, 200);
    // The pass may also repair rows an earlier test left behind (one that failed between its commit and
    // its Redis update), published in the same entry: only this product's entries are judged.
    const entries = (await entriesAfter(r, from)).filter((e) => e.ids.split(' ').includes(String(id)));
    expect(entries.map((e) => e.by)).toEqual(['relay']);
  });
});
