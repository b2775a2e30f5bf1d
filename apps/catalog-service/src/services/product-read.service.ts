import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppLogger } from '@app/logger';
import { Metrics } from '@app/metrics';
import { redisErrorKind } from '@app/redis';
import { versionOf } from '@catalog/dtos/product-document';
import { ABSENT, CacheEntry, ProductCacheRepository } from '@catalog/repositories/product-cache.repository';
import { ProductRepository } from '@catalog/repositories/product.repository';
import { MissCoalescer } from './miss-coalescer';

export type Tier = 'redis' | 'mysql';

export interface ListResult {
  body: Buffer;
  etag: string;
  tier: Tier;
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
 */
@Injectable()
export class ProductReadService {
  private readonly coalescer: MissCoalescer<Buffer>;
  private readonly reads;

  constructor(
    private readonly cache: ProductCacheRepository,
    private readonly products: ProductRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly logger: AppLogger,
  ) {
    this.coalescer = new MissCoalescer((ids) => this.loadCold(ids), config.COALESCE_MAX_IDS);
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
      etag: '"b' + createHash('sha1').update(tag).digest('base64url') + '"',
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
    return {
      doc,
      etag: doc ? productEtag(id, versionOf(doc)) : '',
      tier: entry === null ? 'mysql' : 'redis',
    };
  }

  /** Without Redis the cold tier answers everything: slower, but reads keep working. */
  private async mget(ids: readonly number[]): Promise<CacheEntry[]> {
    try {
      return await this.cache.mget(ids);
    } catch (e) {
      const kind = redisErrorKind(e);
      this.metrics.redisErrors.inc({ op: 'read', kind });
      this.logger
        .channel('redis')
        .warn(`mget failed, reading from mysql: ${(e as Error).message}`, { ids: ids.length, kind });
      return new Array<CacheEntry>(ids.length).fill(null);
    }
  }

  private count(hits: number, negatives: number, cold: number, missing: number): void {
    if (hits) this.reads.redis.inc(hits);
    if (negatives) this.reads.negative.inc(negatives);
    if (cold) this.reads.mysql.inc(cold - missing);
    if (missing) this.reads.missing.inc(missing);
  }

  private async loadCold(ids: number[]): Promise<Map<number, Buffer>> {
    const found = await this.products.findDocs(ids);
    const absent = ids.filter((id) => !found.has(id));
    const { CACHE_TTL_SECONDS: ttl, CACHE_TTL_JITTER: jitter } = this.config;
    try {
      await this.cache.backfill(
        found,
        absent,
        () => Math.max(1, Math.round(ttl * (1 - jitter + Math.random() * 2 * jitter))),
        this.config.NEGATIVE_TTL_SECONDS,
      );
    } catch (e) {
      // The read still succeeds from MySQL; the next read retries the backfill.
      const kind = redisErrorKind(e);
      this.metrics.redisErrors.inc({ op: 'backfill', kind });
      this.logger
        .channel('redis')
        .warn(`backfill failed: ${(e as Error).message}`, { ids: ids.length, kind });
    }
    return found;
  }
}

export function productEtag(id: number, version: number): string {
  return `"p${id}-v${version}"`;
}
