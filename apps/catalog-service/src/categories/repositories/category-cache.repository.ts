import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { REDIS_PRODUCT } from '@app/redis';
import { RecordCacheRepository } from '@catalog/record-types/repositories/record-cache.repository';
import { CATEGORY } from '../category.record-type';

/** Category documents in Redis: the record-type machinery as it is (one MGET, backfill, guarded apply). */
@Injectable()
export class CategoryCacheRepository extends RecordCacheRepository {
  constructor(@Inject(REDIS_PRODUCT) redis: Redis) {
    super(CATEGORY, redis);
  }
}
