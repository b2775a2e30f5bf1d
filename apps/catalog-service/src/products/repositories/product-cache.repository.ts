import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { REDIS_PRODUCT } from '@app/redis';
import { recordKey } from '@catalog/record-types/record-type';
import { ABSENT, RecordCacheRepository } from '@catalog/record-types/repositories/record-cache.repository';
import { PRODUCT } from '../product.record-type';

/** Deletes each sku entry only if it still holds the stale id the reader saw (a write may have fixed it). */
const DROP_STALE_SKUS = `
local dropped = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[i] then dropped = dropped + redis.call('DEL', KEYS[i]) end
end
return dropped
`;

/** sku index entry: the product id, ABSENT for a sku found nowhere (`!0`), null when Redis has none. */
export type SkuEntry = number | typeof ABSENT | null;

type DropStaleSkus = { dropStaleSkus(numKeys: number, ...args: string[]): Promise<number> };

const skuKey = (sku: string) => PRODUCT.uniqueIndex!.keyPrefix + sku;

/**
 * Products in Redis: the record-type machinery (one MGET, backfill, guarded apply that also keeps the sku
 * index) plus the reads by sku (`sku:{sku}` -> id, a volatile key).
 */
@Injectable()
export class ProductCacheRepository extends RecordCacheRepository {
  constructor(@Inject(REDIS_PRODUCT) redis: Redis) {
    super(PRODUCT, redis);
    redis.defineCommand('dropStaleSkus', { lua: DROP_STALE_SKUS });
  }

  /** One MGET of the sku index. */
  async mgetSkus(skus: readonly string[]): Promise<SkuEntry[]> {
    const values = await this.redis.mget(skus.map(skuKey));
    return values.map((v) => (v === null ? null : v.startsWith('!') ? ABSENT : Number(v)));
  }

  async dropStaleSkus(stale: ReadonlyArray<readonly [sku: string, id: number]>): Promise<void> {
    if (stale.length === 0) return;
    await (this.redis as unknown as DropStaleSkus).dropStaleSkus(
      stale.length,
      ...stale.map(([sku]) => skuKey(sku)),
      ...stale.map(([, id]) => String(id)),
    );
  }

  /**
   * Products read by sku go back like any cold read (volatile, NX), with their sku entries; skus found
   * nowhere get a short negative entry. NX everywhere: a write that landed meanwhile wins.
   */
  async backfillSkus(
    found: ReadonlyMap<string, { id: number; doc: Buffer }>,
    absent: readonly string[],
    ttl: () => number,
    negativeTtl: number,
  ): Promise<void> {
    if (found.size === 0 && absent.length === 0) return;
    const p = this.redis.pipeline();
    for (const [sku, { id, doc }] of found) {
      const seconds = ttl();
      p.set(recordKey(PRODUCT, id), doc, 'EX', seconds, 'NX');
      p.set(skuKey(sku), String(id), 'EX', seconds, 'NX');
    }
    for (const sku of absent) p.set(skuKey(sku), '!0', 'EX', negativeTtl, 'NX');
    const failed = (await p.exec())?.find(([err]) => err);
    if (failed) throw failed[0] as Error;
  }
}
