import 'reflect-metadata';
import Redis from 'ioredis';
import { createPool, Pool } from 'mysql2/promise';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { loadConfig, marketsOf } from '@app/config';
import { CATEGORY } from '@catalog/categories/category.record-type';
import { serializeCategory } from '@catalog/categories/dtos/category.dto';
import { PRODUCT } from '@catalog/products/product.record-type';
import { priceRecordType } from '@catalog/prices/price.record-type';
import { RecordType, recordKey } from '@catalog/record-types/record-type';
import { AvailabilityRepository } from '@catalog/stock/repositories/availability.repository';
import { stockRecordType } from '@catalog/stock/stock.record-type';
import { demoCategories } from './demo-categories';
import { demoPriceRow, demoProductRow, demoStockRow, SEED_TIME } from './demo-catalog';
import { Progress } from './progress';

const USAGE = `usage: npm run seed -- [--products N] [--start ID] [--reset | --if-empty | --append]
                       [--redis persistent|volatile|none] [--mysql insert|none] [--batch N] [--quiet]

Loads a deterministic demo catalog (about 1 KB of JSON per product) into MySQL (LOAD DATA) and Redis,
with each product's price in every configured market and its stock in every warehouse (MARKETS).

  --products N     how many products (default 10000)
  --start ID       first product id (default 1)
  --reset          empty the products, categories, prices and stock tables and their Redis keys first
  --if-empty       do nothing if the catalog already has products (what npm start uses)
  --append         add to a catalog that has products
  --redis MODE     persistent (default: keys without TTL, like written products), volatile (with the
                   cache TTL, like products read back from MySQL) or none
  --mysql none     Redis only (default insert)
  --batch N        products per batch (default 5000)
  --products-only  no prices and no stock levels
  --quiet          no progress and no summary
  -h, --help       this help

Progress: a bar on a terminal, otherwise a line every 2 s, with rate and ETA.
Connection settings come from the environment, as for the service (for a local stack:
set -a; . .stack/dev/env.sh; set +a).`;

/**
 * Loads a deterministic demo catalog straight into MySQL (LOAD DATA LOCAL INFILE, streamed per batch: the
 * fastest way into InnoDB) and Redis (one MSET per batch; SET EX for volatile keys), in batches so memory
 * stays flat at any size. Seeded products are version 1 and bypass the outbox: this is an import tool for
 * empty databases, not a write path.
 *
 *   npm run seed -- --products 100000 [--start 1] [--reset | --if-empty | --append]
 *                   [--redis persistent|volatile|none] [--mysql none]
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      products: { type: 'string', default: '10000' },
      start: { type: 'string', default: '1' },
      batch: { type: 'string', default: '5000' },
      redis: { type: 'string', default: 'persistent' },
      reset: { type: 'boolean', default: false },
      'if-empty': { type: 'boolean', default: false },
      append: { type: 'boolean', default: false },
      mysql: { type: 'string', default: 'insert' },
      quiet: { type: 'boolean', default: false },
      'products-only': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const total = Number(values.products);
  const start = Number(values.start);
  const batch = Number(values.batch);
  const redisMode = values.redis;
  const modes = ['persistent', 'volatile', 'none'];
  if (![total, start].every(Number.isInteger) || total < 0 || start < 1 || !modes.includes(redisMode))
    throw new UsageError('bad --products, --start or --redis');
  const config = loadConfig();
  const db = createPool({
    host: config.MYSQL_WRITER_HOST,
    port: config.MYSQL_WRITER_PORT,
    user: config.MYSQL_USER,
    password: config.MYSQL_PASSWORD,
    database: config.MYSQL_DATABASE,
    connectionLimit: 3,
    connectTimeout: 30_000, // mysql2's 10 s was too short once, at load 12, right after the stack started
  });
  const redis = new Redis(config.REDIS_PRODUCT_URL, { maxRetriesPerRequest: 2 });
  // Prices and stock: their own Redis when configured (the stack's second Redis), else the product one.
  const prices = new Redis(config.REDIS_PRICE_URL ?? config.REDIS_PRODUCT_URL, { maxRetriesPerRequest: 2 });
  const stock = new Redis(config.REDIS_STOCK_URL ?? config.REDIS_PRODUCT_URL, { maxRetriesPerRequest: 2 });
  const markets = values['products-only'] ? new Map<string, string[]>() : marketsOf(config);
  // Availability per market is derived from the levels in Redis, as the write path's apply does.
  const availability = new AvailabilityRepository(stock, config);
  const derive = (ids: number[]) =>
    redisMode === 'none' ? [] : [...markets.keys()].map((m) => availability.derive(ids, m));
  const warehouses = [...new Set([...markets.values()].flat())];
  const say = (s: string): void => {
    if (!values.quiet) process.stdout.write(s + '\n');
  };
  try {
    if (values.reset) {
      if (values.mysql !== 'none') {
        await db.query('DELETE FROM outbox');
        for (const table of ['products', 'category_products', 'categories', 'prices', 'stock'])
          await db.query(`TRUNCATE TABLE ${table}`);
      }
      let deleted = 0;
      // The category sets and their version hashes are derived from category_products (docs/categories.md).
      for (const [r, match] of [
        [redis, PRODUCT.keyPrefix + '*'],
        [redis, CATEGORY.keyPrefix + '*'],
        [redis, 'category-products*'],
        [prices, 'price:*'],
        [stock, 'stock:*'],
      ] as const) {
        for await (const keys of r.scanStream({ match, count: 1000 }) as AsyncIterable<string[]>) {
          if (keys.length) deleted += await r.unlink(...keys);
        }
      }
      say(`reset: ${values.mysql !== 'none' ? 'products table emptied, ' : ''}${deleted} redis keys removed`);
    } else if (!values.append && values.mysql !== 'none') {
      const [rows] = await db.query('SELECT 1 AS one FROM products LIMIT 1');
      if ((rows as unknown[]).length > 0) {
        if (values['if-empty']) {
          say('seed: catalog already has products, nothing to do');
          return;
        }
        throw new Error('products is not empty: use --reset to replace it, or --if-empty to skip');
      }
    }

    if (values.mysql !== 'none') await seedCategories(db, redis, redisMode, config.CACHE_TTL_SECONDS);
    const began = Date.now();
    const progress = values.quiet ? null : new Progress(total, 'products');
    const inflight = new Set<Promise<void>>();
    for (let from = start; from < start + total; from += batch) {
      const to = Math.min(from + batch, start + total);
      const rows = [];
      for (let id = from; id < to; id++) rows.push(demoProductRow(id));
      const mysql = values.mysql === 'none' ? null : db;
      const ttl = config.CACHE_TTL_SECONDS;
      const ids = rows.map((r) => r.id);
      const job: Promise<void> = Promise.all([
        writeBatch(mysql, redis, rows, redisMode, ttl),
        writeScoped(mysql, prices, PRICES, markets.keys(), ids, demoPriceRow, redisMode, ttl),
        writeScoped(mysql, stock, STOCK, warehouses, ids, demoStockRow, redisMode, ttl).then(() =>
          Promise.all(derive(ids)),
        ),
      ]).then(() => {
        inflight.delete(job);
      });
      inflight.add(job);
      if (inflight.size >= 3) await Promise.race(inflight);
      progress?.update(to - start);
    }
    await Promise.all(inflight);
    progress?.end();
    const seconds = (Date.now() - began) / 1000;
    say(
      `seeded ${total} products (ids ${start}..${start + total - 1}) in ${seconds.toFixed(1)} s: ${Math.round(total / seconds)} rows/s; redis: ${redisMode}`,
    );
  } finally {
    await db.end();
    for (const r of new Set([redis, prices, stock])) r.disconnect();
  }
}

const TIMESTAMP = SEED_TIME.toISOString().slice(0, 23).replace('T', ' ');
const tsvLine = (r: { id: number; sku: string; status: string; doc: string }) =>
  `${r.id}\t${r.sku}\t${r.status}\t1\t${r.doc}\t${TIMESTAMP}\t${TIMESTAMP}\n`;

async function writeBatch(
  db: Pool | null,
  redis: Redis,
  rows: Array<{ id: number; sku: string; status: string; doc: string; categoryIds: number[] }>,
  mode: string,
  ttl: number,
): Promise<void> {
  let mysql: Promise<unknown> = Promise.resolve();
  if (db) {
    // JSON never contains raw tabs or newlines, and ESCAPED BY '' keeps its backslashes as they are.
    // One chunk per 500 rows keeps every packet far below max_allowed_packet, whatever the batch size.
    const chunks: Buffer[] = [];
    for (let i = 0; i < rows.length; i += 500) {
      chunks.push(
        Buffer.from(
          rows
            .slice(i, i + 500)
            .map(tsvLine)
            .join(''),
        ),
      );
    }
    mysql = db.query({
      sql: `LOAD DATA LOCAL INFILE 'batch.tsv' INTO TABLE products FIELDS TERMINATED BY '\\t' ESCAPED BY ''
            LINES TERMINATED BY '\\n' (id, sku, status, version, doc, created_at, updated_at)`,
      infileStreamFactory: () => Readable.from(chunks),
    });
    // Category membership as the write path keeps it (version 1, present); the category sets in Redis
    // are built from it by the first walk of each category (docs/categories.md).
    const pairs = rows.flatMap((r) => r.categoryIds.map((c) => [c, r.id, 1, 1]));
    for (let i = 0; i < pairs.length; i += 2000) {
      mysql = mysql.then(() =>
        db.query('INSERT INTO category_products (category_id, product_id, present, version) VALUES ?', [
          pairs.slice(i, i + 2000),
        ]),
      );
    }
  }
  const keys = rows.map((r) => [recordKey(PRODUCT, r.id), r.doc] as const);
  await Promise.all([mysql, cacheKeys(redis, keys, mode, ttl)]);
}

/** One MSET per batch (persistent: one command for Redis, its AOF and replica), or SET EX (volatile). */
function cacheKeys(redis: Redis, keys: ReadonlyArray<readonly [string, string]>, mode: string, ttl: number) {
  if (mode === 'none' || keys.length === 0) return Promise.resolve();
  if (mode === 'persistent') return redis.mset(keys.flat());
  const p = redis.pipeline();
  for (const [k, doc] of keys) p.set(k, doc, 'EX', ttl);
  return p.exec();
}

interface ScopedTable {
  table: string;
  /** LOAD DATA column list (user variables for columns that need a SET) and its SET clause. */
  columns: string;
  set?: string;
  typeOf: (scope: string) => RecordType;
}
const PRICES: ScopedTable = {
  table: 'prices',
  // With ESCAPED BY '' there is no NULL marker: an empty field is mapped to NULL here.
  columns: 'product_id, market, amount, @strike',
  set: "strike_through = NULLIF(@strike, '')",
  typeOf: priceRecordType,
};
const STOCK: ScopedTable = {
  table: 'stock',
  columns: 'product_id, warehouse, quantity',
  typeOf: stockRecordType,
};

/** The batch's prices (every market) or stock levels (every warehouse): LOAD DATA, then its Redis. */
async function writeScoped(
  db: Pool | null,
  redis: Redis,
  t: ScopedTable,
  scopes: Iterable<string>,
  ids: readonly number[],
  row: (id: number, scope: string) => { id: number; scope: string; columns: unknown[]; doc: string },
  mode: string,
  ttl: number,
): Promise<void> {
  const rows = [...scopes].flatMap((scope) => ids.map((id) => row(id, scope)));
  const tsv = rows.map(
    (r) => [r.id, r.scope, ...r.columns, 1, r.doc, TIMESTAMP, TIMESTAMP].join('\t') + '\n',
  );
  const load = db?.query({
    sql: `LOAD DATA LOCAL INFILE 'batch.tsv' INTO TABLE ${t.table} FIELDS TERMINATED BY '\\t' ESCAPED BY ''
          LINES TERMINATED BY '\\n' (${t.columns}, version, doc, created_at, updated_at)
          ${t.set ? `SET ${t.set}` : ''}`,
    infileStreamFactory: () => Readable.from([Buffer.from(tsv.join(''))]),
  });
  const keys = rows.map((r) => [recordKey(t.typeOf(r.scope), r.id), r.doc] as const);
  await Promise.all([load, cacheKeys(redis, keys, mode, ttl)]);
}

/**
 * The demo category tree (294 categories, version 1), written like the products: MySQL rows and, unless
 * --redis none, their documents as Redis keys. Rows that exist are left alone (--append, re-runs).
 */
async function seedCategories(db: Pool, redis: Redis, mode: string, ttl: number): Promise<void> {
  const byId = new Map(demoCategories().map((c) => [c.id, c]));
  const rows = [...byId.values()].map((c) => {
    const path = [c.id];
    for (let p = c.parentId; p !== null; p = byId.get(p)!.parentId) path.unshift(p);
    const doc = serializeCategory(c.id, 1, SEED_TIME, path, c);
    return [c.id, c.parentId, c.position, `/${path.join('/')}/`, 1, doc, SEED_TIME, SEED_TIME];
  });
  await db.query(
    `INSERT INTO categories (id, parent_id, position, path, version, doc, created_at, updated_at) VALUES ?
     ON DUPLICATE KEY UPDATE id = id`,
    [rows],
  );
  if (mode === 'none') return;
  const p = redis.pipeline();
  for (const r of rows) {
    if (mode === 'persistent') p.set(recordKey(CATEGORY, r[0] as number), r[5] as string, 'NX');
    else p.set(recordKey(CATEGORY, r[0] as number), r[5] as string, 'EX', ttl, 'NX');
  }
  await p.exec();
}
class UsageError extends Error {}

main().catch((e: unknown) => {
  // util.parseArgs (strict) rejects unknown options with ERR_PARSE_ARGS_*: a usage error too.
  const usage = e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  process.stderr.write(`seed failed: ${(e as Error).message}\n${usage ? `\n${USAGE}\n` : ''}`);
  process.exit(usage ? 2 : 1);
});
