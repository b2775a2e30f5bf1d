import { Inject, Injectable } from '@nestjs/common';
import { hash } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ServiceUnavailableError } from '@app/errors';
import { AppLogger } from '@app/logger';
import { Metrics } from '@app/metrics';
import { redisErrorKind } from '@app/redis';
import { hasSku, versionOf } from '@catalog/products/dtos/product-document';
import {
  ABSENT,
  CacheEntry,
  ProductCacheRepository,
  SkuEntry,
} from '@catalog/products/repositories/product-cache.repository';
import { ProductRepository } from '@catalog/products/repositories/product.repository';
import { MissCoalescer } from '@catalog/record-types/services/miss-coalescer';
import { isBreakerRefusal, StoreBreakers } from '@catalog/health/services/store-breaker';

export type Tier = 'redis' | 'mysql';

export interface ListResult {
  body: Buffer;
  etag: string;
  tier: Tier;
}

export interface SkuListResult extends ListResult {
  /** Ids of the products found, per requested sku (null: missing), for the cache tags. */
  ids: Array<number | null>;
}

export interface OneResult {
  doc: Buffer | null;
  etag: string;
  tier: Tier;
}

const OPEN = Buffer.from('{"data":[');
const COMMA = Buffer.from(',');

/**
 * Tier 1 is one MGET; whatever Redis does not know is loaded from MySQL through the coalescer and
 * backfilled. The response is assembled from the stored bytes: documents are never parsed here.
 * Each store is called through its breaker: a slow or failed Redis costs a read at most
 * REDIS_READ_TIMEOUT_MS before it goes to MySQL (nothing while the breaker is open), and a MySQL that
 * cannot answer in time, or has MYSQL_READ_MAX_CONCURRENT queries in flight, is a 503 with Retry-After.
 */
@Injectable()
export class ProductReadService {
  private readonly coalescer: MissCoalescer<Buffer>;
  private readonly skuCoalescer: MissCoalescer<{ id: number; doc: Buffer }, string>;
  private readonly reads;

  constructor(
    private readonly cache: ProductCacheRepository,
    private readonly products: ProductRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly logger: AppLogger,
    private readonly breakers: StoreBreakers,
  ) {
    this.coalescer = new MissCoalescer((ids) => this.loadCold(ids), config.COALESCE_MAX_IDS);
    this.skuCoalescer = new MissCoalescer((skus) => this.loadColdSkus(skus), config.COALESCE_MAX_IDS);
    const r = metrics.reads;
    this.reads = {
      redis: r.labels('product', 'redis'),
      negative: r.labels('product', 'negative'),
      mysql: r.labels('product', 'mysql'),
      missing: r.labels('product', 'missing'),
    };
  }

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

  /**
   * By sku: one MGET of the sku index (`sku:{sku}` -> id), one MGET of the products it names, and a
   * product counts only if its document still carries that sku (a rename can leave an index entry
   * behind). Everything else is one coalesced `WHERE sku IN (...)` on the reader, backfilled.
   */
  async getManyBySku(skus: readonly string[]): Promise<SkuListResult> {
    const index = await this.mgetSkus(skus);
    const known: number[] = [];
    for (const e of index) if (typeof e === 'number') known.push(e);
    const docs = known.length > 0 ? await this.mget(known) : [];

    const found = new Array<Buffer | null>(skus.length).fill(null);
    const ids = new Array<number | null>(skus.length).fill(null);
    const misses: string[] = [];
    const stale: Array<[string, number]> = [];
    let hits = 0;
    let negatives = 0;
    let k = 0;
    for (let i = 0; i < skus.length; i++) {
      const e = index[i];
      if (e === ABSENT) {
        negatives++;
        continue;
      }
      if (typeof e === 'number') {
        const doc = docs[k++];
        if (doc instanceof Buffer && hasSku(doc, skus[i])) {
          found[i] = doc;
          ids[i] = e;
          hits++;
          continue;
        }
        // Evicted or deleted product, or a renamed one: the entry is dropped only if it is still stale.
        if (doc !== null) stale.push([skus[i], e]);
      }
      misses.push(skus[i]);
    }
    if (stale.length > 0) await this.dropStaleSkus(stale);
    const cold = misses.length > 0 ? await this.skuCoalescer.load(misses) : [];
    const coldBySku = new Map(misses.map((sku, j) => [sku, cold[j]]));
    for (let i = 0; i < skus.length; i++) {
      const hit = coldBySku.get(skus[i]);
      if (hit) {
        found[i] = hit.doc;
        ids[i] = hit.id;
      }
    }

    const parts: Buffer[] = [OPEN];
    const missing: string[] = [];
    let tag = '';
    for (let i = 0; i < skus.length; i++) {
      const doc = found[i];
      if (doc === null) {
        missing.push(skus[i]);
        tag += skus[i] + ':-,';
      } else {
        if (parts.length > 1) parts.push(COMMA);
        parts.push(doc);
        tag += skus[i] + ':' + ids[i] + ':' + versionOf(doc) + ',';
      }
    }
    parts.push(Buffer.from('],"missing":' + JSON.stringify(missing) + '}'));

    const coldMissing = missing.length - negatives;
    this.count(hits, negatives, misses.length, coldMissing);
    return {
      body: Buffer.concat(parts),
      etag: '"s' + hash('sha1', tag, 'base64url') + '"',
      tier: misses.length > 0 ? 'mysql' : 'redis',
      ids,
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
    return {
      doc,
      etag: doc ? productEtag(id, versionOf(doc)) : '',
      tier: entry === null ? 'mysql' : 'redis',
    };
  }

  /** Without Redis the cold tier answers everything: slower, but reads keep working. */
  private async mget(ids: readonly number[]): Promise<CacheEntry[]> {
    try {
      return await this.breakers.redis.fire(() => this.cache.mget(ids));
    } catch (e) {
      this.redisReadFailed('mget', e, ids.length);
      return new Array<CacheEntry>(ids.length).fill(null);
    }
  }

  private async mgetSkus(skus: readonly string[]): Promise<SkuEntry[]> {
    try {
      return await this.breakers.redis.fire(() => this.cache.mgetSkus(skus));
    } catch (e) {
      this.redisReadFailed('sku mget', e, skus.length);
      return new Array<SkuEntry>(skus.length).fill(null);
    }
  }

  /** An open breaker is counted by the breaker's metric, not logged per read: that would flood the log. */
  private redisReadFailed(what: string, e: unknown, keys: number): void {
    if (isBreakerRefusal(e)) return;
    const kind = redisErrorKind(e);
    this.metrics.redisErrors.inc({ op: 'read', kind });
    this.logger
      .channel('redis')
      .warn(`${what} failed, reading from mysql: ${(e as Error).message}`, { keys, kind });
  }

  private async dropStaleSkus(stale: ReadonlyArray<[string, number]>): Promise<void> {
    if (!this.breakers.redis.closed) return;
    try {
      await this.breakers.redis.fire(() => this.cache.dropStaleSkus(stale));
    } catch (e) {
      // The backfill below cannot replace the stale entry then; the next read finds it stale again.
      this.logger.channel('redis').warn(`dropping stale sku entries failed: ${(e as Error).message}`);
    }
  }

  private count(hits: number, negatives: number, cold: number, missing: number): void {
    if (hits) this.reads.redis.inc(hits);
    if (negatives) this.reads.negative.inc(negatives);
    if (cold) this.reads.mysql.inc(cold - missing);
    if (missing) this.reads.missing.inc(missing);
  }

  private async loadColdSkus(skus: string[]): Promise<Map<string, { id: number; doc: Buffer }>> {
    const found = await this.coldRead(() => this.products.findDocsBySku(skus));
    const absent = skus.filter((s) => !found.has(s));
    await this.backfillSafely('sku backfill', { skus: skus.length }, () =>
      this.cache.backfillSkus(found, absent, this.jitteredTtl, this.config.NEGATIVE_TTL_SECONDS),
    );
    return found;
  }

  private async loadCold(ids: number[]): Promise<Map<number, Buffer>> {
    const found = await this.coldRead(() => this.products.findDocs(ids));
    const absent = ids.filter((id) => !found.has(id));
    await this.backfillSafely('backfill', { ids: ids.length }, () =>
      this.cache.backfill(found, absent, this.jitteredTtl, this.config.NEGATIVE_TTL_SECONDS),
    );
    return found;
  }

  /** A read the cold tier cannot answer now is a 503 the client may retry, never a wait in a queue. */
  private async coldRead<T>(query: () => Promise<T>): Promise<T> {
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

  private readonly jitteredTtl = (): number => {
    const { CACHE_TTL_SECONDS: ttl, CACHE_TTL_JITTER: jitter } = this.config;
    return Math.max(1, Math.round(ttl * (1 - jitter + Math.random() * 2 * jitter)));
  };

  /** The read still succeeds from MySQL when the backfill fails; the next read retries it. */
  private async backfillSafely(what: string, meta: Record<string, number>, backfill: () => Promise<void>) {
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

export function productEtag(id: number, version: number): string {
  return `"p${id}-v${version}"`;
}
