import type { FastifyReply } from 'fastify';
import type { AppConfig } from '@app/config';

/** Weak comparison (RFC 9110 13.1.2), as If-None-Match requires. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch || !etag) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

export type ReadRoute = 'product' | 'productList' | 'stock';

/**
 * Cache-Control of a read route: the route's own HTTP_CACHE_CONTROL_* when set, else the shared numbers.
 * s-maxage is what Varnish keeps a copy for (writes purge it sooner), stale-while-revalidate how stale a copy
 * it serves while refreshing, stale-if-error how long it keeps serving one while the service fails.
 */
export function cacheControl(config: AppConfig, route: ReadRoute = 'product'): string {
  // Stock changes often: a shorter freshness of its own (a composed answer takes the shortest).
  if (route === 'stock')
    return (
      `public, max-age=${config.HTTP_STOCK_MAX_AGE}, s-maxage=${config.HTTP_STOCK_S_MAXAGE}, ` +
      `stale-while-revalidate=${config.HTTP_STALE_WHILE_REVALIDATE}, stale-if-error=${config.HTTP_STALE_IF_ERROR}`
    );
  const own =
    route === 'product' ? config.HTTP_CACHE_CONTROL_PRODUCT : config.HTTP_CACHE_CONTROL_PRODUCT_LIST;
  return (
    own ??
    `public, max-age=${config.HTTP_MAX_AGE}, s-maxage=${config.HTTP_S_MAXAGE}, ` +
      `stale-while-revalidate=${config.HTTP_STALE_WHILE_REVALIDATE}, stale-if-error=${config.HTTP_STALE_IF_ERROR}`
  );
}

/** Headers every product read carries, the 304 included (RFC 9110 15.4.5). */
export function setReadHeaders(
  reply: FastifyReply,
  cc: string,
  etag: string,
  xkey: string,
  tier: string,
): void {
  void reply
    .header('cache-control', cc)
    .header('etag', etag)
    .header('xkey', xkey)
    .header('x-catalog-tier', tier);
}

/** If-Match: `*` -> null (must exist), `"p{id}-v{n}"` -> n, absent -> undefined, anything else -> -1 (never matches). */
export function parseIfMatch(header: string | undefined, id: number): number | null | undefined {
  if (header === undefined) return undefined;
  if (header.trim() === '*') return null;
  for (const tag of header.split(',')) {
    const m = /^"p(\d+)-v(\d+)"$/.exec(tag.trim());
    if (m && Number(m[1]) === id) return Number(m[2]);
  }
  return -1;
}
