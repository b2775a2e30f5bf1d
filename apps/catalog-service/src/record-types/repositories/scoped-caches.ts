import type Redis from 'ioredis';
import type { RecordType } from '../record-type';
import { DerivedKeys, RecordCacheRepository } from './record-cache.repository';

/** The caches of a scoped record type, one per configured scope (market, warehouse), on one connection. */
export class ScopedCaches {
  private readonly byScope = new Map<string, RecordCacheRepository>();

  constructor(
    scopes: Iterable<string>,
    typeOf: (scope: string) => RecordType,
    redis: Redis,
    derivedOf?: (scope: string) => DerivedKeys | undefined,
  ) {
    for (const scope of scopes)
      this.byScope.set(scope, new RecordCacheRepository(typeOf(scope), redis, derivedOf?.(scope)));
  }

  /** The cache of a configured scope (callers have validated it). */
  of(scope: string): RecordCacheRepository {
    const cache = this.byScope.get(scope);
    if (!cache) throw new Error(`${scope} is not configured`);
    return cache;
  }

  has(scope: string): boolean {
    return this.byScope.has(scope);
  }

  all(): RecordCacheRepository[] {
    return [...this.byScope.values()];
  }
}
