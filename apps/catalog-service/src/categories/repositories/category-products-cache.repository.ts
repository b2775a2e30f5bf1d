import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { REDIS_PRODUCT } from '@app/redis';
import type { Membership } from './category-membership.repository';

/**
 * Per pair: applied only when its version is not below the one recorded for that pair, so an older state
 * (a slow request, a replayed outbox row, a rebuild that read before a later write) never re-adds a
 * removed member nor removes a re-added one. The same version is the same state, so it is asserted again:
 * that is how a rebuild repairs a set that lost an entry its versions hash still records. Returns the
 * entries that changed. KEYS: (set, versions) per pair. ARGV: (product id, version, present).
 */
const APPLY_MEMBERS = `
local changed = 0
for i = 1, #KEYS / 2 do
  local set, versions = KEYS[2 * i - 1], KEYS[2 * i]
  local id, v = ARGV[3 * i - 2], tonumber(ARGV[3 * i - 1])
  local cur = tonumber(redis.call('HGET', versions, id) or '0')
  if v >= cur then
    if v > cur then redis.call('HSET', versions, id, v) end
    if ARGV[3 * i] == '1' then
      changed = changed + redis.call('ZADD', set, id, id)
    else
      changed = changed + redis.call('ZREM', set, id)
    end
  end
end
return changed
`;

/** The member that says "this set is complete" (score 0: below every product id, so never in a page). */
const READY = 'complete';

type RedisWithScripts = Redis & {
  applyCategoryMembers(numKeys: number, ...args: Array<string | number>): Promise<number>;
};

export interface CachedPage {
  /** False when the set is not known to be complete: the caller reads MySQL instead. */
  complete: boolean;
  ids: number[];
}

/**
 * A sorted set per category (`category-products:{id}`, member and score = product id, so ZRANGEBYSCORE is
 * the keyset walk) and a hash of the version each pair was last set at (`category-products-v:{id}`). Both
 * are persistent keys on the product Redis: derived from products, written with them.
 */
@Injectable()
export class CategoryProductsCacheRepository {
  private readonly redis: RedisWithScripts;

  constructor(@Inject(REDIS_PRODUCT) redis: Redis) {
    redis.defineCommand('applyCategoryMembers', { lua: APPLY_MEMBERS });
    this.redis = redis as RedisWithScripts;
  }

  static setKey(categoryId: number): string {
    return `category-products:${categoryId}`;
  }

  static versionsKey(categoryId: number): string {
    return `category-products-v:${categoryId}`;
  }

  /** Applies pairs (newer per pair wins); returns how many changed. */
  async apply(pairs: readonly Membership[]): Promise<number> {
    if (pairs.length === 0) return 0;
    const keys: string[] = [];
    const args: Array<string | number> = [];
    for (const p of pairs) {
      keys.push(CategoryProductsCacheRepository.setKey(p.categoryId));
      keys.push(CategoryProductsCacheRepository.versionsKey(p.categoryId));
      args.push(p.productId, p.version, p.present ? '1' : '0');
    }
    return this.redis.applyCategoryMembers(keys.length, ...keys, ...args);
  }

  /** Product ids above `after`, ascending, at most `limit`; one round trip with the completeness check. */
  async page(categoryId: number, after: number, limit: number): Promise<CachedPage> {
    const key = CategoryProductsCacheRepository.setKey(categoryId);
    const res = await this.redis
      .pipeline()
      .zscore(key, READY)
      .zrangebyscore(key, `(${after}`, '+inf', 'LIMIT', 0, limit)
      .exec();
    const failed = res?.find(([err]) => err);
    if (!res || failed) throw (failed?.[0] as Error) ?? new Error('redis pipeline returned nothing');
    const complete = res[0][1] !== null;
    return { complete, ids: complete ? (res[1][1] as string[]).map(Number) : [] };
  }

  /** Marks the set complete: from now on every change reaches it through the guarded apply. */
  async markComplete(categoryId: number): Promise<void> {
    await this.redis.zadd(CategoryProductsCacheRepository.setKey(categoryId), 0, READY);
  }

  /** One rebuild per category at a time across nodes (not needed for correctness, only to save work). */
  async acquireRebuild(categoryId: number, node: string, ms: number): Promise<boolean> {
    const ok = await this.redis.set(`category-products-rebuild:${categoryId}`, node, 'PX', ms, 'NX');
    return ok === 'OK';
  }

  async releaseRebuild(categoryId: number): Promise<void> {
    await this.redis.del(`category-products-rebuild:${categoryId}`);
  }
}
