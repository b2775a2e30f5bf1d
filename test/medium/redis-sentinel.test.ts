import { describe, it, before, after } from 'node:test';
import { expect } from 'expect';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import Redis from 'ioredis';
import { freshIds, product, redisAuth, stackEnv, startApp, waitFor, WRITE_KEY } from '../support/stack';

/**
 * The service reaches the product Redis through the stack's three Sentinels: after a failover it writes to
 * and reads from the new primary, never the demoted one, without a restart.
 */
describe('Redis failover through Sentinel', () => {
  const env = stackEnv();
  const sentinelPorts = env.REDIS_SENTINELS.split(',').map((s) => Number(s.split(':')[1]));
  const primaryPort = Number(new URL(env.REDIS_URL).port);
  const replicaPort = Number(new URL(env.REDIS_REPLICA_URL).port);
  let sentinel: Redis;
  let app: NestFastifyApplication;
  const auth = { authorization: `Bearer ${WRITE_KEY}` };

  const primaryNow = async () =>
    Number(((await sentinel.call('SENTINEL', 'get-master-addr-by-name', 'catalog')) as string[])[1]);
  const role = async (port: number) => {
    const r = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1, ...redisAuth() });
    try {
      return /^role:(\w+)/m.exec(await r.info('replication'))?.[1];
    } finally {
      r.disconnect();
    }
  };
  /** Asks the Sentinels to fail over until `port` is the primary again and its replica is in sync. */
  const makePrimary = async (port: number) => {
    await waitFor(
      async () => {
        if ((await primaryNow()) !== port)
          await sentinel.call('SENTINEL', 'FAILOVER', 'catalog').catch(() => undefined);
        return (await primaryNow()) === port && (await role(port)) === 'master';
      },
      60_000,
      1_000,
    );
    const other = port === primaryPort ? replicaPort : primaryPort;
    await waitFor(async () => (await role(other)) === 'slave', 30_000, 250);
  };

  before(async () => {
    sentinel = new Redis(sentinelPorts[0], '127.0.0.1', redisAuth());
    expect(sentinelPorts).toHaveLength(3);
    app = await startApp({ RELAY_ENABLED: 'false' });
  });

  after(async () => {
    await app?.close();
    await makePrimary(primaryPort).finally(() => sentinel.disconnect());
  });

  const put = (id: number, brand: string) =>
    app.inject({
      method: 'PUT',
      url: `/v1/products/${id}`,
      headers: auth,
      payload: product(`S-${id}`, { brand }),
    });

  it('writes to the new primary after a failover, with no 5xx during it', async () => {
    const [id] = freshIds(1);
    expect((await put(id, 'before')).statusCode).toBe(201);
    expect(await primaryNow()).toBe(primaryPort);

    await sentinel.call('SENTINEL', 'FAILOVER', 'catalog');
    // Writes go on while the Sentinels switch; none may fail, none may land on the demoted primary.
    const statuses: number[] = [];
    let n = 0;
    await waitFor(
      async () => {
        statuses.push((await put(id, `during-${n++}`)).statusCode);
        return (await primaryNow()) === replicaPort && (await role(primaryPort)) === 'slave';
      },
      60_000,
      100,
    );
    expect(statuses.filter((s) => s >= 500)).toEqual([]);

    const after = await put(id, 'after');
    expect(after.statusCode).toBe(200);
    const version = after.json<{ version: number }>().version;
    const newPrimary = new Redis(replicaPort, '127.0.0.1', redisAuth());
    try {
      expect(JSON.parse((await newPrimary.get(`product:${id}`))!)).toMatchObject({ version, brand: 'after' });
    } finally {
      newPrimary.disconnect();
    }
    const read = await app.inject({ method: 'GET', url: `/v1/products/${id}` });
    expect(read.json()).toMatchObject({ version, brand: 'after' });
    expect(read.headers['x-catalog-tier']).toBe('redis');
  });
});
