import { Inject, Injectable } from '@nestjs/common';
import Redis, { ChainableCommander } from 'ioredis';
import { REDIS_PRODUCT } from '@app/redis';
import { PRODUCT } from '@catalog/products/product.record-type';

/** Idle seconds of each persistent key, -1 for volatile or vanished keys. */
const IDLE_OF_PERSISTENT = `
local out = {}
for i, k in ipairs(KEYS) do
  if redis.call('PTTL', k) == -1 then
    out[i] = redis.call('OBJECT', 'IDLETIME', k)
  else
    out[i] = -1
  end
end
return out
`;
/** Keys per script: a script holds Redis for all its keys at once (~2 us each), so keep them short. */
const IDLE_BATCH = 200;

/**
 * Gives a key its TTL only if it is still persistent and still idle: a write (SET without TTL) or a read
 * since the scan makes the key hot again, and this check runs atomically with the EXPIRE.
 * Returns { demoted, bytes } with the MEMORY USAGE of the demoted keys.
 */
const DEMOTE = `
local minIdle = tonumber(ARGV[1])
local demoted = 0
local bytes = 0
for i, k in ipairs(KEYS) do
  if redis.call('PTTL', k) == -1 and redis.call('OBJECT', 'IDLETIME', k) >= minIdle then
    bytes = bytes + (redis.call('MEMORY', 'USAGE', k) or 0)
    redis.call('EXPIRE', k, ARGV[i + 1])
    demoted = demoted + 1
  end
end
return { demoted, bytes }
`;

type RedisWithTiering = Redis & {
  tieringIdleOfPersistent(numKeys: number, ...keys: string[]): Promise<number[]>;
  tieringDemote(numKeys: number, ...args: Array<string | number>): Promise<[number, number]>;
};

export interface KeySample {
  persistent: boolean;
  bytes: number;
}

const LAST_RUN_KEY = 'tiering:last-run';
const LAST_RUN_TTL_SECONDS = 7 * 24 * 3600;

/** The product Redis as the tiering job sees it: sampling, SCAN pages, demotion. */
@Injectable()
export class TieringRepository {
  static readonly PATTERN = PRODUCT.keyPrefix + '*';
  private readonly redis: RedisWithTiering;

  constructor(@Inject(REDIS_PRODUCT) redis: Redis) {
    redis.defineCommand('tieringIdleOfPersistent', { lua: IDLE_OF_PERSISTENT });
    redis.defineCommand('tieringDemote', { lua: DEMOTE });
    this.redis = redis as RedisWithTiering;
  }

  /** `n` random keys (RANDOMKEY, O(1) each) with their tier and MEMORY USAGE, in two pipelines. */
  async sample(n: number): Promise<KeySample[]> {
    if (n <= 0) return [];
    const picks = this.redis.pipeline();
    for (let i = 0; i < n; i++) picks.randomkey();
    const keys = ((await picks.exec()) ?? [])
      .map(([err, key]) => (err ? null : (key as string | null)))
      .filter((k): k is string => k !== null);
    if (keys.length === 0) return [];
    const details = this.redis.pipeline();
    for (const key of keys) {
      details.pttl(key);
      details.call('MEMORY', 'USAGE', key);
    }
    const replies = (await details.exec()) ?? [];
    const out: KeySample[] = [];
    for (let i = 0; i < keys.length; i++) {
      const [ttlErr, ttl] = replies[2 * i];
      const [memErr, bytes] = replies[2 * i + 1];
      // -2: expired or deleted between the two pipelines
      if (ttlErr || memErr || ttl === -2 || bytes === null) continue;
      out.push({ persistent: ttl === -1, bytes: Number(bytes) });
    }
    return out;
  }

  /**
   * One SCAN step over product keys; `idle` has the idle seconds of the persistent ones, -1 for the others.
   * PTTL and OBJECT IDLETIME touch no LRU clock. The page goes to Redis as a pipeline of short scripts:
   * Redis serves other clients between them (one script for a 1000-key page held it 2 ms, 13 ms on a busy
   * machine), and a script returns one small array where a plain pipeline returns two replies per key.
   */
  async scanPage(cursor: string, count: number): Promise<{ cursor: string; keys: string[]; idle: number[] }> {
    const [next, keys] = await this.redis.scan(cursor, 'MATCH', TieringRepository.PATTERN, 'COUNT', count);
    if (keys.length === 0) return { cursor: next, keys, idle: [] };
    const p = this.redis.pipeline() as ChainableCommander & {
      tieringIdleOfPersistent(numKeys: number, ...keys: string[]): ChainableCommander;
    };
    for (let i = 0; i < keys.length; i += IDLE_BATCH) {
      const batch = keys.slice(i, i + IDLE_BATCH);
      p.tieringIdleOfPersistent(batch.length, ...batch);
    }
    const idle: number[] = [];
    for (const [err, values] of (await p.exec()) ?? []) {
      if (err) throw err;
      idle.push(...(values as number[]));
    }
    return { cursor: next, keys, idle };
  }

  /** Turns keys into volatile ones with the given TTLs, skipping any that became hot or volatile meanwhile. */
  async demote(
    items: ReadonlyArray<{ key: string; ttl: number }>,
    minIdleSeconds: number,
  ): Promise<{ demoted: number; bytes: number }> {
    if (items.length === 0) return { demoted: 0, bytes: 0 };
    const [demoted, bytes] = await this.redis.tieringDemote(
      items.length,
      ...items.map((i) => i.key),
      minIdleSeconds,
      ...items.map((i) => i.ttl),
    );
    return { demoted, bytes };
  }

  async lastRun(): Promise<string | null> {
    return this.redis.get(LAST_RUN_KEY);
  }

  /** Kept with a TTL, like everything that may be evicted: it is a report, not state anyone depends on. */
  async setLastRun(json: string): Promise<void> {
    await this.redis.set(LAST_RUN_KEY, json, 'EX', LAST_RUN_TTL_SECONDS);
  }
}
