import { describe, it } from 'node:test';
import { expect } from 'expect';
import { loadConfig } from '@app/config';
import { AppLogger } from '@app/logger';
import { Metrics } from '@app/metrics';
import { isBreakerRefusal, StoreBreakers } from './store-breaker';

const never = () => new Promise<never>(() => undefined);

function breakers(env: Record<string, string> = {}) {
  const config = loadConfig({
    NODE_ENV: 'test',
    REDIS_READ_TIMEOUT_MS: '20',
    MYSQL_READ_MAX_CONCURRENT: '2',
    BREAKER_MIN_CALLS: '4',
    BREAKER_RESET_MS: '60000',
    ...env,
  });
  const metrics = new Metrics(false);
  const logger = new AppLogger({ level: 'error', nodeName: 'node-1', stdout: false });
  return { b: new StoreBreakers(config, metrics, logger), metrics };
}

describe(StoreBreakers.name, () => {
  it('fails a call that outlasts the timeout instead of waiting for it', async () => {
    const { b } = breakers();
    try {
      await expect(b.redis.fire(never)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      expect(b.redis.state).toBe('closed');
    } finally {
      b.onApplicationShutdown();
    }
  });

  it('opens after enough failed calls, then refuses at once without calling the store', async () => {
    const { b, metrics } = breakers();
    try {
      const fail = () => Promise.reject(new Error('ECONNREFUSED'));
      for (let i = 0; i < 4; i++) await b.redis.fire(fail).catch(() => undefined);
      expect(b.redis.state).toBe('open');
      let called = false;
      const refused = await b.redis
        .fire(() => {
          called = true;
          return Promise.resolve(1);
        })
        .catch((e: unknown) => e);
      expect(isBreakerRefusal(refused)).toBe(true);
      expect(called).toBe(false);
      const text = await metrics.registry.metrics();
      expect(text).toMatch(/^catalog_breaker_state\{store="redis"\} 2$/m);
      expect(text).toMatch(/^catalog_breaker_calls_total\{store="redis",outcome="failure"\} 4$/m);
      expect(text).toMatch(/^catalog_breaker_calls_total\{store="redis",outcome="open"\} 1$/m);
    } finally {
      b.onApplicationShutdown();
    }
  });

  it('does not count Redis error replies (OOM) against Redis', async () => {
    const { b } = breakers();
    try {
      const oom = Object.assign(new Error('OOM command not allowed'), { name: 'ReplyError' });
      for (let i = 0; i < 6; i++) await b.redis.fire(() => Promise.reject(oom)).catch(() => undefined);
      expect(b.redis.state).toBe('closed');
    } finally {
      b.onApplicationShutdown();
    }
  });

  it('refuses MySQL calls beyond its capacity at once, without counting them against MySQL', async () => {
    const { b } = breakers({ MYSQL_READ_TIMEOUT_MS: '0' });
    try {
      let release!: () => void;
      const gate = new Promise<number>((r) => (release = () => r(1)));
      const running = [b.mysql.fire(() => gate), b.mysql.fire(() => gate)];
      const refusals = [];
      for (let i = 0; i < 6; i++) refusals.push(await b.mysql.fire(() => gate).catch((e: unknown) => e));
      expect(refusals.every(isBreakerRefusal)).toBe(true);
      release();
      expect(await Promise.all(running)).toEqual([1, 1]);
      expect(b.mysql.state).toBe('closed');
    } finally {
      b.onApplicationShutdown();
    }
  });
});
