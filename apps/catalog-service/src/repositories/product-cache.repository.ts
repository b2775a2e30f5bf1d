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
 *
 * The ids it changed go to the invalidation stream in the same script, so "Redis has the new version" and
 * "every node will purge it" happen together or not at all (a crash in between cannot lose a purge). A
 * re-applied state (the relay replaying a row the request already applied) changes nothing and publishes
 * nothing. KEYS: the product keys, then the stream. ARGV: version/doc pairs, tombstone TTL, stream MAXLEN,
 * node, source. Returns {applied, stream entry id or false}.
 */
const APPLY_VERSIONS = `
local n = #KEYS - 1
local ttl = tonumber(ARGV[2 * n + 1])
local applied = 0
local changed = {}
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
    changed[#changed + 1] = string.sub(KEYS[i], 9)
  elseif v == cv and doc ~= '' then
    -- A backfill read the new version from MySQL before anyone applied it: an edge cache may still hold
    -- the version before, so this counts as a change too.
    local p = redis.call('PERSIST', KEYS[i])
    applied = applied + p
    if p == 1 then changed[#changed + 1] = string.sub(KEYS[i], 9) end
  end
end
if #changed == 0 then return {applied, false} end
local id = redis.call('XADD', KEYS[n + 1], 'MAXLEN', '~', ARGV[2 * n + 2], '*',
  'ids', table.concat(changed, ' '), 'node', ARGV[2 * n + 3], 'by', ARGV[2 * n + 4])
return {applied, id}
`;

/** Every write's changed product ids, in commit order; each node's purger reads it (InvalidationRepository). */
export const INVALIDATION_STREAM = 'invalidations:product';

export interface ApplyResult {
  /** Keys changed in Redis. */
  changed: number;
  /** Stream entry carrying the ids to purge, or null when nothing changed. */
  invalidation: string | null;
}

type RedisWithScripts = Redis & {
  applyProductVersions(numKeys: number, ...args: Array<string | number>): Promise<[number, string | null]>;
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
    await p.exec();
  }

  /** Applies committed states (newest wins) and publishes the ids that changed to the invalidation stream. */
  async apply(
    states: readonly ProductState[],
    opts: { tombstoneTtl: number; streamMaxLen: number; node: string; source: 'request' | 'relay' },
  ): Promise<ApplyResult> {
    if (states.length === 0) return { changed: 0, invalidation: null };
    const keys = states.map((s) => 'product:' + s.id);
    const args: Array<string | number> = [];
    for (const s of states) args.push(s.version, s.doc ?? '');
    args.push(opts.tombstoneTtl, opts.streamMaxLen, opts.node, opts.source);
    const [changed, id] = await this.redis.applyProductVersions(
      keys.length + 1,
      ...keys,
      INVALIDATION_STREAM,
      ...args,
    );
    return { changed, invalidation: id || null };
  }

  async ttl(id: number): Promise<number> {
    return this.redis.ttl('product:' + id);
  }
}
