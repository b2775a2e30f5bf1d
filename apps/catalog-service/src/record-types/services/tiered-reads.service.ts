import { Inject, Injectable } from '@nestjs/common';
import { hash } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ServiceUnavailableError } from '@app/errors';
import { AppLogger } from '@app/logger';
import { Metrics } from '@app/metrics';
import { redisErrorKind } from '@app/redis';
import { isBreakerRefusal, StoreBreakers } from '@catalog/health/services/store-breaker';
import { versionOf } from '../record-document';
import { ABSENT, CacheEntry, RecordCacheRepository } from '../repositories/record-cache.repository';
import { RecordReader } from '../repositories/record-reader';
import { MissCoalescer } from './miss-coalescer';

export type Tier = 'redis' | 'mysql';

export interface ListResult {
  body: Buffer;
  etag: string;
  tier: Tier;
}

export interface OneResult {
  doc: Buffer | null;
  /** The document's version (0 when absent). */
  version: number;
  tier: Tier;
}

const OPEN = Buffer.from('{"data":[');
const COMMA = Buffer.from(',');

/**
 * The tiered read of one record type. Tier 1 is one MGET; whatever Redis does not know is loaded from MySQL
 * through the coalescer (one `WHERE id IN (...)` for misses that arrive together) and backfilled. Responses
 * are assembled from the stored bytes: documents are never parsed here. Each store is called through its
 * breaker: a slow or failed Redis costs a read at most REDIS_READ_TIMEOUT_MS before it goes to MySQL
 * (nothing while the breaker is open), and a MySQL that cannot answer in time, or has
 * MYSQL_READ_MAX_CONCURRENT queries in flight, is a 503 with Retry-After.
 */
export class TieredReader {
  private readonly coalescer: MissCoalescer<Buffer>;
  private readonly reads;

  constructor(
    private readonly cache: RecordCacheRepository,
    private readonly store: RecordReader,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly logger: AppLogger,
    private readonly breakers: StoreBreakers,
  ) {
    this.coalescer = new MissCoalescer((ids) => this.loadCold(ids), config.COALESCE_MAX_IDS);
    const r = metrics.reads;
    const type = cache.type.name;
    this.reads = {
      redis: r.labels(type, 'redis'),
      negative: r.labels(type, 'negative'),
      mysql: r.labels(type, 'mysql'),
      missing: r.labels(type, 'missing'),
    };
  }

  /** `{"data":[...],"missing":[...]}` in request order, with an ETag over every (id, version). */
  async getMany(ids: readonly number[]): Promise<ListResult> {
    const entries = await this.mget(ids);
    const missIds: number[] = [];
    for (let i = 0; i < entries.length; i++) if (entries[i] === null) missIds.push(ids[i]);
    const cold = missIds.length > 0 ? await this.coalescer.load(missIds) : [];

    const parts: Buffer[] = [OPEN];
    const missing: number[] = [];
    let tag = '';
    let hits = 0;
    let negatives = 0;
    let coldIndex = 0;
    for (let i = 0; i < entries.length; i++) {
      let entry = entries[i];
      if (entry === null) entry = cold[coldIndex++] ?? ABSENT;
      else if (entry === ABSENT) negatives++;
      else hits++;
      if (entry === ABSENT) {
        missing.push(ids[i]);
        tag += ids[i] + ':-,';
      } else {
        if (parts.length > 1) parts.push(COMMA);
        parts.push(entry);
        tag += ids[i] + ':' + versionOf(entry) + ',';
      }
    }
    parts.push(Buffer.from('],"missing":[' + missing.join(',') + ']}'));

    this.count(hits, negatives, missIds.length, missing.length - negatives);
    return {
      body: Buffer.concat(parts),
      etag: '"b' + hash('sha1', tag, 'base64url') + '"',
      tier: missIds.length > 0 ? 'mysql' : 'redis',
    };
  }

  async getOne(id: number): Promise<OneResult> {
    const [entry] = await this.mget([id]);
    let doc: Buffer | null;
    if (entry === null) {
      [doc] = await this.coalescer.load([id]);
      this.count(0, 0, 1, doc === null ? 1 : 0);
    } else {
      doc = entry === ABSENT ? null : entry;
      this.count(doc ? 1 : 0, doc ? 0 : 1, 0, 0);
    }
    return { doc, version: doc ? versionOf(doc) : 0, tier: entry === null ? 'mysql' : 'redis' };
  }

  /**
   * The documents of ids from entries another call fetched (a composed read's shared MGET): misses are
   * loaded and backfilled like any read of this type. null: the id has no such record.
   */
  async resolve(
    ids: readonly number[],
    entries: readonly CacheEntry[],
  ): Promise<{ docs: Array<Buffer | null>; cold: boolean }> {
    const missIds: number[] = [];
    for (let i = 0; i < entries.length; i++) if (entries[i] === null) missIds.push(ids[i]);
    const cold = missIds.length > 0 ? await this.coalescer.load(missIds) : [];
    const docs = new Array<Buffer | null>(ids.length);
    let hits = 0;
    let negatives = 0;
    let k = 0;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (e === null) {
        docs[i] = cold[k++] ?? null;
      } else if (e === ABSENT) {
        docs[i] = null;
        negatives++;
      } else {
        docs[i] = e;
        hits++;
      }
    }
    this.count(hits, negatives, missIds.length, missIds.length - cold.filter(Boolean).length);
    return { docs, cold: missIds.length > 0 };
  }

  /** One MGET of keys of several types on this type's connection, through the Redis breaker. */
  async mgetKeys(keys: readonly string[]): Promise<CacheEntry[]> {
    try {
      return await this.breakers.redis.fire(() => this.cache.mgetKeys(keys));
    } catch (e) {
      this.redisReadFailed('mget', e, keys.length);
      return new Array<CacheEntry>(keys.length).fill(null);
    }
  }

  get cacheRepository(): RecordCacheRepository {
    return this.cache;
  }

  /** Without Redis the cold tier answers everything: slower, but reads keep working. */
  async mget(ids: readonly number[]): Promise<CacheEntry[]> {
    try {
      return await this.breakers.redis.fire(() => this.cache.mget(ids));
    } catch (e) {
      this.redisReadFailed('mget', e, ids.length);
      return new Array<CacheEntry>(ids.length).fill(null);
    }
  }

  /** An open breaker is counted by the breaker's metric, not logged per read: that would flood the log. */
  redisReadFailed(what: string, e: unknown, keys: number): void {
    if (isBreakerRefusal(e)) return;
    const kind = redisErrorKind(e);
    this.metrics.redisErrors.inc({ op: 'read', kind });
    this.logger
      .channel('redis')
      .warn(`${what} failed, reading from mysql: ${(e as Error).message}`, { keys, kind });
  }

  count(hits: number, negatives: number, cold: number, missing: number): void {
    if (hits) this.reads.redis.inc(hits);
    if (negatives) this.reads.negative.inc(negatives);
    if (cold) this.reads.mysql.inc(cold - missing);
    if (missing) this.reads.missing.inc(missing);
  }

  private async loadCold(ids: number[]): Promise<Map<number, Buffer>> {
    const found = await this.coldRead(() => this.store.findDocs(this.cache.type, ids));
    const absent = ids.filter((id) => !found.has(id));
    await this.backfillSafely('backfill', { ids: ids.length }, () =>
      this.cache.backfill(found, absent, this.jitteredTtl, this.cache.type.ttl.negative(this.config)),
    );
    return found;
  }

  /** A read the cold tier cannot answer now is a 503 the client may retry, never a wait in a queue. */
  async coldRead<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await this.breakers.mysql.fire(query);
    } catch (e) {
      throw new ServiceUnavailableError(
        `mysql read failed: ${(e as Error).message}`,
        {},
        this.config.RETRY_AFTER_SECONDS,
      );
    }
  }

  readonly jitteredTtl = (): number => {
    const ttl = this.cache.type.ttl.cache(this.config);
    const jitter = this.config.CACHE_TTL_JITTER;
    return Math.max(1, Math.round(ttl * (1 - jitter + Math.random() * 2 * jitter)));
  };

  /** The read still succeeds from MySQL when the backfill fails; the next read retries it. */
  async backfillSafely(what: string, meta: Record<string, number>, backfill: () => Promise<void>) {
    // A Redis known to be failing is not sent optional work (nor waited for).
    if (!this.breakers.redis.closed) return;
    try {
      await this.breakers.redis.fire(backfill);
    } catch (e) {
      if (isBreakerRefusal(e)) return;
      const kind = redisErrorKind(e);
      this.metrics.redisErrors.inc({ op: 'backfill', kind });
      this.logger.channel('redis').warn(`${what} failed: ${(e as Error).message}`, { ...meta, kind });
    }
  }
}

/** Builds the tiered reader of a record type from its cache repository. */
@Injectable()
export class TieredReads {
  constructor(
    private readonly store: RecordReader,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly logger: AppLogger,
    private readonly breakers: StoreBreakers,
  ) {}

  for(cache: RecordCacheRepository): TieredReader {
    return new TieredReader(cache, this.store, this.config, this.metrics, this.logger, this.breakers);
  }
}
