import { REDIS_PRODUCT } from '@app/redis';
import { DEFAULT_TTL, RecordType } from '@catalog/record-types/record-type';

/** Products: `product:{id}` on the product Redis, table `products`, tag `product:{id}`, sku index. */
export const PRODUCT: RecordType = {
  name: 'product',
  keyPrefix: 'product:',
  redis: REDIS_PRODUCT,
  table: 'products',
  tagPrefix: 'product:',
  ttl: DEFAULT_TTL,
  uniqueIndex: { field: 'sku', keyPrefix: 'sku:', tagPrefix: 'sku:' },
};
