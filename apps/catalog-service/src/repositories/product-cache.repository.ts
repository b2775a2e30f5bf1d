import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { REDIS_PRODUCT } from '@app/redis';

/** A cached absence: an id that exists nowhere (version 0) or a deleted product (its tombstone version). */
export const ABSENT = Symbol('absent');
export type CacheEntry = Buffer | typeof ABSENT | null;

export interface ProductState {
  id: number;
  version: number;
  /** null: deleted; the key becomes a tombstone. */
  doc: string | null;
}

const BANG = 0x21;

/**
 * Applies committed states only when they are newer than what Redis holds, so a slow writer or a replayed
 * outbox row can never put an older version back. Written documents are persistent keys (no TTL): a newer
 * version replaces a volatile key, and the same version already cached by a backfill is PERSISTed.
 */
const APPLY_VERSIONS = `
local n = #KEYS
local ttl = tonumber(ARGV[2 * n + 1])
local applied = 0
for i = 1, n do
  local v = tonumber(ARGV[2 * i - 1])
  local doc = ARGV[2 * i]
  local cur = redis.call('GET', KEYS[i])
  local cv = -1
  if cur then
    if string.byte(cur, 1) == 33 then
      cv = tonumber(string.sub(cur, 2)) or -1
    else
      cv = tonumber(string.match(string.sub(cur, 1, 64), '"version":(%d+)')) or -1
    end
  end
  if v > cv then
    if doc == '' then
      redis.call('SET', KEYS[i], '!' .. v, 'EX', ttl)
    else
      redis.call('SET', KEYS[i], doc)
    end
    applied = applied + 1
  elseif v == cv and doc ~= '' then
    applied = applied + redis.call('PERSIST', KEYS[i])
  end
end
return applied
`;

type RedisWithScripts = Redis & {
  applyProductVersions(numKeys: number, ...args: Array<string | number>): Promise<number>;
};

@Injectable()
export class ProductCacheRepository {
  private readonly redis: RedisWithScripts;

  constructor(@Inject(REDIS_PRODUCT) redis: Redis) {
    redis.defineCommand('applyProductVersions', { lua: APPLY_VERSIONS });
    this.redis = redis as RedisWithScripts;
  }

  static key(id: number): string {
    return 'product:' + id;
  }

  /** One MGET for all ids, as raw bytes. */
  async mget(ids: readonly number[]): Promise<CacheEntry[]> {
    const keys = new Array<string>(ids.length);
    for (let i = 0; i < ids.length; i++) keys[i] = 'product:' + ids[i];
    const values = await this.redis.mgetBuffer(keys);
    const out = new Array<CacheEntry>(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      out[i] = v === null ? null : v[0] === BANG ? ABSENT : v;
    }
    return out;
  }

  /**
   * Cold reads go back as volatile keys (jittered TTL) and absences as short negative entries, in one
   * pipeline. NX: a write that landed meanwhile always wins over a backfill.
   */
  async backfill(
    found: ReadonlyMap<number, Buffer>,
    absent: readonly number[],
    ttl: () => number,
    negativeTtl: number,
  ) {
    if (found.size === 0 && absent.length === 0) return;
    const p = this.redis.pipeline();
    for (const [id, doc] of found) p.set('product:' + id, doc, 'EX', ttl(), 'NX');
    for (const id of absent) p.set('product:' + id, '!0', 'EX', negativeTtl, 'NX');
    // A pipeline reports errors per command (OOM among them) instead of rejecting: surface the first.
    const failed = (await p.exec())?.find(([err]) => err);
    if (failed) throw failed[0] as Error;
  }

  /** Applies committed states (newest wins); returns how many keys changed. */
  async applyVersions(states: readonly ProductState[], tombstoneTtl: number): Promise<number> {
    if (states.length === 0) return 0;
    const keys = states.map((s) => 'product:' + s.id);
    const args: Array<string | number> = [];
    for (const s of states) args.push(s.version, s.doc ?? '');
    args.push(tombstoneTtl);
    return this.redis.applyProductVersions(keys.length, ...keys, ...args);
  }

  async ttl(id: number): Promise<number> {
    return this.redis.ttl('product:' + id);
  }
}
