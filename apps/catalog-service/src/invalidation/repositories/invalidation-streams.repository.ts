import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { REDIS_PRICE, REDIS_PRODUCT, REDIS_STOCK } from '@app/redis';
import { InvalidationRepository } from './invalidation.repository';

/** The invalidation stream of every distinct Redis the record types live on (products first). */
@Injectable()
export class InvalidationStreams {
  readonly all: ReadonlyArray<{ name: string; connection: object; stream: InvalidationRepository }>;

  constructor(
    @Inject(REDIS_PRODUCT) product: Redis,
    @Inject(REDIS_PRICE) price: Redis,
    @Inject(REDIS_STOCK) stock: Redis,
  ) {
    const seen = new Set<Redis>();
    const all = [];
    for (const [name, redis] of [
      ['product', product],
      ['price', price],
      ['stock', stock],
    ] as const) {
      if (seen.has(redis)) continue;
      seen.add(redis);
      all.push({ name, connection: redis, stream: new InvalidationRepository(redis, name) });
    }
    this.all = all;
  }
}
