import { describe, it, before, after } from 'node:test';
import { expect } from 'expect';
import { execFile } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import type Redis from 'ioredis';
import { RedisInstance } from '../support/redis-instance';
import { ROOT, stackEnv } from '../support/stack';

const PLUGIN = path.join(ROOT, 'bin/check_catalog_redis');

interface PluginRun {
  code: number;
  line: string;
  status: string;
  perf: Record<string, string>;
  ms: number;
}

function check(...args: string[]): Promise<PluginRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(PLUGIN, args, { timeout: 30_000 }, (err, stdout) => {
      const line = stdout.split('\n')[0];
      const [status, perfdata = ''] = line.split(' | ');
      const perf = Object.fromEntries(
        perfdata
          .split(' ')
          .filter(Boolean)
          .map((p) => p.split('=') as [string, string]),
      );
      const code = err ? Number((err as { code?: number }).code) : 0;
      resolve({ code, line, status, perf, ms: Date.now() - started });
    });
  });
}

/** A Redis of the test's own: the ratio is driven to the ground, then the server is stopped. */
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

  const fill = async (prefix: string, n: number, ttl?: number) => {
    const p = r.pipeline();
    for (let i = 0; i < n; i++) {
      if (ttl) p.set(`${prefix}:${i}`, 'x'.repeat(100), 'EX', ttl);
      else p.set(`${prefix}:${i}`, 'x'.repeat(100));
    }
    await p.exec();
  };
  const args = ['-p', String(server.port), '-w', '0.2,20', '-c', '0.1,10'];

  it('goes OK -> WARNING -> CRITICAL as persistent keys push the expire ratio down', async () => {
    await fill('volatile', 100, 3600);
    await fill('persistent-a', 100);
    const ok = await check(...args);
    expect(ok.code).toBe(0);
    expect(ok.status).toMatch(
      /^REDIS EXPIRE RATIO OK - expire ratio 0\.5 \(100 of 200 keys volatile\), memory headroom \d/,
    );
    expect(ok.perf).toMatchObject({
      expire_ratio: '0.5;0.2:;0.1:;0;1',
      keys: '200;;;0;',
      expires: '100;;;0;',
    });
    expect(ok.perf.used_memory).toMatch(/^\d+B;;;0;67108864$/);
    expect(ok.perf.headroom).toMatch(/^\d+(\.\d+)?%;20:;10:;0;100$/);

    await fill('persistent-b', 300); // 100 / 500 = 0.2: not below the warning threshold yet
    expect((await check(...args)).code).toBe(0);
    await fill('persistent-c', 100); // 100 / 600
    const warning = await check(...args);
    expect(warning.code).toBe(1);
    expect(warning.status).toMatch(
      /^REDIS EXPIRE RATIO WARNING - expire ratio 0\.167 < 0\.2 \(100 of 600 keys volatile\)/,
    );
    expect(warning.perf.expire_ratio).toBe('0.1667;0.2:;0.1:;0;1');

    await fill('persistent-d', 500); // 100 / 1100
    const critical = await check(...args);
    expect(critical.code).toBe(2);
    expect(critical.status).toMatch(
      /^REDIS EXPIRE RATIO CRITICAL - expire ratio 0\.091 < 0\.1 \(100 of 1100 keys volatile\)/,
    );
    expect(critical.perf.keys).toBe('1100;;;0;');
  });

  it('judges memory headroom against maxmemory, the worse of both checks wins', async () => {
    const used = async () => Number(/used_memory:(\d+)/.exec(await r.info('memory'))![1]);
    const ratioOnly = ['-p', String(server.port), '-w', '0.05,20', '-c', '0.01,10'];
    await r.config('SET', 'maxmemory', String(Math.round((await used()) / 0.85))); // ~15 % free
    const warning = await check(...ratioOnly);
    expect(warning.code).toBe(1);
    expect(warning.status).toMatch(/memory headroom 1\d(\.\d)?% < 20% \(/);
    await r.config('SET', 'maxmemory', String(Math.round((await used()) / 0.95))); // ~5 % free
    const critical = await check(...ratioOnly);
    expect(critical.code).toBe(2);
    expect(critical.status).toMatch(/memory headroom \d(\.\d)?% < 10% \(/);
    await r.config('SET', 'maxmemory', '0');
    const unlimited = await check(...ratioOnly);
    expect(unlimited.code).toBe(0);
    expect(unlimited.status).toContain('maxmemory unlimited');
    expect(unlimited.perf.headroom).toBeUndefined();
  });

  it('rejects bad thresholds with UNKNOWN', async () => {
    const inverted = await check('-p', String(server.port), '-w', '0.1', '-c', '0.2');
    expect(inverted.code).toBe(3);
    expect(inverted.line).toMatch(/^REDIS EXPIRE RATIO UNKNOWN - the critical ratio threshold/);
    expect((await check('-w', 'lots')).code).toBe(3);
  });

  it('answers UNKNOWN within its timeout when Redis hangs', async () => {
    const hung = net.createServer(() => undefined);
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    try {
      const port = (hung.address() as net.AddressInfo).port;
      const res = await check('-p', String(port), '-t', '1');
      expect(res.code).toBe(3);
      expect(res.line).toBe(`REDIS EXPIRE RATIO UNKNOWN - no answer from Redis 127.0.0.1:${port} within 1 s`);
      // It gave up on its own (the line says so); the bound is the plugin's timeout plus a start-up that
      // holds on a machine 4x slower, far below the monitoring system's own check timeout.
      expect(res.ms).toBeLessThan(8_000);
    } finally {
      hung.close();
    }
  });

  it('answers UNKNOWN at once when Redis is stopped', async () => {
    await server.stop();
    const res = await check(...args, '-t', '5');
    expect(res.code).toBe(3);
    expect(res.line).toBe(
      `REDIS EXPIRE RATIO UNKNOWN - cannot read INFO from Redis 127.0.0.1:${server.port}: connection refused`,
    );
    expect(res.ms).toBeLessThan(5_000);
  });

  it('reads the stack Redis over a redis:// URL', async () => {
    const res = await check('-u', stackEnv().REDIS_URL, '-w', '0,0', '-c', '0,0');
    expect(res.code).toBe(0);
    expect(res.perf.expire_ratio).toMatch(/^[01](\.\d+)?;0:;0:;0;1$/);
  });
});
