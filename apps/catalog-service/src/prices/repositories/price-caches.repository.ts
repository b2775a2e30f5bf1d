import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig, marketsOf } from '@app/config';
import { REDIS_PRICE } from '@app/redis';
import { RecordCacheRepository } from '@catalog/record-types/repositories/record-cache.repository';
import { priceRecordType } from '../price.record-type';

/** The price Redis, one record-type cache per configured market (all on one connection). */
@Injectable()
export class PriceCaches {
  private readonly byMarket = new Map<string, RecordCacheRepository>();

  constructor(@Inject(REDIS_PRICE) redis: Redis, @Inject(APP_CONFIG) config: AppConfig) {
    for (const market of marketsOf(config).keys())
      this.byMarket.set(market, new RecordCacheRepository(priceRecordType(market), redis));
  }

  /** The cache of a configured market (callers have validated the market). */
  of(market: string): RecordCacheRepository {
    const cache = this.byMarket.get(market);
    if (!cache) throw new Error(`market ${market} is not configured`);
    return cache;
  }

  all(): RecordCacheRepository[] {
    return [...this.byMarket.values()];
  }
}
