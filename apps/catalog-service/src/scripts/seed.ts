import 'reflect-metadata';
import Redis from 'ioredis';
import { parseArgs } from 'node:util';
import { loadConfig } from '@app/config';
import { createDataSource } from '@app/database';
import { demoProductRow, SEED_TIME } from './demo-catalog';

/**
 * Loads a deterministic demo catalog straight into MySQL (multi-row INSERTs) and Redis (pipelined SETs),
 * streaming in batches so memory stays flat at any size. Seeded products are version 1 and bypass the
 * outbox: this is an import tool for empty databases, not a write path.
 *
 *   npm run seed -- --products 100000 [--start 1] [--reset] [--if-empty] [--redis persistent|volatile|none]
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      products: { type: 'string', default: '10000' },
      start: { type: 'string', default: '1' },
      batch: { type: 'string', default: '1000' },
      redis: { type: 'string', default: 'persistent' },
      reset: { type: 'boolean', default: false },
      'if-empty': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
  });
  const total = Number(values.products);
  const start = Number(values.start);
  const batch = Number(values.batch);
  const redisMode = values.redis;
  if (
    !Number.isInteger(total) ||
    total < 0 ||
    !Number.isInteger(start) ||
    start < 1 ||
    !['persistent', 'volatile', 'none'].includes(redisMode)
  ) {
    throw new Error(
      'usage: seed --products N [--start ID] [--redis persistent|volatile|none] [--reset] [--if-empty]',
    );
  }
  const config = loadConfig();
  const db = createDataSource({ ...config, MYSQL_POOL_SIZE: 4 }, 'writer');
  await db.initialize();
  const redis = new Redis(config.REDIS_PRODUCT_URL, { maxRetriesPerRequest: 2 });
  const say = (s: string): void => {
    if (!values.quiet) process.stdout.write(s + '\n');
  };
  try {
    if (values.reset) {
      await db.query('DELETE FROM outbox');
      await db.query('TRUNCATE TABLE products');
      let deleted = 0;
      for await (const keys of redis.scanStream({ match: 'product:*', count: 1000 }) as AsyncIterable<
        string[]
      >) {
        if (keys.length) deleted += await redis.unlink(...keys);
      }
      say(`reset: products table emptied, ${deleted} redis keys removed`);
    } else {
      const [row]: Array<{ one: number }> = await db.query('SELECT 1 AS one FROM products LIMIT 1');
      if (row) {
        if (values['if-empty']) {
          say('seed: catalog already has products, nothing to do');
          return;
        }
        throw new Error('products is not empty: use --reset to replace it, or --if-empty to skip');
      }
    }

    const began = Date.now();
    const inflight = new Set<Promise<void>>();
    for (let from = start; from < start + total; from += batch) {
      const to = Math.min(from + batch, start + total);
      const rows = [];
      for (let id = from; id < to; id++) rows.push(demoProductRow(id));
      const job = writeBatch(db, redis, rows, redisMode, config.CACHE_TTL_SECONDS).finally(() =>
        inflight.delete(job),
      );
      inflight.add(job);
      if (inflight.size >= 3) await Promise.race(inflight);
      if (((to - start) / batch) % 100 === 0)
        say(`  ${to - start} products, ${Math.round(((to - start) * 1000) / (Date.now() - began))}/s`);
    }
    await Promise.all(inflight);
    const seconds = (Date.now() - began) / 1000;
    say(
      `seeded ${total} products (ids ${start}..${start + total - 1}) in ${seconds.toFixed(1)} s: ${Math.round(total / seconds)} rows/s; redis: ${redisMode}`,
    );
  } finally {
    await db.destroy();
    redis.disconnect();
  }
}

async function writeBatch(
  db: ReturnType<typeof createDataSource>,
  redis: Redis,
  rows: Array<{ id: number; sku: string; status: string; doc: string }>,
  mode: string,
  ttl: number,
): Promise<void> {
  const mysql = db.query(
    'INSERT INTO products (id, sku, status, version, doc, created_at, updated_at) VALUES ?',
    [rows.map((r) => [r.id, r.sku, r.status, 1, r.doc, SEED_TIME, SEED_TIME])],
  );
  let cache: Promise<unknown> = Promise.resolve();
  if (mode !== 'none') {
    const p = redis.pipeline();
    for (const r of rows) {
      if (mode === 'persistent') p.set('product:' + r.id, r.doc);
      else p.set('product:' + r.id, r.doc, 'EX', ttl);
    }
    cache = p.exec();
  }
  await Promise.all([mysql, cache]);
}

main().catch((e: unknown) => {
  process.stderr.write(`seed failed: ${(e as Error).message}\n`);
  process.exit(1);
});
