import { Injectable } from '@nestjs/common';
import { hash } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '@app/config';
import { Inject } from '@nestjs/common';
import { ABSENT } from '@catalog/record-types/repositories/record-cache.repository';
import { versionOf } from '@catalog/record-types/record-document';
import { MissCoalescer } from '@catalog/record-types/services/miss-coalescer';
import {
  ListResult,
  OneResult,
  TieredReader,
  TieredReads,
} from '@catalog/record-types/services/tiered-reads.service';
import { StoreBreakers } from '@catalog/health/services/store-breaker';
import { hasSku } from '../dtos/product-document';
import { ProductCacheRepository, SkuEntry } from '../repositories/product-cache.repository';
import { ProductRepository } from '../repositories/product.repository';

export type { ListResult, OneResult, Tier } from '@catalog/record-types/services/tiered-reads.service';

export interface SkuListResult extends ListResult {
  /** Ids of the products found, per requested sku (null: missing), for the cache tags. */
  ids: Array<number | null>;
}

const OPEN = Buffer.from('{"data":[');
const COMMA = Buffer.from(',');

/** Products by id are the record-type machinery's tiered read; by sku goes through the sku index first. */
@Injectable()
export class ProductReadService {
  private readonly tiered: TieredReader;
  private readonly skuCoalescer: MissCoalescer<{ id: number; doc: Buffer }, string>;

  constructor(
    private readonly cache: ProductCacheRepository,
    private readonly products: ProductRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly breakers: StoreBreakers,
    reads: TieredReads,
  ) {
    this.tiered = reads.for(cache);
    this.skuCoalescer = new MissCoalescer((skus) => this.loadColdSkus(skus), config.COALESCE_MAX_IDS);
  }

  /** The products' tiered reader (a composed read shares its MGET with other types on that Redis). */
  get reader(): TieredReader {
    return this.tiered;
  }

  getMany(ids: readonly number[]): Promise<ListResult> {
    return this.tiered.getMany(ids);
  }

  async getOne(id: number): Promise<OneResult & { etag: string }> {
    const one = await this.tiered.getOne(id);
    return { ...one, etag: one.doc ? productEtag(id, one.version) : '' };
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
    const docs = known.length > 0 ? await this.tiered.mget(known) : [];

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
    this.tiered.count(hits, negatives, misses.length, coldMissing);
    return {
      body: Buffer.concat(parts),
      etag: '"s' + hash('sha1', tag, 'base64url') + '"',
      tier: misses.length > 0 ? 'mysql' : 'redis',
      ids,
    };
  }

  private async mgetSkus(skus: readonly string[]): Promise<SkuEntry[]> {
    try {
      return await this.breakers.redis.fire(() => this.cache.mgetSkus(skus));
    } catch (e) {
      this.tiered.redisReadFailed('sku mget', e, skus.length);
      return new Array<SkuEntry>(skus.length).fill(null);
    }
  }

  private async dropStaleSkus(stale: ReadonlyArray<[string, number]>): Promise<void> {
    // The backfill cannot replace a stale entry then; the next read finds it stale again.
    await this.tiered.backfillSafely('dropping stale sku entries', { skus: stale.length }, () =>
      this.cache.dropStaleSkus(stale),
    );
  }

  private async loadColdSkus(skus: string[]): Promise<Map<string, { id: number; doc: Buffer }>> {
    const found = await this.tiered.coldRead(() => this.products.findDocsBySku(skus));
    const absent = skus.filter((s) => !found.has(s));
    await this.tiered.backfillSafely('sku backfill', { skus: skus.length }, () =>
      this.cache.backfillSkus(found, absent, this.tiered.jitteredTtl, this.config.NEGATIVE_TTL_SECONDS),
    );
    return found;
  }
}

export function productEtag(id: number, version: number): string {
  return `"p${id}-v${version}"`;
}
