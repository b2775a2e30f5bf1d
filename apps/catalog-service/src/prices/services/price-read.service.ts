import { Injectable } from '@nestjs/common';
import { ListResult, TieredReader, TieredReads } from '@catalog/record-types/services/tiered-reads.service';
import { PriceCaches } from '../repositories/price-caches.repository';

/** Prices of one market by product ids: the record-type machinery's tiered read of that market. */
@Injectable()
export class PriceReadService {
  private readonly readers = new Map<string, TieredReader>();

  constructor(
    private readonly caches: PriceCaches,
    private readonly reads: TieredReads,
  ) {}

  getMany(ids: readonly number[], market: string): Promise<ListResult> {
    return this.reader(market).getMany(ids);
  }

  reader(market: string): TieredReader {
    let reader = this.readers.get(market);
    if (!reader) this.readers.set(market, (reader = this.reads.for(this.caches.of(market))));
    return reader;
  }
}
