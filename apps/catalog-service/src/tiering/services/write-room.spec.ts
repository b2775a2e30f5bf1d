import { describe, it } from 'node:test';
import { expect } from 'expect';
import type { RedisStats } from '@catalog/tiering/repositories/redis-monitor.repository';
import { writeRoom } from './write-room';

const stats = (s: Partial<RedisStats>): RedisStats => ({
  role: 'master',
  keys: 1000,
  expires: 0,
  usedMemory: 100,
  usedMemoryDataset: 80,
  memNotCountedForEvict: 0,
  maxmemory: 1000,
  policy: 'volatile-lru',
  evictedKeys: 0,
  expiredKeys: 0,
  connectedReplicas: 0,
  ...s,
});

describe('writeRoom', () => {
  it('is the free memory alone when nothing is volatile', () => {
    expect(writeRoom(stats({ usedMemory: 900 }), [])).toEqual({
      freeBytes: 100,
      evictableBytes: 0,
      roomBytes: 100,
      method: 'none volatile',
    });
  });

  it('adds the volatile keys: their count times the sampled volatile average, not the overall one', () => {
    const samples = [
      { persistent: true, bytes: 1000 },
      { persistent: false, bytes: 40 },
      { persistent: false, bytes: 60 },
    ];
    const room = writeRoom(stats({ usedMemory: 1000, expires: 10 }), samples);
    expect(room).toEqual({ freeBytes: 0, evictableBytes: 500, roomBytes: 500, method: 'sample' });
  });

  it('does not count replication and AOF buffers as used, as Redis does not for eviction', () => {
    expect(writeRoom(stats({ usedMemory: 1100, memNotCountedForEvict: 200 }), [])?.freeBytes).toBe(100);
  });

  it('falls back to the dataset share without a volatile key in the sample', () => {
    const room = writeRoom(stats({ expires: 100, usedMemoryDataset: 5000 }), [
      { persistent: true, bytes: 9 },
    ]);
    expect(room).toMatchObject({ evictableBytes: 500, method: 'dataset-share' });
  });

  it('knows the other policies, and that without maxmemory nothing is refused', () => {
    expect(writeRoom(stats({ policy: 'noeviction', expires: 10 }), [])?.evictableBytes).toBe(0);
    expect(writeRoom(stats({ policy: 'allkeys-lru' }), [])?.evictableBytes).toBe(80);
    expect(writeRoom(stats({ maxmemory: 0 }), [])).toBeNull();
  });
});
