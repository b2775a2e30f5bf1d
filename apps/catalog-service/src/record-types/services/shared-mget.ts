import type { CacheEntry } from '../repositories/record-cache.repository';
import type { TieredReader } from './tiered-reads.service';

/** Keys to read on one Redis, and what to make of their entries (misses included). */
export interface ReadPart {
  /** Reads on this reader's connection, through its breaker: parts on one connection share an MGET. */
  reader: TieredReader;
  keys: readonly string[];
  resolve(entries: CacheEntry[]): Promise<PartResult>;
}

export interface PartResult {
  docs: Array<Buffer | null>;
  cold: boolean;
}

/** A record type's part: the records of ids, misses loaded and backfilled by the type's reader. */
export function recordPart(reader: TieredReader, ids: readonly number[]): ReadPart {
  const prefix = reader.cacheRepository.type.keyPrefix;
  const keys = new Array<string>(ids.length);
  for (let i = 0; i < ids.length; i++) keys[i] = prefix + ids[i];
  return { reader, keys, resolve: (entries) => reader.resolve(ids, entries) };
}

/**
 * Reads several parts (record types, derived keys) at once: one MGET per Redis connection, whatever the
 * number of parts living there, all connections in parallel; then each part resolves its entries (a record
 * type loads and backfills its misses). Results in the order of `parts`.
 */
export async function readParts(parts: readonly ReadPart[]): Promise<PartResult[]> {
  const groups = new Map<unknown, number[]>();
  parts.forEach((p, i) => {
    const conn = p.reader.cacheRepository.connection;
    const members = groups.get(conn);
    if (members) members.push(i);
    else groups.set(conn, [i]);
  });
  const results = new Array<PartResult>(parts.length);
  await Promise.all(
    [...groups.values()].map(async (members) => {
      const keys = members.length === 1 ? parts[members[0]].keys : members.flatMap((i) => parts[i].keys);
      const entries = await parts[members[0]].reader.mgetKeys(keys);
      let at = 0;
      await Promise.all(
        members.map(async (i) => {
          const n = parts[i].keys.length;
          results[i] = await parts[i].resolve(entries.slice(at, (at += n)));
        }),
      );
    }),
  );
  return results;
}
