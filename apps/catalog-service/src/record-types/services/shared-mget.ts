import { recordKey } from '../record-type';
import type { TieredReader } from './tiered-reads.service';

export interface ReadPart {
  reader: TieredReader;
  ids: readonly number[];
}

export interface PartResult {
  docs: Array<Buffer | null>;
  cold: boolean;
}

/**
 * Reads several parts (record types) at once: one MGET per Redis connection, whatever the number of types
 * living there, all connections in parallel; then each part's misses are loaded and backfilled by its own
 * reader. Results in the order of `parts`.
 */
export async function readParts(parts: readonly ReadPart[]): Promise<PartResult[]> {
  const groups = new Map<unknown, number[]>();
  parts.forEach((p, i) => {
    const conn = p.reader.cacheRepository.connection;
    groups.set(conn, [...(groups.get(conn) ?? []), i]);
  });
  const results = new Array<PartResult>(parts.length);
  await Promise.all(
    [...groups.values()].map(async (members) => {
      const keys: string[] = [];
      for (const i of members) {
        const type = parts[i].reader.cacheRepository.type;
        for (const id of parts[i].ids) keys.push(recordKey(type, id));
      }
      const entries = await parts[members[0]].reader.mgetKeys(keys);
      let at = 0;
      await Promise.all(
        members.map(async (i) => {
          const n = parts[i].ids.length;
          const slice = entries.slice(at, (at += n));
          results[i] = await parts[i].reader.resolve(parts[i].ids, slice);
        }),
      );
    }),
  );
  return results;
}
