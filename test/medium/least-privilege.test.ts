import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it, after } from 'node:test';
import { expect } from 'expect';
import Redis from 'ioredis';
import { Connection, createConnection } from 'mysql2/promise';
import { mysqlServer, redisAuth, RedisAccount, ROOT, stackEnv, stackSecrets } from '../support/stack';

/**
 * Issue 13, least privilege and secrets: every account of the stack can do its job and nothing else, the
 * passwords are the stack's own (secrets.env, mode 600, never in git), and no account works without one.
 * Against the real Redis, Sentinels, MariaDB pair and DB HAProxy of the test stack (docs/security.md).
 */
const env = stackEnv();
const secrets = stackSecrets();
const port = (url: string) => Number(new URL(url).port);
const sentinelPort = Number(env.REDIS_SENTINEL_PORT);
const opened: Array<{ disconnect(): void }> = [];

function redisAs(p: number, as: RedisAccount | 'nobody'): Redis {
  const auth = as === 'nobody' ? {} : redisAuth(as);
  const r = new Redis(p, '127.0.0.1', {
    ...auth,
    lazyConnect: true,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  r.on('error', () => undefined);
  opened.push(r);
  return r;
}

/** 'OK' when it runs, else the error: MySQL's code (ER_...), Redis' first word (NOPERM, NOAUTH). */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    return (e as { code?: string }).code ?? (e as Error).message.split(' ')[0];
  }
}
const DENIED = expect.stringMatching(/ACCESS_DENIED/);

after(() => opened.forEach((r) => r.disconnect()));

describe('secrets: generated per stack, kept out of the repository', () => {
  const file = path.join(ROOT, '.stack', process.env.STACK_NAME ?? 'test', 'secrets.env');

  it('writes secrets.env with mode 600, and env.json (which carries the service account) too', () => {
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(path.dirname(file), 'env.json')).mode & 0o777).toBe(0o600);
  });

  it('gives every account a long random password of its own, none a default', () => {
    const passwords = Object.entries(secrets).filter(([k]) => k.endsWith('_PASSWORD'));
    expect(passwords.length).toBeGreaterThanOrEqual(11);
    for (const [, v] of passwords) expect(v).toMatch(/^[0-9a-f]{48}$/);
    expect(new Set(passwords.map(([, v]) => v)).size).toBe(passwords.length);
    expect(secrets).toMatchObject({ REDIS_EXPORTER_USER: 'exporter', MYSQL_MONITOR_USER: 'catalog_monitor' });
  });

  it('is ignored by git, and no tracked file holds one of its passwords', () => {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT }).toString();
    expect(git('check-ignore', file).trim()).not.toBe('');
    expect(git('ls-files', '--', '.stack')).toBe('');
    let found = '';
    try {
      found = git('grep', '-l', '-F', secrets.REDIS_PASSWORD, '--', '.');
    } catch {
      // git grep exits 1 when nothing matches
    }
    expect(found).toBe('');
  });
});

describe('Redis: ACL users, the default user off', () => {
  const primary = port(env.REDIS_URL);

  it('refuses a client without credentials, on Redis and on the Sentinels', async () => {
    expect(await outcome(redisAs(primary, 'nobody').ping())).toBe('NOAUTH');
    expect(await outcome(redisAs(port(env.REDIS_REPLICA_URL), 'nobody').ping())).toBe('NOAUTH');
    expect(await outcome(redisAs(sentinelPort, 'nobody').ping())).toBe('NOAUTH');
    // The default user is off: no password (empty or any) logs it in.
    const r = redisAs(primary, 'nobody');
    expect(await outcome(r.call('AUTH', 'default', ''))).toBe('WRONGPASS');
    expect(await outcome(r.call('AUTH', 'default', 'catalog'))).toBe('WRONGPASS');
  });

  it('lets the service read and write its keys and nothing else', async () => {
    const r = redisAs(primary, 'catalog');
    expect(await outcome(r.get('product:1'))).toBe('OK');
    expect(await outcome(r.set('lease:least-privilege-test', 'x', 'PX', 1000))).toBe('OK');
    expect(await outcome(r.set('elsewhere:1', 'x'))).toBe('NOPERM');
    for (const cmd of [
      ['FLUSHALL'],
      ['FLUSHDB'],
      ['CONFIG', 'SET', 'maxmemory', '1'],
      ['KEYS', '*'],
      ['SHUTDOWN', 'NOSAVE'],
      ['ACL', 'LIST'],
      ['REPLICAOF', 'NO', 'ONE'],
      ['MODULE', 'LIST'],
      ['SCRIPT', 'FLUSH'],
      ['CLIENT', 'KILL', 'ID', '1'],
    ])
      expect([cmd.join(' '), await outcome(r.call(cmd[0], ...cmd.slice(1)))]).toEqual([
        cmd.join(' '),
        'NOPERM',
      ]);
  });

  it('lets the exporter read statistics but no value, and change nothing', async () => {
    const r = redisAs(primary, 'exporter');
    expect(await outcome(r.info())).toBe('OK');
    expect(await outcome(r.config('GET', 'maxmemory'))).toBe('OK');
    expect(await outcome(r.call('SLOWLOG', 'GET', '1'))).toBe('OK');
    expect(await outcome(r.get('product:1'))).toBe('NOPERM');
    expect(await outcome(r.set('product:1', 'x'))).toBe('NOPERM');
    expect(await outcome(r.config('SET', 'maxmemory', '1'))).toBe('NOPERM');
    expect(await outcome(r.call('CLIENT', 'KILL', 'ID', '1'))).toBe('NOPERM');
  });

  it("gives the replication and Sentinel accounts only their protocols' commands", async () => {
    const replica = redisAs(primary, 'replica');
    expect(await outcome(replica.ping())).toBe('OK');
    expect(await outcome(replica.get('product:1'))).toBe('NOPERM');
    const sentinel = redisAs(primary, 'sentinel');
    expect(await outcome(sentinel.info('replication'))).toBe('OK');
    expect(await outcome(sentinel.get('product:1'))).toBe('NOPERM');
    expect(await outcome(sentinel.flushall())).toBe('NOPERM');
  });

  it('lets the service ask a Sentinel where the primary is, and not move it', async () => {
    const s = redisAs(sentinelPort, 'catalog');
    const addr = (await s.call('SENTINEL', 'get-master-addr-by-name', 'catalog')) as string[];
    expect(Number(addr[1])).toBe(primary);
    expect(await outcome(s.call('SENTINEL', 'FAILOVER', 'catalog'))).toBe('NOPERM');
    expect(await outcome(s.call('SENTINEL', 'SET', 'catalog', 'quorum', '1'))).toBe('NOPERM');
    expect(await outcome(s.call('SENTINEL', 'REMOVE', 'catalog'))).toBe('NOPERM');
  });
});

describe('MariaDB: one account per job, with only its grants', () => {
  const conns: Connection[] = [];
  const as = async (who: 'app' | 'monitor' | 'migrate') => {
    const c = await mysqlServer('a', who);
    conns.push(c);
    return c;
  };
  after(async () => Promise.all(conns.map((c) => c.end())));

  it('lets the service read and write its tables and nothing more (no DDL, no other schema)', async () => {
    const c = await as('app');
    expect(await outcome(c.query('SELECT id FROM products LIMIT 1'))).toBe('OK');
    expect(await outcome(c.query('DELETE FROM outbox WHERE id = -1'))).toBe('OK');
    for (const sql of [
      'DROP TABLE products',
      'TRUNCATE TABLE outbox',
      'CREATE TABLE least_privilege_probe (id INT)',
      'ALTER TABLE products ADD COLUMN x INT',
      'SELECT user FROM mysql.user',
      "GRANT SELECT ON catalog.* TO 'catalog'@'127.0.0.1'",
      'STOP SLAVE',
      'SET GLOBAL read_only = 1',
    ])
      expect([sql, await outcome(c.query(sql))]).toEqual([sql, DENIED]);
    const [[{ grants }]] = (await c.query(
      'SELECT COUNT(*) AS grants FROM information_schema.user_privileges',
    )) as unknown as [[{ grants: number }]];
    expect(Number(grants)).toBe(1); // USAGE only, globally
  });

  it('lets migrations change the schema of the catalog only', async () => {
    const c = await as('migrate');
    expect(await outcome(c.query('CREATE TABLE least_privilege_probe (id INT)'))).toBe('OK');
    expect(await outcome(c.query('DROP TABLE least_privilege_probe'))).toBe('OK');
    expect(await outcome(c.query('CREATE DATABASE least_privilege_probe'))).toEqual(DENIED);
    expect(await outcome(c.query('SELECT user FROM mysql.user'))).toEqual(DENIED);
  });

  it('lets the monitor read replication state and performance_schema, never the catalog', async () => {
    const c = await as('monitor');
    expect(await outcome(c.query('SHOW SLAVE STATUS'))).toBe('OK');
    expect(await outcome(c.query('SHOW BINARY LOGS'))).toBe('OK');
    expect(await outcome(c.query('SELECT COUNT(*) FROM performance_schema.threads'))).toBe('OK');
    expect(await outcome(c.query('SELECT id FROM catalog.products LIMIT 1'))).toEqual(DENIED);
    expect(await outcome(c.query('STOP SLAVE'))).toEqual(DENIED);
  });

  it("gives the writer agents' account SHOW SLAVE STATUS, read_only and no data", async () => {
    const c = await createConnection({
      host: '127.0.0.1',
      port: Number(env.MYSQL_A_PORT),
      user: secrets.MYSQL_AGENT_USER,
      password: secrets.MYSQL_AGENT_PASSWORD,
    });
    conns.push(c);
    expect(await outcome(c.query('SHOW SLAVE STATUS'))).toBe('OK');
    expect(await outcome(c.query("SHOW GLOBAL VARIABLES LIKE 'gtid_current_pos'"))).toBe('OK');
    expect(await outcome(c.query('SELECT id FROM catalog.products LIMIT 1'))).toEqual(DENIED);
    // It sets read_only and stops/starts replication (docs/data-safety.md); without a table privilege it writes nothing.
    const [grants] = await c.query('SHOW GRANTS');
    expect(JSON.stringify(grants)).toMatch(
      /GRANT READ_ONLY ADMIN, REPLICATION SLAVE ADMIN, SLAVE MONITOR ON \*\.\*/,
    );
    expect(await outcome(c.query('DELETE FROM catalog.outbox WHERE 0'))).toEqual(DENIED);
  });

  it('has dropped the old shared accounts and passwords', async () => {
    for (const [user, password] of [
      ['catalog', 'catalog'],
      ['monitor', 'monitor'],
      ['repl', 'repl'],
    ]) {
      const tried = createConnection({ host: '127.0.0.1', port: Number(env.MYSQL_A_PORT), user, password });
      expect(await outcome(tried.then((c) => c.end()))).toBe('ER_ACCESS_DENIED_ERROR');
    }
  });
});

describe('DB HAProxy stats page: behind the stats password', () => {
  const url = `http://127.0.0.1:${env.HAPROXY_DB_STATS_PORT}/;csv`;
  const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;

  it('refuses without credentials or with wrong ones', async () => {
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: basic(secrets.STATS_USER, 'nope') } })).status).toBe(
      401,
    );
  });

  it("answers the stats user with the servers' states", async () => {
    const res = await fetch(url, {
      headers: { authorization: basic(secrets.STATS_USER, secrets.STATS_PASSWORD) },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^mysql-writer,mariadb-a,/m);
  });
});
