import { describe, it } from 'node:test';
import { expect } from 'expect';
import { ConfigError, loadConfig } from './config';

const SECRET = '3f1c9a0d5b7e2468ace013579bdf02468ace13579bdf0246';
const production = {
  NODE_ENV: 'production',
  API_KEYS: 'site:read:' + 'a'.repeat(64),
  REDIS_URL: `redis://catalog:${SECRET}@10.0.0.5:6379`,
  REDIS_REPLICA_URL: '',
  MYSQL_PASSWORD: SECRET,
  MYSQL_MONITOR_PASSWORD: SECRET,
};

describe(loadConfig.name, () => {
  it('accepts production settings with real secrets', () => {
    expect(loadConfig(production).NODE_ENV).toBe('production');
    // The password may come from REDIS_PASSWORD instead of the URL.
    expect(() =>
      loadConfig({ ...production, REDIS_URL: 'redis://10.0.0.5:6379', REDIS_PASSWORD: SECRET }),
    ).not.toThrow();
  });

  it('refuses default or empty secrets in production and names each', () => {
    const refused = (env: Record<string, string>) => {
      try {
        loadConfig({ ...production, ...env });
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused({ REDIS_URL: 'redis://10.0.0.5:6379' })).toMatch(/REDIS_PASSWORD/);
    expect(refused({ REDIS_REPLICA_URL: 'redis://10.0.0.6:6379' })).toMatch(/REDIS_PASSWORD/);
    expect(refused({ MYSQL_PASSWORD: 'catalog' })).toMatch(/MYSQL_PASSWORD/);
    expect(refused({ MYSQL_PASSWORD: '' })).toMatch(/MYSQL_PASSWORD/);
    expect(refused({ MYSQL_MONITOR_PASSWORD: 'monitor' })).toMatch(/MYSQL_MONITOR_PASSWORD/);
    expect(refused({ API_KEYS: undefined as unknown as string })).toMatch(/API_KEYS/);
  });

  it('keeps the defaults of the local stack outside production', () => {
    expect(loadConfig({}).MYSQL_PASSWORD).toBe('catalog');
  });
});
