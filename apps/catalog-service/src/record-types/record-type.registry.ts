import { Injectable } from '@nestjs/common';
import type { RecordCacheRepository, RecordState } from './repositories/record-cache.repository';

/**
 * Redis work another module derives from a type's committed states (the category sets from products):
 * run after the type's own apply, by the request and by the outbox relay (before its replica wait), so it
 * is repaired within the relay bound like the apply itself. A state from a request may carry what the
 * follower needs; one from the relay carries only id, version and document.
 */
export type Follower = (states: readonly RecordState[]) => Promise<void>;

/**
 * The record types this process serves, by outbox `record_type`: each type module registers its cache
 * repository on init, and the outbox relay applies every type's rows through it.
 */
@Injectable()
export class RecordTypeRegistry {
  private readonly caches = new Map<string, RecordCacheRepository>();
  private readonly followers = new Map<string, Follower[]>();

  register(cache: RecordCacheRepository): void {
    this.caches.set(cache.type.name, cache);
  }

  cacheOf(name: string): RecordCacheRepository | undefined {
    return this.caches.get(name);
  }

  follow(name: string, follower: Follower): void {
    this.followers.set(name, [...(this.followers.get(name) ?? []), follower]);
  }

  async applyFollowers(name: string, states: readonly RecordState[]): Promise<void> {
    for (const follower of this.followers.get(name) ?? []) await follower(states);
  }
}
