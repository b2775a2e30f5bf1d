import { describe, it, before, after } from 'node:test';
import { expect } from 'expect';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import type Redis from 'ioredis';
import { RedisInstance } from '../support/redis-instance';
import { check, CHECK_PLUGIN } from '../support/check-plugin';
import { redisAuth, stackEnv } from '../support/stack';

interface Range {
  start: number;
  end: number;
  inside: boolean;
}
const plugin = createRequire(__filename)(CHECK_PLUGIN) as {
  parseRange(text: string): Range;
  rangeAlerts(range: Range, value: number): boolean;
  formatRange(range: Range, factor?: number): string;
  parseSize(text: string): { bytes?: number; percent?: number };
};

describe('check_catalog_redis threshold ranges (monitoring-plugins format)', () => {
  // The table of the plugin guidelines (THRESHOLDFORMAT), plus the cases a sysadmin types.
  const cases: Array<[string, number[], number[]]> = [
    // range, values that alert, values that do not
    ['10', [-1, 10.5, 11], [0, 5, 10]],
    ['10:', [-5, 0, 9.99], [10, 11, 1e12]],
    ['~:10', [10.01, 1e9], [-1e9, 0, 10]],
    ['10:20', [9, 21], [10, 15, 20]],
    ['@10:20', [10, 15, 20], [9.9, 20.1]],
    ['@0:0.2', [0, 0.1, 0.2], [0.21, 1, -0.1]],
    ['0.2:', [0, 0.19], [0.2, 5]],
    [':5', [-1, 6], [0, 5]],
    ['~:', [], [-1e9, 0, 1e9]],
    ['1e1:', [9], [10]],
  ];
  for (const [text, alerting, quiet] of cases) {
    it(`"${text}" alerts on ${JSON.stringify(alerting)} and not on ${JSON.stringify(quiet)}`, () => {
      const range = plugin.parseRange(text);
      for (const v of alerting) expect([v, plugin.rangeAlerts(range, v)]).toEqual([v, true]);
      for (const v of quiet) expect([v, plugin.rangeAlerts(range, v)]).toEqual([v, false]);
    });
  }

  it('rejects what is not a range', () => {
    for (const bad of ['', '@', 'lots', '20:10', '@5:1', '1:2:3', '0.2,20', '10::', 'x:', '~']) {
      expect(() => plugin.parseRange(bad)).toThrow(/threshold range|empty/);
    }
  });

  it('writes ranges back for perfdata, scaled to another unit', () => {
    const f = (t: string, factor?: number) => plugin.formatRange(plugin.parseRange(t), factor);
    expect(f('10')).toBe('10');
    expect(f('2:')).toBe('2:');
    expect(f('2:', 1024)).toBe('2048:');
    expect(f('~:5', 10)).toBe('~:50');
    expect(f('@0:0.5', 1000)).toBe('@0:500');
    expect(f('1:3')).toBe('1:3');
  });

  it('reads burst sizes with units and percentages', () => {
    expect(plugin.parseSize('64MiB')).toEqual({ bytes: 64 * 1024 * 1024 });
    expect(plugin.parseSize('500MB')).toEqual({ bytes: 500e6 });
    expect(plugin.parseSize('4096')).toEqual({ bytes: 4096 });
    expect(plugin.parseSize('10%')).toEqual({ percent: 10 });
    for (const bad of ['', '0', '-1MB', '12 parsecs', '150%', 'MB'])
      expect(() => plugin.parseSize(bad)).toThrow();
  });
});

/** A Redis of the test's own, driven from a healthy catalog to one whose next burst of writes fails. */
describe('bin/check_catalog_redis', () => {
  const server = RedisInstance.forBasePort(26395);
  let r: Redis;

  before(async () => {
    await server.start('64mb');
    r = server.client();
  });

  after(async () => {
    r?.disconnect();
    await server.stop();
  });

  const fill = async (prefix: string, n: number, bytes: number, ttl?: number) => {
    for (let from = 0; from < n; from += 1000) {
      const p = r.pipeline();
      for (let i = from; i < Math.min(n, from + 1000); i++) {
        if (ttl) p.set(`${prefix}:${i}`, 'x'.repeat(bytes), 'EX', ttl);
        else p.set(`${prefix}:${i}`, 'x'.repeat(bytes));
      }
      await p.exec();
    }
  };
  const memory = async () => {
    const info = await r.info('memory');
    return {
      used: Number(/used_memory:(\d+)/.exec(info)![1]),
      notCounted: Number(/mem_not_counted_for_evict:(\d+)/.exec(info)![1]),
    };
  };
  const MiB = 1024 * 1024;

  it('is OK with a low expire ratio while memory is free: the hot set fits (the false alarm of issue 14)', async () => {
    // A fresh stack: 12 of 10015 keys volatile, ratio 0.001, a few MiB used of 64.
    await fill('persistent', 10_003, 100);
    await fill('volatile', 12, 100, 3600);
    const res = await check('-p', String(server.port));
    expect(res.code).toBe(0);
    expect(res.status).toMatch(
      /^REDIS WRITE ROOM OK - room for \d+(\.\d)? bursts of 6\.4 MiB: [\d.]+ MiB free \+ ~0\.0 MiB evictable of [\d.]+ MiB used \/ 64\.0 MiB maxmemory; expire ratio 0\.0012 \(12 of 10015 keys volatile\), policy volatile-lru$/,
    );
    expect(res.perf).toMatchObject({ expire_ratio: '0.0012;;;0;1', keys: '10015;;;0;', expires: '12;;;0;' });
    // Perfdata with units; the judged value keeps the thresholds as given, bytes get them scaled.
    expect(res.perf.bursts).toMatch(/^\d+(\.\d+)?;2:;1:;0;$/);
    expect(res.perf.write_room).toMatch(/^\d+B;13421772:;6710886:;0;67108864$/);
    expect(res.perf.used_memory).toMatch(/^\d+B;;;0;67108864$/);
    expect(res.perf.free_memory).toMatch(/^\d+B;;;0;67108864$/);
    expect(res.perf.evictable_memory).toMatch(/^\d+B;;;0;$/);
    await r.flushall();
  });

  it('counts volatile memory as room: OK at full memory while evictable keys cover the burst', async () => {
    await fill('persistent', 4000, 1000); // ~4.5 MiB
    await fill('volatile', 4000, 1000, 3600); // ~4.5 MiB evictable
    const { used, notCounted } = await memory();
    // 1 MiB free: the room is that plus the volatile keys.
    await r.config('SET', 'maxmemory', String(used - notCounted + MiB));
    const run = await check('-p', String(server.port), '-b', '2MiB', '-v');
    expect(run.code).toBe(0);
    const evictable = Number(/^(\d+)B/.exec(run.perf.evictable_memory)![1]);
    // The estimate (4000 x the sampled average MEMORY USAGE) against the exact sum.
    const p = r.pipeline();
    for (let i = 0; i < 4000; i++) p.call('MEMORY', 'USAGE', `volatile:${i}`);
    const exact = ((await p.exec()) ?? []).reduce((a, [, b]) => a + Number(b), 0);
    expect(Math.abs(evictable - exact) / exact).toBeLessThan(0.1);
    expect(run.stdout.split('\n')[1]).toMatch(
      /^evictable memory: sample: \d+ volatile of \d+ sampled keys; used_memory/,
    );

    // The same memory against a bigger burst: WARNING below two bursts, CRITICAL below one.
    const warning = await check('-p', String(server.port), '-b', '4MiB');
    expect(warning.code).toBe(1);
    expect(warning.status).toMatch(
      /^REDIS WRITE ROOM WARNING - room for 1\.\d bursts of 4\.0 MiB \(WARNING outside 2:\)/,
    );
    const critical = await check('-p', String(server.port), '-b', '8MiB');
    expect(critical.code).toBe(2);
    expect(critical.status).toMatch(
      /^REDIS WRITE ROOM CRITICAL - room for 0\.\d bursts of 8\.0 MiB \(CRITICAL outside 1:\)/,
    );
    expect(critical.perf.bursts).toMatch(/^0\.\d+;2:;1:;0;$/);
    expect(critical.perf.write_room).toMatch(/^\d+B;16777216:;8388608:;0;\d+$/);

    // Once the volatile keys are gone, the same free memory is all there is.
    await r.del(...Array.from({ length: 4000 }, (_, i) => `volatile:${i}`));
    await r.config('SET', 'maxmemory', String((await memory()).used + MiB));
    const bare = await check('-p', String(server.port), '-b', '2MiB');
    expect(bare.code).toBe(2);
    expect(bare.perf.evictable_memory).toBe('0B;;;0;');
    await r.config('SET', 'maxmemory', '64mb');
    await r.flushall();
  });

  it('takes any threshold range: inside ranges, upper bounds, getopt-style values', async () => {
    await fill('persistent', 100, 100);
    const port = String(server.port);
    // About 10 bursts of 10 % are free.
    expect((await check('-p', port, '-w', '20:')).code).toBe(1);
    expect((await check('-p', port, '-w', '20:', '-c', '@5:15')).code).toBe(2);
    expect((await check('-p', port, '-c', '~:5')).code).toBe(2);
    expect((await check('-p', port, '-w', '~:50', '-c', '0:100')).code).toBe(0);
    expect((await check('-p', port, '-w15:', '--critical=1:')).code).toBe(1);
    await r.flushall();
  });

  it('does not judge a Redis without maxmemory: it refuses no write for memory', async () => {
    await r.config('SET', 'maxmemory', '0');
    const unlimited = await check('-p', String(server.port));
    expect(unlimited.code).toBe(0);
    expect(unlimited.status).toMatch(/^REDIS WRITE ROOM OK - maxmemory unlimited: /);
    expect(unlimited.perf.bursts).toBeUndefined();
    await r.config('SET', 'maxmemory', '64mb');
  });

  it('answers --help and --version as the plugin guidelines ask, and UNKNOWN on bad arguments', async () => {
    const help = await check('--help');
    expect(help.code).toBe(3);
    expect(help.stdout).toMatch(/^check_catalog_redis \d+\.\d+\.\d+\n/);
    expect(help.stdout).toContain('Usage: check_catalog_redis');
    expect(help.stdout).toContain('guidelines.html#THRESHOLDFORMAT');
    expect(help.stdout).toMatch(/-w, --warning RANGE/);
    expect((await check('-V')).stdout).toMatch(/^check_catalog_redis \d+\.\d+\.\d+\n$/);
    for (const bad of [['-w', '0.2,20'], ['-c', '5:1'], ['-b', 'lots'], ['--frobnicate']]) {
      const res = await check('-p', String(server.port), ...bad);
      expect(res.code).toBe(3);
      expect(res.line).toMatch(/^REDIS WRITE ROOM UNKNOWN - /);
      expect(res.stdout).toContain('Usage: check_catalog_redis');
    }
  });

  it('answers UNKNOWN within its timeout when Redis hangs', async () => {
    const hung = net.createServer(() => undefined);
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    try {
      const port = (hung.address() as net.AddressInfo).port;
      const res = await check('-p', String(port), '-t', '1');
      expect(res.code).toBe(3);
      expect(res.line).toBe(`REDIS WRITE ROOM UNKNOWN - no answer from Redis 127.0.0.1:${port} within 1 s`);
    } finally {
      hung.close();
    }
  });

  it('answers UNKNOWN at once when Redis is stopped', async () => {
    await server.stop();
    const res = await check('-p', String(server.port), '-t', '20');
    expect(res.code).toBe(3);
    expect(res.line).toBe(
      `REDIS WRITE ROOM UNKNOWN - cannot read INFO from Redis 127.0.0.1:${server.port}: connection refused`,
    );
  });

  it('is OK on the stack Redis with its defaults, read over a redis:// URL as the monitoring user', async () => {
    const url = new URL(stackEnv().REDIS_URL);
    const { username, password } = redisAuth('exporter');
    url.username = username;
    url.password = password;
    const res = await check('-u', url.toString());
    expect(res.code).toBe(0);
    expect(res.status).toMatch(/^REDIS WRITE ROOM OK - room for /);
  });
});
