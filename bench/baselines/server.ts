/**
 * Baselines for `npm run bench`, deliberately minimal (outside NestJS, no validation, no headers):
 *   bare        one ioredis MGET of the same keys, '[' + values.join(',') + ']'
 *   naive       the same MGET, JSON.parse of every document and framework serialisation of the array
 *   bare-mysql  one mysql2 SELECT ... WHERE id IN (...) of the same ids
 * Usage: node dist/bench/baselines/server.js <mode> <port>   (REDIS_URL, MYSQL_* from the environment)
 */
import Fastify from 'fastify';
import Redis from 'ioredis';
import { createPool } from 'mysql2/promise';

const [mode, portArg] = process.argv.slice(2);
const port = Number(portArg);
const app = Fastify({ logger: false });

function ids(raw: unknown): string[] {
  return typeof raw === 'string' ? raw.split(',') : [];
}

if (mode === 'bare' || mode === 'naive') {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:26379');
  app.get('/v1/products', async (req) => {
    const keys = ids((req.query as { ids?: string }).ids).map((id) => 'product:' + id);
    const values = await redis.mget(keys);
    if (mode === 'bare') return '[' + values.join(',') + ']';
    return values.filter((v) => v !== null).map((v) => JSON.parse(v) as unknown);
  });
} else if (mode === 'bare-mysql') {
  const pool = createPool({
    host: process.env.MYSQL_READER_HOST ?? '127.0.0.1',
    port: Number(process.env.MYSQL_READER_PORT ?? 23317),
    user: process.env.MYSQL_USER ?? 'catalog',
    password: process.env.MYSQL_PASSWORD ?? 'catalog',
    database: process.env.MYSQL_DATABASE ?? 'catalog',
    connectionLimit: 20,
  });
  app.get('/v1/products', async (req) => {
    const [rows] = await pool.query('SELECT id, doc FROM products WHERE id IN (?)', [
      ids((req.query as { ids?: string }).ids),
    ]);
    return '[' + (rows as Array<{ doc: string }>).map((r) => r.doc).join(',') + ']';
  });
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}

app.get('/health/ready', () => 'ok');
app.listen({ port, host: '127.0.0.1' }).catch((e: unknown) => {
  process.stderr.write(String(e) + '\n');
  process.exit(1);
});
