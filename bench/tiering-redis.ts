import Redis from 'ioredis';
import { parseArgs } from 'node:util';

/**
 * Figures behind the tiering job's design (docs/operations.md), on a Redis of your own (it FLUSHes it):
 *  1. how good the persistent-memory estimates are with mixed key sizes (sample vs share of the dataset),
 *  2. what an access index (a ZSET of last-access times updated on every read) would cost the read path,
 *     against OBJECT IDLETIME, which costs the read path nothing.
 * The pass itself is timed with the real CLI: REDIS_URL=... npm run tier -- run (see the docs).
 *
 *   node dist/bench/tiering-redis.js --url redis://127.0.0.1:27697 --keys 1000000 --i-know-this-flushes
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      keys: { type: 'string', default: '1000000' },
      'persistent-share': { type: 'string', default: '0.5' },
      'i-know-this-flushes': { type: 'boolean', default: false },
    },
  });
  if (!values.url || !values['i-know-this-flushes']) {
    throw new Error('usage: --url redis://... --keys N --i-know-this-flushes (the target is FLUSHALLed)');
  }
  const n = Number(values.keys);
  const share = Number(values['persistent-share']);
  const r = new Redis(values.url);
  const info = async (field: string) => Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(await r.info())![1]);
  const ms = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e6;

  await r.flushall();
  // Persistent keys: ~1 KB documents; volatile keys: mostly tiny negative entries ("!0"), like production.
  const doc = JSON.stringify({ id: 0, version: 1, name: { en: 'x'.repeat(1000) } });
  let t = process.hrtime.bigint();
  for (let from = 0; from < n; from += 5000) {
    const p = r.pipeline();
    for (let i = from; i < Math.min(n, from + 5000); i++) {
      if (i < n * share) p.set(`product:${i}`, doc);
      else p.set(`product:${i}`, '!0', 'EX', 3600);
    }
    await p.exec();
  }
  process.stdout.write(
    `populated ${n} keys (${share * 100} % persistent ~1 KB, the rest '!0' with TTL) in ${ms(t).toFixed(0)} ms\n`,
  );

  t = process.hrtime.bigint();
  let exact = 0;
  for await (const keys of r.scanStream({ match: 'product:*', count: 1000 }) as AsyncIterable<string[]>) {
    const p = r.pipeline();
    for (const k of keys) {
      p.pttl(k);
      p.call('MEMORY', 'USAGE', k);
    }
    const res = (await p.exec())!;
    for (let i = 0; i < keys.length; i++) if (res[2 * i][1] === -1) exact += Number(res[2 * i + 1][1]);
  }
  const exactMs = ms(t);
  const keyspace = await r.info('keyspace');
  const keys = Number(/keys=(\d+)/.exec(keyspace)![1]);
  const expires = Number(/expires=(\d+)/.exec(keyspace)![1]);
  const dataset = await info('used_memory_dataset');
  const byShare = (dataset * (keys - expires)) / keys;
  t = process.hrtime.bigint();
  const picks = r.pipeline();
  for (let i = 0; i < 1000; i++) picks.randomkey();
  const sampled = ((await picks.exec()) ?? []).map(([, k]) => k as string);
  const details = r.pipeline();
  for (const k of sampled) {
    details.pttl(k);
    details.call('MEMORY', 'USAGE', k);
  }
  const d = (await details.exec())!;
  const persistentSizes = sampled.flatMap((_, i) => (d[2 * i][1] === -1 ? [Number(d[2 * i + 1][1])] : []));
  const bySample = (keys - expires) * (persistentSizes.reduce((a, b) => a + b, 0) / persistentSizes.length);
  const sampleMs = ms(t);
  const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
  const err = (x: number) => `${(((x - exact) / exact) * 100).toFixed(1)} %`;
  process.stdout.write(
    `persistent memory: exact ${mib(exact)} (full scan + MEMORY USAGE: ${exactMs.toFixed(0)} ms); ` +
      `sample of 1000: ${mib(bySample)} (${err(bySample)}, ${sampleMs.toFixed(1)} ms); ` +
      `share of used_memory_dataset: ${mib(byShare)} (${err(byShare)})\n`,
  );

  // Read path: one MGET of 500 ids per request, with or without maintaining an access index.
  const ids = Array.from({ length: 500 }, (_, i) => `product:${i * 7}`);
  const rounds = 2000;
  t = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) await r.mgetBuffer(ids);
  const plain = ms(t);
  t = process.hrtime.bigint();
  const now = Date.now();
  const zargs = ids.flatMap((k) => [now, k]);
  for (let i = 0; i < rounds; i++)
    await r
      .pipeline()
      .mgetBuffer(ids)
      .zadd('access-index', ...zargs)
      .exec();
  const indexed = ms(t);
  process.stdout.write(
    `read path, ${rounds} MGETs of 500 keys: ${(plain / rounds).toFixed(2)} ms each; with ZADD of the 500 ids into an ` +
      `access index: ${(indexed / rounds).toFixed(2)} ms each (+${(((indexed - plain) / plain) * 100).toFixed(0)} %)\n`,
  );
  const before = await info('used_memory');
  for (let from = 0; from < n; from += 5000) {
    const args: Array<string | number> = [];
    for (let i = from; i < Math.min(n, from + 5000); i++) args.push(now, `product:${i}`);
    await r.zadd('access-index', ...args);
  }
  process.stdout.write(`access index of ${n} keys: ${mib((await info('used_memory')) - before)} of memory\n`);
  await r.del('access-index');
  r.disconnect();
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
});
