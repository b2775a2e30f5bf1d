import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig, marketsOf } from '@app/config';
import { REDIS_STOCK } from '@app/redis';
import { ScopedCaches } from '@catalog/record-types/repositories/scoped-caches';
import { stockRecordType } from '../stock.record-type';

/** The stock Redis: one record-type cache per warehouse that any market names. */
@Injectable()
export class StockCaches extends ScopedCaches {
  constructor(@Inject(REDIS_STOCK) redis: Redis, @Inject(APP_CONFIG) config: AppConfig) {
    super(new Set([...marketsOf(config).values()].flat()), stockRecordType, redis);
  }
}
