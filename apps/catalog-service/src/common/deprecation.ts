import {
  applyDecorators,
  CallHandler,
  ExecutionContext,
  NestInterceptor,
  UseInterceptors,
} from '@nestjs/common';
import { ApiExtension, ApiOperation } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { Observable } from 'rxjs';

export interface DeprecationOptions {
  /** When it was (or will be) deprecated: `2026-11-22` or a full ISO timestamp. */
  since: string;
  /** When it may stop working; at least 12 months after `since` (docs/api-lifecycle.md). */
  sunset?: string;
  /** Where frontends read what to use instead. */
  link: string;
}

function epochMs(value: string, what: string): number {
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(ms)) throw new Error(`@Deprecated: ${what} "${value}" is not an ISO date`);
  return ms;
}

/** Deprecation (RFC 9745), Sunset (RFC 8594) and Link headers, computed once when the route is declared. */
export function deprecationHeaders(opts: DeprecationOptions): Record<string, string> {
  const since = epochMs(opts.since, 'since');
  const headers: Record<string, string> = {
    deprecation: `@${Math.floor(since / 1000)}`,
    link: `<${opts.link}>; rel="deprecation"; type="text/html"`,
  };
  if (opts.sunset !== undefined) {
    const sunset = epochMs(opts.sunset, 'sunset');
    if (sunset <= since) throw new Error('@Deprecated: sunset must be after since');
    headers.sunset = new Date(sunset).toUTCString();
    headers.link += `, <${opts.link}>; rel="sunset"; type="text/html"`;
  }
  return headers;
}

/** Set before the handler runs, so error responses of a deprecated operation carry them too. */
class DeprecationHeaders implements NestInterceptor {
  constructor(private readonly headers: Record<string, string>) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    void context.switchToHttp().getResponse<FastifyReply>().headers(this.headers);
    return next.handle();
  }
}

/**
 * Marks an operation deprecated: `deprecated: true` (and x-deprecated-since, x-sunset) in the OpenAPI
 * document, and Deprecation / Sunset / Link headers on every response. A deprecated operation keeps
 * working exactly as before until its sunset; removing it is a breaking change the contract check refuses.
 */
export function Deprecated(opts: DeprecationOptions) {
  const headers = deprecationHeaders(opts);
  return applyDecorators(
    // summary: undefined keeps the summary of the operation's own @ApiOperation (they merge).
    ApiOperation({ deprecated: true, summary: undefined }),
    ApiExtension('x-deprecated-since', opts.since),
    ...(opts.sunset ? [ApiExtension('x-sunset', opts.sunset)] : []),
    UseInterceptors(new DeprecationHeaders(headers)),
  );
}
