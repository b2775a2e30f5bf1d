import type { FastifyReply } from 'fastify';
import type { AppConfig } from '@app/config';

/** Weak comparison (RFC 9110 13.1.2), as If-None-Match requires. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch || !etag) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

export function cacheControl(config: AppConfig): string {
  return (
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
