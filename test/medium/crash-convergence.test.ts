import { describe, it, before, after } from 'node:test';
import { expect } from 'expect';
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import type Redis from 'ioredis';
import type { Connection } from 'mysql2/promise';
import { freshIds, mysqlServer, product, redis, ROOT, stackEnv, waitFor, WRITE_KEY } from '../support/stack';

const MAIN = path.join(ROOT, 'dist/apps/catalog-service/src/main.js');
/** The stated bound (README): RELAY_GRACE_MS + RELAY_INTERVAL_MS + RELAY_LEASE_MS with the defaults. */
const BOUND_MS = 2_000 + 1_000 + 5_000;
/**
 * Start-up of a whole Node process (Nest, pools, the relay's start-up drain) is CPU work: about 2 s here,
 * over 20 s beside other load. A wait, not a promise: generous, and the time is reported.
 */
const START_TIMEOUT_MS = 120_000;

describe('crash between the MySQL commit and the Redis update', () => {
  let r: Redis;
  let db: Connection;
  let proc: ChildProcess | undefined;
  const port = Number(stackEnv().SERVICE_PORTS.split(',')[0]) + 50;
  const base = `http://127.0.0.1:${port}`;

  const starts: number[] = [];
  const start = async (env: Record<string, string>) => {
    const started = performance.now();
    proc = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        ...stackEnv(),
        PORT: String(port),
        NODE_NAME: 'crash-test',
        LOG_STDOUT: 'false',
        SHUTDOWN_DRAIN_MS: '0',
        // A process just started on a busy machine can be over the event-loop delay threshold and would
        // shed the PUT this test needs to reach the failpoint (an `npm test` beside two busy loops did).
        SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
        ...env,
      },
      stdio: 'ignore',
    });
    await waitFor(
      () =>
        fetch(`${base}/health/ready`)
          .then((res) => res.ok)
          .catch(() => false),
      START_TIMEOUT_MS,
      100,
    );
    starts.push(Math.round(performance.now() - started));
  };
  /** SIGTERM, and wait until it is gone, so the next start (or test) never meets it. */
  const stop = async () => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((res) => p.once('exit', res));
    p.kill('SIGTERM');
    await exited;
  };

  before(async () => {
    r = redis();
    db = await mysqlServer('a');
  });

  after(async () => {
    try {
      await stop();
    } finally {
      r?.disconnect();
      await db?.end();
    }
  });

  it('converges Redis to the committed version after restart, within the stated bound, losing nothing', async () => {
    const [id] = freshIds(1);
    const put = (body: object) =>
      fetch(`${base}/v1/products/${id}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${WRITE_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    await start({ RELAY_ENABLED: 'false' });
    expect((await put(product(`CR-${id}`))).status).toBe(201);
    await stop();

    await start({ RELAY_ENABLED: 'false', CATALOG_FAILPOINT: 'after-mysql-commit' });
    const exited = new Promise((res) => proc!.once('exit', (_code, signal) => res(signal)));
    await expect(put(product(`CR-${id}`, { brand: 'after-crash' }))).rejects.toThrow();
    expect(await exited).toBe('SIGKILL');

    const [rows] = await db.query('SELECT version FROM products WHERE id = ?', [id]);
    expect((rows as Array<{ version: number }>)[0].version).toBe(2);
    expect(JSON.parse((await r.get(`product:${id}`))!)).toMatchObject({ version: 1 });

    await start({ RELAY_ENABLED: 'true' });
    // The bound runs from the moment the restarted node serves (it is "running"); start-up is reported.
    const restartedAt = Date.now();
    const doc = await waitFor(async () => {
      const v = await r.get(`product:${id}`);
      return v && JSON.parse(v).version === 2 ? (JSON.parse(v) as { brand: string }) : undefined;
    }, BOUND_MS);
    const convergedMs = Date.now() - restartedAt;
    expect(doc.brand).toBe('after-crash');
    expect(await r.ttl(`product:${id}`)).toBe(-1);
    const served = await (await fetch(`${base}/v1/products/${id}`)).json();
    expect(served).toMatchObject({ version: 2, brand: 'after-crash' });
    process.stdout.write(
      `crash convergence: redis had version 2 ${convergedMs} ms after the restarted node was ready ` +
        `(bound ${BOUND_MS} ms); start-up to ready: ${starts.join(', ')} ms\n`,
    );
  });
});
