import { PRODUCT } from '../product.record-type';

const TAG = PRODUCT.tagPrefix;
const SKU_TAG = PRODUCT.uniqueIndex!.tagPrefix;

/** The read headers of /v1/products answers, as documented in the contract and as sent. */
export const CACHE_HEADERS = {
  ETag: {
    description: 'Strong validator; changes when and only when a returned version changes',
    schema: { type: 'string' },
  },
  'Cache-Control': {
    description: 'public, max-age, s-maxage, stale-while-revalidate, stale-if-error',
    schema: { type: 'string' },
  },
  xkey: {
    description:
      'Space-separated cache tags, product:{id} per requested id; with include, price:{market}:{id} and stock:{id} too',
    schema: { type: 'string' },
  },
  'X-Catalog-Tier': {
    description: 'Where the service found the data: redis or mysql',
    schema: { type: 'string', enum: ['redis', 'mysql'] },
  },
};

export const SKU_CACHE_HEADERS = {
  ...CACHE_HEADERS,
  xkey: {
    description: 'Space-separated cache tags: sku:{sku} per requested sku, product:{id} per product found',
    schema: { type: 'string' },
  },
};

/** product:{id} per id, and per included part its tag: price:{market}:{id}, stock:{id}. */
export function xkeys(
  ids: readonly number[],
  p: { market?: string; price?: boolean; stock?: boolean } = {},
): string {
  let s = '';
  for (let i = 0; i < ids.length; i++) {
    s += (i ? ' ' : '') + TAG + ids[i];
    if (p.price) s += ` price:${p.market}:${ids[i]}`;
    if (p.stock) s += ` stock:${ids[i]}`;
  }
  return s;
}

/** A write purges `product:{id}`; creating or renaming a product also purges `sku:{sku}` of its skus. */
export function skuXkeys(skus: readonly string[], ids: ReadonlyArray<number | null>): string {
  let s = '';
  for (let i = 0; i < skus.length; i++) {
    s += (i ? ' ' : '') + SKU_TAG + skus[i];
    if (ids[i] !== null) s += ' ' + TAG + ids[i];
  }
  return s;
}
