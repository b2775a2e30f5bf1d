import type { FastifyReply } from 'fastify';
import type { AppConfig } from '@app/config';
import { NotFoundError } from '@app/errors';

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

/**
 * If-Match: `*` -> null (must exist), `"{prefix}{id}-v{n}"` -> n (prefix p for products, c for categories),
 * absent -> undefined, anything else -> -1 (never matches).
 */
export function parseIfMatch(
  header: string | undefined,
  id: number,
  prefix = 'p',
): number | null | undefined {
  return ifMatchVersion(header, `${prefix}${id}-v`);
}

/** If-Match of a record whose ETags are `"{head}{version}"` (a price: head `pr{id}-{market}-v`): as above. */
export function ifMatchVersion(header: string | undefined, head: string): number | null | undefined {
  if (header === undefined) return undefined;
  if (header.trim() === '*') return null;
  for (const raw of header.split(',')) {
    const tag = raw.trim();
    const digits = tag.slice(head.length + 1, -1);
    if (tag.startsWith(`"${head}`) && tag.endsWith('"') && /^\d{1,15}$/.test(digits)) return Number(digits);
  }
  return -1;
}

/**
 * A read's answer: its headers (on the 304 too), then no body when If-None-Match matches the ETag, else
 * the body as JSON.
 */
export function answerRead<T>(
  reply: FastifyReply,
  ifNoneMatch: string | undefined,
  headers: { cacheControl: string; etag: string; xkey: string; tier: string },
  body: T,
): T | undefined {
  setReadHeaders(reply, headers.cacheControl, headers.etag, headers.xkey, headers.tier);
  if (etagMatches(ifNoneMatch, headers.etag)) {
    void reply.status(304);
    return undefined;
  }
  void reply.type('application/json; charset=utf-8');
  return body;
}

/** A write's answer: 201 when it created the record, else 200; the new ETag and the record's URL; never cached. */
export function answerWrite(
  reply: FastifyReply,
  created: boolean,
  etag: string,
  location: string,
  doc: string,
): string {
  void reply
    .status(created ? 201 : 200)
    .header('etag', etag)
    .header('cache-control', 'no-store')
    .header('location', location)
    .type('application/json; charset=utf-8');
  return doc;
}

/** A read of an id found nowhere: cached briefly and tagged, so creating the record purges the cached 404. */
export function notFound(
  reply: FastifyReply,
  maxAge: number,
  xkey: string,
  tier: string,
  detail: string,
): never {
  void reply
    .header('cache-control', `public, max-age=${maxAge}`)
    .header('xkey', xkey)
    .header('x-catalog-tier', tier);
  throw new NotFoundError(detail);
}
