import { describe, it, before, after } from 'node:test';
import { expect } from 'expect';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type Redis from 'ioredis';
import type { AppConfig } from '@app/config';
import { createApp } from '@catalog/app.factory';
import { LeaseRepository } from '@catalog/repositories/lease.repository';
import { TieringResult, TieringService } from '@catalog/services/tiering.service';
import { RedisInstance } from '../support/redis-instance';
import { freshIds, product, testConfig, WRITE_KEY } from '../support/stack';

const IDLE_SECONDS = 2;
const TTL = 600;
const JITTER = 0.2;

/**
 * The app on a Redis of the test's own (so the test owns the whole keyspace) and the shared MariaDB.
 * Older products are written, then newer ones; the budget is set below what they use.
 */
describe(TieringService.name, () => {
  const server = RedisInstance.forBasePort(26396);
  let app: NestFastifyApplication;
  let config: AppConfig;
  let r: Redis;
  const older = freshIds(300);
  const newer = freshIds(100);
  const auth = { authorization: `Bearer ${WRITE_KEY}` };

  const write = async (ids: number[]) => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/products/batch',
      headers: auth,
      payload: {
        items: ids.map((id) => ({ id, ...product(`TIER-${id}`, { description: { en: 'x'.repeat(400) } }) })),
      },
    });
    expect(res.statusCode).toBe(200);
    expect(
      res.json<{ results: Array<{ result: string }> }>().results.every((i) => i.result === 'created'),
    ).toBe(true);
  };
  /** Ground truth, not the estimate: MEMORY USAGE of every persistent key. */
  const persistentBytes = async () => {
    let total = 0;
    for await (const keys of r.scanStream({ count: 1000 }) as AsyncIterable<string[]>) {
      for (const key of keys) if ((await r.ttl(key)) === -1) total += (await r.memory('USAGE', key)) ?? 0;
    }
    return total;
  };
  const ttls = async (ids: number[]) => Promise.all(ids.map((id) => r.ttl(`product:${id}`)));

  before(async () => {
    await server.start('0');
    r = server.client();
    config = testConfig({
      REDIS_URL: server.url,
      REDIS_REPLICA_URL: '',
      TIERING_IDLE_SECONDS: String(IDLE_SECONDS),
      TIERING_DEMOTE_TTL_SECONDS: String(TTL),
      CACHE_TTL_JITTER: String(JITTER),
      TIERING_SAMPLE_KEYS: '2000',
    });
    app = await createApp(config);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    await write(older);
    await new Promise((resolve) => setTimeout(resolve, (IDLE_SECONDS + 0.5) * 1000));
    await write(newer);
  });

  after(async () => {
    await app?.close();
    r?.disconnect();
    await server.stop();
  });

  it('skips the pass while another node holds the lease', async () => {
    const leases = app.get(LeaseRepository);
    expect(await leases.acquire('tiering', 'other-node', 10_000)).toBe(true);
    try {
      expect(await app.get(TieringService).runOnce()).toEqual({ outcome: 'lease_held' });
    } finally {
      await leases.release('tiering', 'other-node');
    }
  });

  it('brings an overfilled persistent set back inside its budget, demoting the idlest keys only', async () => {
    const tiering = app.get(TieringService);
    const before = await persistentBytes();
    // Overfilled: the budget is 60 % of what the persistent keys use (the older ones are 75 % of them).
    config.TIERING_PERSISTENT_BUDGET_BYTES = Math.floor(before * 0.6);
    const status = await tiering.status();
    expect(status.persistent.bytes).toBeGreaterThan(config.TIERING_PERSISTENT_BUDGET_BYTES);
    expect(Math.abs(status.persistent.bytes - before) / before).toBeLessThan(0.05);

    const result = (await tiering.runOnce()) as TieringResult;

    expect(result.outcome).toBe('demoted');
    expect(result.scannedKeys).toBe(older.length + newer.length);
    expect(result.candidates).toBe(older.length);
    const after = await persistentBytes();
    expect(after).toBeLessThanOrEqual(config.TIERING_PERSISTENT_BUDGET_BYTES);
    expect(after).toBe(before - result.demotedBytes);
    expect((await tiering.status()).persistent.bytes).toBeLessThanOrEqual(
      config.TIERING_PERSISTENT_BUDGET_BYTES,
    );

    const olderTtls = await ttls(older);
    const demoted = older.filter((_, i) => olderTtls[i] > 0);
    expect(demoted.length).toBe(result.demotedKeys);
    expect(demoted.length).toBeGreaterThan(older.length / 3);
    for (const t of olderTtls.filter((t) => t > 0)) {
      expect(t).toBeGreaterThanOrEqual(TTL * (1 - JITTER) - 1);
      expect(t).toBeLessThanOrEqual(TTL * (1 + JITTER));
    }
    expect(new Set(olderTtls.filter((t) => t > 0)).size).toBeGreaterThan(1);
    // Recently written keys were not idle long enough to be candidates.
    expect((await ttls(newer)).every((t) => t === -1)).toBe(true);

    // Every demoted product is still served, from Redis while its key lives and from MySQL once it expired.
    const read = (ids: number[]) => app.inject({ method: 'GET', url: `/v1/products?ids=${ids.join(',')}` });
    const hot = await read(demoted);
    expect(hot.statusCode).toBe(200);
    expect(hot.headers['x-catalog-tier']).toBe('redis');
    expect(hot.json<{ data: Array<{ id: number }> }>().data.map((p) => p.id)).toEqual(demoted);
    await r.del(...demoted.map((id) => `product:${id}`));
    const cold = await read(demoted);
    expect(cold.headers['x-catalog-tier']).toBe('mysql');
    expect(cold.json<{ data: unknown[]; missing: number[] }>()).toMatchObject({ missing: [] });
    expect(cold.json<{ data: unknown[] }>().data.length).toBe(demoted.length);

    // A write makes a demoted key persistent again.
    const put = await app.inject({
      method: 'PUT',
      url: `/v1/products/${demoted[0]}`,
      headers: auth,
      payload: product(`TIER-${demoted[0]}`),
    });
    expect(put.statusCode).toBe(200);
    expect(await r.ttl(`product:${demoted[0]}`)).toBe(-1);
  });

  it('leaves a persistent set within its budget alone, and records the pass for status', async () => {
    config.TIERING_PERSISTENT_BUDGET_BYTES = 1024 * 1024 * 1024;
    const result = (await app.get(TieringService).runOnce({ force: true })) as TieringResult;
    expect(result).toMatchObject({ outcome: 'within_budget', demotedKeys: 0, scannedKeys: 0 });
    expect((await app.get(TieringService).status()).lastRun).toMatchObject({ outcome: 'within_budget' });
  });
});
