import type { KeySample } from '@catalog/tiering/repositories/tiering.repository';

export interface Budget {
  bytes: number;
  source: 'bytes' | 'ratio' | 'none';
}

/** TIERING_PERSISTENT_BUDGET_BYTES when set, else a fraction of maxmemory; none without either. */
export function budgetOf(budgetBytes: number, budgetRatio: number, maxmemory: number): Budget {
  if (budgetBytes > 0) return { bytes: budgetBytes, source: 'bytes' };
  if (maxmemory > 0 && budgetRatio > 0)
    return { bytes: Math.floor(maxmemory * budgetRatio), source: 'ratio' };
  return { bytes: 0, source: 'none' };
}

export interface PersistentEstimate {
  bytes: number;
  avgKeyBytes: number;
  sampled: number;
  sampledPersistent: number;
  method: 'sample' | 'dataset-share';
}

/**
 * Memory of the persistent keys: their count (exact, from INFO keyspace) times their average MEMORY USAGE
 * in a random sample. Without a persistent key in the sample it falls back to their share of
 * used_memory_dataset, which assumes persistent and volatile keys have the same size.
 */
export function estimatePersistent(
  persistentKeys: number,
  totalKeys: number,
  usedMemoryDataset: number,
  samples: readonly KeySample[],
): PersistentEstimate {
  const persistent = samples.filter((s) => s.persistent);
  if (persistent.length > 0) {
    const avg = persistent.reduce((a, s) => a + s.bytes, 0) / persistent.length;
    return {
      bytes: Math.round(persistentKeys * avg),
      avgKeyBytes: Math.round(avg),
      sampled: samples.length,
      sampledPersistent: persistent.length,
      method: 'sample',
    };
  }
  const avg = totalKeys > 0 ? usedMemoryDataset / totalKeys : 0;
  return {
    bytes: Math.round(persistentKeys * avg),
    avgKeyBytes: Math.round(avg),
    sampled: samples.length,
    sampledPersistent: 0,
    method: 'dataset-share',
  };
}

/** Jittered TTL so that demoted keys do not all expire in the same second. */
export function jitteredTtl(seconds: number, jitter: number, random: () => number = Math.random): number {
  return Math.max(1, Math.round(seconds * (1 - jitter + random() * 2 * jitter)));
}
