import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig, marketsOf } from '@app/config';
import { REDIS_STOCK } from '@app/redis';
import { ScopedCaches } from '@catalog/record-types/repositories/scoped-caches';
import { stockRecordType } from '../stock.record-type';
import { AvailabilityRepository } from './availability.repository';

/**
 * The stock Redis: one record-type cache per warehouse that any market names; each level's apply also
 * derives the product's availability in the markets that warehouse stocks (AvailabilityRepository).
 */
@Injectable()
export class StockCaches extends ScopedCaches {
  constructor(
    @Inject(REDIS_STOCK) redis: Redis,
    @Inject(APP_CONFIG) config: AppConfig,
    availability: AvailabilityRepository,
  ) {
    super(new Set([...marketsOf(config).values()].flat()), stockRecordType, redis, (w) =>
      availability.derivedFor(w),
    );
  }
}
