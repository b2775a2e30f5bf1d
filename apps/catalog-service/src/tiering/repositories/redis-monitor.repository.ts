import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { REDIS_PRODUCT, REDIS_REPLICA } from '@app/redis';

export type RedisInstance = 'primary' | 'replica';

/** What sysadmins watch on a Redis, from one INFO call. */
export interface RedisStats {
  role: string;
  keys: number;
  expires: number;
  usedMemory: number;
  usedMemoryDataset: number;
  /** Replication and AOF buffers: Redis leaves them out when it compares used memory with maxmemory. */
  memNotCountedForEvict: number;
  maxmemory: number;
  policy: string;
  evictedKeys: number;
  expiredKeys: number;
  connectedReplicas: number;
  /** Replica only: the link to its primary is up. */
  masterLinkUp?: boolean;
  masterLastIoSeconds?: number;
  /** Primary only: bytes the slowest replica has not acknowledged yet. */
  replicaLagBytes?: number;
}

export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0 && line[0] !== '#') fields.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return fields;
}

/** keys and expires summed over every database (`db0:keys=1,expires=0,avg_ttl=0`). */
function keyspace(fields: Map<string, string>): { keys: number; expires: number } {
  let keys = 0;
  let expires = 0;
  for (const [name, value] of fields) {
    if (!/^db\d+$/.test(name)) continue;
    keys += Number(/keys=(\d+)/.exec(value)?.[1] ?? 0);
    expires += Number(/expires=(\d+)/.exec(value)?.[1] ?? 0);
  }
  return { keys, expires };
}

export function toStats(fields: Map<string, string>): RedisStats {
  const num = (k: string) => Number(fields.get(k) ?? 0);
  const role = fields.get('role') ?? 'unknown';
  const stats: RedisStats = {
    role,
    ...keyspace(fields),
    usedMemory: num('used_memory'),
    usedMemoryDataset: num('used_memory_dataset'),
    memNotCountedForEvict: num('mem_not_counted_for_evict'),
    maxmemory: num('maxmemory'),
    policy: fields.get('maxmemory_policy') ?? '',
    evictedKeys: num('evicted_keys'),
    expiredKeys: num('expired_keys'),
    connectedReplicas: num('connected_slaves'),
  };
  if (role === 'slave') {
    stats.masterLinkUp = fields.get('master_link_status') === 'up';
    stats.masterLastIoSeconds = num('master_last_io_seconds_ago');
  } else {
    const offset = num('master_repl_offset');
    let lag = 0;
    for (const [name, value] of fields) {
      if (!/^slave\d+$/.test(name)) continue;
      lag = Math.max(lag, offset - Number(/offset=(\d+)/.exec(value)?.[1] ?? offset));
    }
    stats.replicaLagBytes = lag;
  }
  return stats;
}

/** INFO of the product Redis and its replica (metrics, status, tiering). */
@Injectable()
export class RedisMonitorRepository {
  constructor(
    @Inject(REDIS_PRODUCT) private readonly primary: Redis,
    @Inject(REDIS_REPLICA) private readonly replica: Redis | null,
  ) {}

  /** Throws when the instance does not answer. */
  async stats(instance: RedisInstance): Promise<RedisStats> {
    const client = instance === 'primary' ? this.primary : this.replica;
    if (!client) throw new Error(`redis ${instance} is not configured`);
    if (client.status === 'wait') await client.connect();
    return toStats(parseInfo(await client.info()));
  }
}
