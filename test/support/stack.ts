import { after, before } from 'node:test';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import Redis from 'ioredis';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createConnection, Connection } from 'mysql2/promise';
import { AppConfig, loadConfig, readEnvFile } from '@app/config';
import { createApp } from '@catalog/app.factory';

/** The repository root, whether this file runs from test/ or compiled from dist-test/test/. */
export const ROOT = (() => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'nest-cli.json'))) dir = path.dirname(dir);
  return dir;
})();
export const WRITE_KEY = 'local-demo-write-key';
export const READ_KEY = 'local-demo-read-key';

/** Connection settings of the stack that scripts/test.sh started (STACK_NAME=test by default). */
export function stackEnv(): Record<string, string> {
  const name = process.env.STACK_NAME ?? 'test';
  const file = path.join(ROOT, '.stack', name, 'env.json');
  if (!fs.existsSync(file))
    throw new Error(`${file} is missing: run the tests with npm test (it starts the stack)`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
}

/**
 * The stack's secrets.env (scripts/lib/stack-secrets.sh): every account's name and password. Tests use the
 * admin accounts only to set up or inspect what the service's own account may not touch.
 */
export function stackSecrets(): Record<string, string> {
  return readEnvFile(path.join(ROOT, '.stack', process.env.STACK_NAME ?? 'test', 'secrets.env'));
}

export function testConfig(overrides: Record<string, string> = {}): AppConfig {
  return loadConfig({
    ...stackEnv(),
    // A test that brings a Redis of its own reaches it directly (not through the stack's Sentinels) and as
    // its default user.
    ...('REDIS_URL' in overrides ? { REDIS_SENTINELS: '', REDIS_USERNAME: '', REDIS_PASSWORD: '' } : {}),
    NODE_ENV: 'test',
    LOG_STDOUT: 'false',
    RELAY_ENABLED: 'false',
    // Tests run tiering passes themselves; a timer would demote keys under other tests' feet.
    TIERING_ENABLED: 'false',
    SHUTDOWN_DRAIN_MS: '0',
    // An app in the test process shares its event loop with the test: load shedding would measure the test
    // (test/medium/health-shedding.test.ts turns it on).
    SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
    SHED_MAX_EVENT_LOOP_UTILIZATION: '0',
    SHED_MAX_HEAP_RATIO: '0',
    ...overrides,
  });
}

/** The real application, in process, against the real Redis and MariaDB of the test stack. */
export async function startApp(overrides: Record<string, string> = {}): Promise<NestFastifyApplication> {
  const app = await createApp(testConfig(overrides));
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

export type RedisAccount = 'admin' | 'catalog' | 'exporter' | 'sentinel' | 'replica';

/** Redis credentials of one of the stack's accounts (the service's is `catalog`). */
export function redisAuth(as: RedisAccount = 'admin'): { username: string; password: string } {
  const s = stackSecrets();
  const key = {
    admin: 'REDIS_ADMIN',
    catalog: 'REDIS',
    exporter: 'REDIS_EXPORTER',
    sentinel: 'REDIS_SENTINEL',
    replica: 'REDIS_REPLICA',
  }[as];
  return { username: s[as === 'catalog' ? 'REDIS_USERNAME' : `${key}_USER`], password: s[`${key}_PASSWORD`] };
}

/** The stack's primary Redis, as the admin account unless told otherwise (tests set up and inspect with it). */
export function redis(as: RedisAccount = 'admin'): Redis {
  const url = new URL(stackEnv().REDIS_URL);
  return new Redis(Number(url.port), url.hostname, redisAuth(as));
}

export type MysqlAccount = 'app' | 'monitor' | 'migrate';

/** A direct connection to one master, bypassing the DB HAProxy. */
export function mysqlServer(which: 'a' | 'b', as: MysqlAccount = 'app'): Promise<Connection> {
  const env = stackEnv();
  const s = stackSecrets();
  const account = {
    app: [s.MYSQL_USER, s.MYSQL_PASSWORD],
    monitor: [s.MYSQL_MONITOR_USER, s.MYSQL_MONITOR_PASSWORD],
    migrate: [s.MYSQL_MIGRATE_USER, s.MYSQL_MIGRATE_PASSWORD],
  }[as];
  return createConnection({
    host: '127.0.0.1',
    port: Number(which === 'a' ? env.MYSQL_A_PORT : env.MYSQL_B_PORT),
    user: account[0],
    password: account[1],
    database: as === 'monitor' ? undefined : env.MYSQL_DATABASE,
  });
}

export async function comSelect(conns: Connection[]): Promise<number> {
  let total = 0;
  for (const c of conns) {
    const [rows] = await c.query("SHOW GLOBAL STATUS LIKE 'Com_select'");
    total += Number((rows as Array<{ Value: string }>)[0].Value);
  }
  return total;
}

export async function commandCalls(r: Redis, command: string): Promise<number> {
  const info = await r.info('commandstats');
  const m = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info);
  return m ? Number(m[1]) : 0;
}

/** Ids far from the demo catalog and unique per test run, so tests never see each other's data. */
let nextId = 10_000_000 + (Date.now() % 1_000_000) * 100;
export function freshIds(n: number): number[] {
  const ids = Array.from({ length: n }, (_, i) => nextId + i);
  nextId += n;
  return ids;
}

export function product(sku: string, extra: Record<string, unknown> = {}) {
  return { sku, status: 'active', name: { en: `Product ${sku}` }, ...extra };
}

export async function waitFor<T>(
  fn: () => Promise<T | undefined | false>,
  timeoutMs: number,
  stepMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/**
 * The suite's app in process, a Redis client and a connection to master A: opened before the suite,
 * closed after it. The fields are set once `before` has run.
 */
export function appWithStores(): { app: NestFastifyApplication; r: Redis; db: Connection } {
  const ctx = {} as { app: NestFastifyApplication; r: Redis; db: Connection };
  before(async () => {
    ctx.app = await startApp();
    ctx.r = redis();
    ctx.db = await mysqlServer('a');
  });
  after(async () => {
    await ctx.app.close();
    ctx.r.disconnect();
    await ctx.db.end();
  });
  return ctx;
}
