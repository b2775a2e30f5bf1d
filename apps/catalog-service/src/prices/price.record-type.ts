import { REDIS_PRICE } from '@app/redis';
import { DEFAULT_TTL, RecordType } from '@catalog/record-types/record-type';

/**
 * Prices of one market are a record type of their own: `price:{market}:{id}` on the price Redis, rows of
 * table `prices` with that market, tag `price:{market}:{id}` (a price write purges exactly the answers that
 * hold that price), outbox type `price:{market}`.
 */
export function priceRecordType(market: string): RecordType {
  return {
    name: `price:${market}`,
    keyPrefix: `price:${market}:`,
    redis: REDIS_PRICE,
    table: 'prices',
    idColumn: 'product_id',
    scope: { column: 'market', value: market },
    tagPrefix: `price:${market}:`,
    ttl: DEFAULT_TTL,
  };
}
