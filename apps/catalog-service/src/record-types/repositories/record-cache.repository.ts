import Redis from 'ioredis';
import { redisErrorKind } from '@app/redis';
import { INVALIDATION_STREAM } from '@catalog/invalidation/invalidation-stream';
import { RecordType, recordKey } from '../record-type';
import { applyScript, BACKFILL, underOom } from './record-scripts';

/** A cached absence: an id that exists nowhere (version 0) or a deleted record (its tombstone version). */
export const ABSENT = Symbol('absent');
export type CacheEntry = Buffer | typeof ABSENT | null;

/** A committed state of one record, as MySQL holds it. */
export interface RecordState {
  id: number;
  version: number;
  /** null: deleted; the key becomes a tombstone. */
  doc: string | null;
}

export interface ApplyResult {
  /** Keys changed in Redis. */
  changed: number;
  /** Stream entry carrying the tags to purge, or null when nothing changed. */
  invalidation: string | null;
  /** Redis was full (OOM): existing keys were replaced, none created (reads of the others go to MySQL). */
  underOom?: boolean;
}

export interface ApplyOptions {
  tombstoneTtl: number;
  /** Lifetime of the unique index entries; 0 leaves the index alone. */
  indexTtl: number;
  streamMaxLen: number;
  node: string;
  source: 'request' | 'relay';
}

type Args = Array<Buffer | string | number>;
type Apply = (numKeys: number, ...args: Args) => Promise<[number, string | null]>;
type RedisWithScripts = Redis & {
  backfillRecords(numKeys: number, ...args: Args): Promise<number>;
} & Record<string, Apply>;

/**
 * Keys derived from a type's records inside its apply script (record-scripts.ts, `applyScript`): `lua`
 * defines `derive(ids, full, at)`, `args` are its arguments, `name` tells the script apart on a
 * connection other types share.
 */
export interface DerivedKeys {
  name: string;
  lua: string;
  args: Args;
}

const BANG = 0x21;

/**
 * Tier 1 of one record type: one MGET for a bulk read, backfills of cold reads, and the guarded apply of
 * committed versions (with the invalidation entry). Written once; the record type supplies the prefixes.
 */
export class RecordCacheRepository {
  protected readonly redis: RedisWithScripts;
  private readonly applyCommand: string;

  constructor(
    readonly type: RecordType,
    redis: Redis,
    private readonly derived?: DerivedKeys,
  ) {
    this.applyCommand = 'applyRecordVersions' + (derived?.name ?? '');
    const lua = applyScript(derived?.lua);
    redis.defineCommand(this.applyCommand, { lua });
    redis.defineCommand(this.applyCommand + 'UnderOom', { lua: underOom(lua) });
    redis.defineCommand('backfillRecords', { lua: BACKFILL });
    this.redis = redis as RedisWithScripts;
  }

  /** One MGET for all ids, as raw bytes. */
  mget(ids: readonly number[]): Promise<CacheEntry[]> {
    const prefix = this.type.keyPrefix;
    const keys = new Array<string>(ids.length);
    for (let i = 0; i < ids.length; i++) keys[i] = prefix + ids[i];
    return this.mgetKeys(keys);
  }

  /** One MGET of keys of any record types that live on this connection (a composed read). */
  async mgetKeys(keys: readonly string[]): Promise<CacheEntry[]> {
    const values = await this.redis.mgetBuffer([...keys]);
    const out = new Array<CacheEntry>(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      out[i] = v === null ? null : v[0] === BANG ? ABSENT : v;
    }
    return out;
  }

  /** The Redis connection this type lives on: types that share one can share an MGET. */
  get connection(): Redis {
    return this.redis;
  }

  /**
   * Cold reads go back as volatile keys (jittered TTL) and absences as short negative entries, in one
   * script call instead of one SET per key: far less client work per cold read (npm run bench, cold-100).
   * NX: a write that landed meanwhile always wins. An error (OOM among them) rejects the call.
   */
  async backfill(
    found: ReadonlyMap<number, Buffer>,
    absent: readonly number[],
    ttl: () => number,
    negativeTtl: number,
  ): Promise<void> {
    if (found.size === 0 && absent.length === 0) return;
    const keys: string[] = [];
    const args: Args = [];
    for (const [id, doc] of found) {
      keys.push(recordKey(this.type, id));
      args.push(doc, ttl());
    }
    for (const id of absent) {
      keys.push(recordKey(this.type, id));
      args.push('!0', negativeTtl);
    }
    await this.redis.backfillRecords(keys.length, ...keys, ...args);
  }

  /** Applies committed states (newest wins), keeps the unique index, publishes what changed. */
  async apply(states: readonly RecordState[], opts: ApplyOptions): Promise<ApplyResult> {
    if (states.length === 0) return { changed: 0, invalidation: null };
    const t = this.type;
    const keys = states.map((s) => recordKey(t, s.id));
    const args: Args = [];
    for (const s of states) args.push(s.version, s.doc ?? '');
    args.push(opts.tombstoneTtl, opts.indexTtl, opts.streamMaxLen, opts.node, opts.source);
    const tail = [
      t.keyPrefix,
      t.tagPrefix,
      t.uniqueIndex?.field ?? '',
      t.uniqueIndex?.keyPrefix ?? '',
      t.uniqueIndex?.tagPrefix ?? '',
      t.name,
      ...(this.derived?.args ?? []),
    ];
    try {
      const [changed, id] = await this.redis[this.applyCommand](
        keys.length + 1,
        ...keys,
        INVALIDATION_STREAM,
        ...args,
        'full',
        ...tail,
      );
      return { changed, invalidation: id || null };
    } catch (e) {
      if (redisErrorKind(e) !== 'oom') throw e;
    }
    const [changed, id] = await this.redis[this.applyCommand + 'UnderOom'](
      keys.length + 1,
      ...keys,
      INVALIDATION_STREAM,
      ...args,
      'oom',
      ...tail,
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

  async ttl(id: number): Promise<number> {
    return this.redis.ttl(recordKey(this.type, id));
  }
}
