import { Injectable } from '@nestjs/common';
import type { RecordCacheRepository } from './repositories/record-cache.repository';

/**
 * The record types this process serves, by outbox `record_type`: each type module registers its cache
 * repository on init, and the outbox relay applies every type's rows through it.
 */
@Injectable()
export class RecordTypeRegistry {
  private readonly caches = new Map<string, RecordCacheRepository>();

  register(cache: RecordCacheRepository): void {
    this.caches.set(cache.type.name, cache);
  }

  cacheOf(name: string): RecordCacheRepository | undefined {
    return this.caches.get(name);
  }
}
