import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { REDIS_PRODUCT, redisErrorKind } from '@app/redis';

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
 * version replaces a volatile key, and the same version already cached by a backfill is SET again as a
 * persistent key (backfills are not replicated, so a PERSIST would leave the replica without it).
 *
 * Under the same guard it keeps the sku index: `sku:{sku}` -> id, a volatile key (derived data, never part
 * of the persistent set). A rename or delete turns the old sku's entry into an absence (`!0`, tombstone
 * TTL) if it still names this product: answering "missing" from Redis, instead of asking a MySQL reader
 * that may not have replicated the change yet. Readers check the sku in the document anyway, so an entry
 * that is stale for any other reason costs a MySQL read, never a wrong answer.
 *
 * The ids it changed (and the skus they now carry, for cached by-sku answers) go to the invalidation stream
 * in the same script, so "Redis has the new version" and "every node will purge it" happen together or not
 * at all (a crash in between cannot lose a purge). A re-applied state (the relay replaying a row the
 * request already applied) changes nothing and publishes nothing. KEYS: the product keys, then the stream.
 * ARGV: version/doc pairs, tombstone TTL, sku index TTL, stream MAXLEN, node, source, mode.
 * Returns {applied, stream entry id or false}.
 *
 * Mode `full` is the normal write. Mode `oom` runs when Redis refused the normal one because memory is full
 * and nothing volatile is left (APPLY_UNDER_OOM): it replaces keys that exist (about the same memory) and
 * creates none, so no older version survives in Redis and the ids are still published for the edge purgers;
 * an id Redis does not hold is read from MySQL until memory is back (a backfill is refused under OOM too).
 */
const APPLY_VERSIONS = `
local n = #KEYS - 1
local full = ARGV[2 * n + 6] ~= 'oom'
local ttl = tonumber(ARGV[2 * n + 1])
local skuTtl = tonumber(ARGV[2 * n + 2]) or 0
local applied = 0
local changed = {}
local skus = {}
local function skuOf(doc)
  if not doc or doc == '' or string.byte(doc, 1) == 33 then return nil end
  return string.match(string.sub(doc, 1, 160), '"sku":"([^"]*)"')
end
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
  local id = string.sub(KEYS[i], 9)
  if v > cv and not full and not cur then
    changed[#changed + 1] = id
  elseif v > cv then
    local oldSku = skuOf(cur)
    local newSku = skuOf(doc)
    if oldSku and oldSku ~= newSku and redis.call('GET', 'sku:' .. oldSku) == id then
      redis.call('SET', 'sku:' .. oldSku, '!0', 'EX', ttl)
    end
    if newSku then
      if skuTtl > 0 and full then redis.call('SET', 'sku:' .. newSku, id, 'EX', skuTtl) end
      skus[#skus + 1] = newSku
    end
    if doc == '' then
      redis.call('SET', KEYS[i], '!' .. v, 'EX', ttl)
    else
      redis.call('SET', KEYS[i], doc)
    end
    applied = applied + 1
    changed[#changed + 1] = id
  elseif v == cv and doc ~= '' and redis.call('PTTL', KEYS[i]) >= 0 then
    -- A backfill read the new version from MySQL before anyone applied it: an edge cache may still hold
    -- the version before, so this counts as a change too. SET, not PERSIST: backfills are not replicated
    -- (BACKFILL below), so the replica and the AOF get the document from this SET.
    redis.call('SET', KEYS[i], doc)
    applied = applied + 1
    changed[#changed + 1] = id
  end
end
if #changed == 0 then return {applied, false} end
local entry = redis.call('XADD', KEYS[n + 1], 'MAXLEN', '~', ARGV[2 * n + 3], '*',
  'ids', table.concat(changed, ' '), 'skus', table.concat(skus, ' '), 'node', ARGV[2 * n + 4], 'by', ARGV[2 * n + 5])
return {applied, entry}
`;

/** The same script, allowed to run while Redis is out of memory (Redis 7 script flags); see mode `oom`. */
const APPLY_UNDER_OOM = '#!lua flags=allow-oom\n' + APPLY_VERSIONS;

/** Deletes each sku entry only if it still holds the stale id the reader saw (a write may have fixed it). */
const DROP_STALE_SKUS = `
local dropped = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[i] then dropped = dropped + redis.call('DEL', KEYS[i]) end
end
return dropped
`;

/**
 * SET NX EX for each key: a write that landed meanwhile always wins over a backfill. The entries are a cache
 * of MySQL, not data: they go neither to the AOF nor to the replica (REPL_NONE). After a restart or a
 * failover they are simply missing and the next cold read loads them again; in exchange a cold read costs
 * Redis no AOF write and the replica nothing (npm run bench, cold-100). Their expiry still sends a DEL to
 * both, a no-op there.
 */
const BACKFILL = `
redis.set_repl(redis.REPL_NONE)
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], ARGV[2 * i - 1], 'EX', ARGV[2 * i], 'NX')
end
return #KEYS
`;

/** Every write's changed product ids, in commit order; each node's purger reads it (InvalidationRepository). */
export const INVALIDATION_STREAM = 'invalidations:product';

export interface ApplyResult {
  /** Keys changed in Redis. */
  changed: number;
  /** Stream entry carrying the ids to purge, or null when nothing changed. */
  invalidation: string | null;
  /** Redis was full (OOM): existing keys were replaced, none created (reads of the others go to MySQL). */
  underOom?: boolean;
}

type RedisWithScripts = Redis & {
  backfillProducts(numKeys: number, ...args: Array<Buffer | string | number>): Promise<number>;
  applyProductVersions(numKeys: number, ...args: Array<string | number>): Promise<[number, string | null]>;
  applyProductVersionsUnderOom(
    numKeys: number,
    ...args: Array<string | number>
  ): Promise<[number, string | null]>;
  dropStaleSkus(numKeys: number, ...args: string[]): Promise<number>;
};

/** sku index entry: the product id, ABSENT for a sku found nowhere (`!0`), null when Redis has none. */
export type SkuEntry = number | typeof ABSENT | null;

@Injectable()
export class ProductCacheRepository {
  private readonly redis: RedisWithScripts;

  constructor(@Inject(REDIS_PRODUCT) redis: Redis) {
    redis.defineCommand('applyProductVersions', { lua: APPLY_VERSIONS });
    redis.defineCommand('applyProductVersionsUnderOom', { lua: APPLY_UNDER_OOM });
    redis.defineCommand('backfillProducts', { lua: BACKFILL });
    redis.defineCommand('dropStaleSkus', { lua: DROP_STALE_SKUS });
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
    // One script call instead of one SET per key: far less client work per cold read (npm run bench,
    // cold-100). An error (OOM among them) rejects the call.
    const keys: string[] = [];
    const args: Array<Buffer | string | number> = [];
    for (const [id, doc] of found) {
      keys.push('product:' + id);
      args.push(doc, ttl());
    }
    for (const id of absent) {
      keys.push('product:' + id);
      args.push('!0', negativeTtl);
    }
    await this.redis.backfillProducts(keys.length, ...keys, ...args);
  }

  /**
   * Applies committed states (newest wins), keeps the sku index (entries live skuTtl seconds; 0 leaves the
   * index alone) and publishes what changed to the invalidation stream.
   */
  async apply(
    states: readonly ProductState[],
    opts: {
      tombstoneTtl: number;
      skuTtl: number;
      streamMaxLen: number;
      node: string;
      source: 'request' | 'relay';
    },
  ): Promise<ApplyResult> {
    if (states.length === 0) return { changed: 0, invalidation: null };
    const keys = states.map((s) => 'product:' + s.id);
    const args: Array<string | number> = [];
    for (const s of states) args.push(s.version, s.doc ?? '');
    args.push(opts.tombstoneTtl, opts.skuTtl, opts.streamMaxLen, opts.node, opts.source);
    try {
      const [changed, id] = await this.redis.applyProductVersions(
        keys.length + 1,
        ...keys,
        INVALIDATION_STREAM,
        ...args,
        'full',
      );
      return { changed, invalidation: id || null };
    } catch (e) {
      if (redisErrorKind(e) !== 'oom') throw e;
    }
    const [changed, id] = await this.redis.applyProductVersionsUnderOom(
      keys.length + 1,
      ...keys,
      INVALIDATION_STREAM,
      ...args,
      'oom',
    );
    return { changed, invalidation: id || null, underOom: true };
  }

  /**
   * True once the primary's replicas have everything this connection wrote (WAIT), or when it has no replica
   * connected (then there is nothing to wait for, and a failover has nothing to promote either). The relay
   * deletes outbox rows only after this, so a Redis failover can never lose an applied write: the rows of
   * writes the new primary may lack are still in the outbox and get applied to it.
   */
  async replicated(timeoutMs: number): Promise<boolean> {
    const acked = await this.redis.wait(1, timeoutMs);
    if (acked >= 1) return true;
    const info = await this.redis.info('replication');
    return /^connected_slaves:0\r?$/m.test(info);
  }

  static skuKey(sku: string): string {
    return 'sku:' + sku;
  }

  /** One MGET of the sku index. */
  async mgetSkus(skus: readonly string[]): Promise<SkuEntry[]> {
    const values = await this.redis.mget(skus.map((s) => 'sku:' + s));
    return values.map((v) => (v === null ? null : v.startsWith('!') ? ABSENT : Number(v)));
  }

  async dropStaleSkus(stale: ReadonlyArray<readonly [sku: string, id: number]>): Promise<void> {
    if (stale.length === 0) return;
    await this.redis.dropStaleSkus(
      stale.length,
      ...stale.map(([sku]) => 'sku:' + sku),
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
      p.set('product:' + id, doc, 'EX', seconds, 'NX');
      p.set('sku:' + sku, String(id), 'EX', seconds, 'NX');
    }
    for (const sku of absent) p.set('sku:' + sku, '!0', 'EX', negativeTtl, 'NX');
    const failed = (await p.exec())?.find(([err]) => err);
    if (failed) throw failed[0] as Error;
  }

  async ttl(id: number): Promise<number> {
    return this.redis.ttl('product:' + id);
  }
}
