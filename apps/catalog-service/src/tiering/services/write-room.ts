import type { RedisStats } from '@catalog/tiering/repositories/redis-monitor.repository';
import type { KeySample } from '@catalog/tiering/repositories/tiering.repository';

/**
 * What a Redis can still take before it refuses writes with OOM, as bin/check_catalog_redis judges it:
 * free memory (maxmemory minus what Redis counts for eviction) plus evictable memory (under volatile-*:
 * the volatile keys, their exact count times the average MEMORY USAGE of the volatile keys in a sample).
 */
export interface WriteRoom {
  freeBytes: number;
  evictableBytes: number;
  roomBytes: number;
  /** How the evictable memory was estimated. */
  method: 'none volatile' | 'sample' | 'dataset-share' | 'allkeys' | 'noeviction';
}

export function evictableBytes(
  stats: RedisStats,
  samples: readonly KeySample[],
): Omit<WriteRoom, 'freeBytes' | 'roomBytes'> {
  if (stats.policy.startsWith('allkeys-'))
    return { evictableBytes: stats.usedMemoryDataset, method: 'allkeys' };
  if (stats.policy === 'noeviction') return { evictableBytes: 0, method: 'noeviction' };
  if (stats.expires === 0) return { evictableBytes: 0, method: 'none volatile' };
  const volatile = samples.filter((s) => !s.persistent);
  if (volatile.length > 0) {
    const avg = volatile.reduce((a, s) => a + s.bytes, 0) / volatile.length;
    return { evictableBytes: Math.round(stats.expires * avg), method: 'sample' };
  }
  const share = stats.keys > 0 ? (stats.usedMemoryDataset * stats.expires) / stats.keys : 0;
  return { evictableBytes: Math.round(share), method: 'dataset-share' };
}

/** null without maxmemory: such a Redis refuses no write for memory. */
export function writeRoom(stats: RedisStats, samples: readonly KeySample[]): WriteRoom | null {
  if (stats.maxmemory <= 0) return null;
  const freeBytes = Math.max(0, stats.maxmemory - (stats.usedMemory - stats.memNotCountedForEvict));
  const evictable = evictableBytes(stats, samples);
  return { freeBytes, ...evictable, roomBytes: freeBytes + evictable.evictableBytes };
}
