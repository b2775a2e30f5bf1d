import { REDIS_PRODUCT } from '@app/redis';
import { DEFAULT_TTL, RecordType } from '@catalog/record-types/record-type';

/**
 * Categories: `category:{id}` on the product Redis (a few hundred small documents: not worth an instance of
 * their own yet; the token is the place to move them), table `categories`, tag `category:{id}` (which also
 * tags the category's walk pages, so a category write purges those too).
 */
export const CATEGORY: RecordType = {
  name: 'category',
  keyPrefix: 'category:',
  redis: REDIS_PRODUCT,
  table: 'categories',
  tagPrefix: 'category:',
  ttl: DEFAULT_TTL,
};
