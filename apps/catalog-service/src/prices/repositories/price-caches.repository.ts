import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig, marketsOf } from '@app/config';
import { REDIS_PRICE } from '@app/redis';
import { ScopedCaches } from '@catalog/record-types/repositories/scoped-caches';
import { priceRecordType } from '../price.record-type';

/** The price Redis: one record-type cache per configured market. */
@Injectable()
export class PriceCaches extends ScopedCaches {
  constructor(@Inject(REDIS_PRICE) redis: Redis, @Inject(APP_CONFIG) config: AppConfig) {
    super(marketsOf(config).keys(), priceRecordType, redis);
  }
}
