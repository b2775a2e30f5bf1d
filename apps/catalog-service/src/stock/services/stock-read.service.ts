import { Inject, Injectable } from '@nestjs/common';
import { hash } from 'node:crypto';
import { APP_CONFIG, AppConfig, marketsOf } from '@app/config';
import { versionOf } from '@catalog/record-types/record-document';
import { PartResult, ReadPart, readParts } from '@catalog/record-types/services/shared-mget';
import { ListResult, TieredReader, TieredReads } from '@catalog/record-types/services/tiered-reads.service';
import { availabilityOf, quantityOf } from '../dtos/stock-document';
import { StockCaches } from '../repositories/stock-caches.repository';

/** A product's stock in a market: the sum over the market's warehouses (null: no level anywhere). */
export interface MarketStock {
  quantity: number;
  /** `warehouse:version` of every level that went into it, for ETags. */
  versions: string;
}

/**
 * Availability per market from the warehouses' levels: one MGET for every warehouse of the market (they
 * share the stock Redis), misses loaded per warehouse like any record type.
 */
@Injectable()
export class StockReadService {
  private readonly readers = new Map<string, TieredReader>();
  private readonly markets: ReadonlyMap<string, string[]>;
  readonly lowThreshold: number;

  constructor(caches: StockCaches, reads: TieredReads, @Inject(APP_CONFIG) config: AppConfig) {
    this.markets = marketsOf(config);
    this.lowThreshold = config.STOCK_LOW_THRESHOLD;
    for (const cache of caches.all()) this.readers.set(cache.type.scope!.value, reads.for(cache));
  }

  /** What to read for ids in a market: one part per warehouse of the market. */
  parts(ids: readonly number[], market: string): ReadPart[] {
    return (this.markets.get(market) ?? []).map((w) => ({ reader: this.readers.get(w)!, ids }));
  }

  /** The parts' results summed per id. */
  combine(ids: readonly number[], market: string, results: readonly PartResult[]): Array<MarketStock | null> {
    const warehouses = this.markets.get(market) ?? [];
    return ids.map((_, i) => {
      let found: MarketStock | null = null;
      results.forEach((r, w) => {
        const doc = r.docs[i];
        if (!doc) return;
        found ??= { quantity: 0, versions: '' };
        found.quantity += quantityOf(doc);
        found.versions += `${warehouses[w]}:${versionOf(doc)};`;
      });
      return found;
    });
  }

  /** `{"market":..,"availability":..,"quantity":..}` of one product (the composed read's part). */
  fragment(market: string, stock: MarketStock): string {
    const availability = availabilityOf(stock.quantity, this.lowThreshold);
    return `{"market":"${market}","availability":"${availability}","quantity":${stock.quantity}}`;
  }

  async getMany(ids: readonly number[], market: string): Promise<ListResult> {
    const results = await readParts(this.parts(ids, market));
    const stocks = this.combine(ids, market, results);
    const data: string[] = [];
    const missing: number[] = [];
    let tag = '';
    stocks.forEach((s, i) => {
      if (s === null) {
        missing.push(ids[i]);
        tag += ids[i] + ':-,';
      } else {
        data.push(`{"id":${ids[i]},` + this.fragment(market, s).slice(1));
        tag += ids[i] + ':' + s.versions + ',';
      }
    });
    return {
      body: Buffer.from(`{"data":[${data.join(',')}],"missing":[${missing.join(',')}]}`),
      etag: '"k' + hash('sha1', market + '|' + tag, 'base64url') + '"',
      tier: results.some((r) => r.cold) ? 'mysql' : 'redis',
    };
  }
}
