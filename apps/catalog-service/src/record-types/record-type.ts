import type { AppConfig } from '@app/config';

/** Which TTLs of the config a record type's Redis entries live by (seconds). */
export interface TtlPolicy {
  /** Cold reads backfilled as volatile keys, jittered by CACHE_TTL_JITTER. */
  cache: (c: AppConfig) => number;
  /** Ids found nowhere (`!0`). */
  negative: (c: AppConfig) => number;
  /** Deleted records (`!<version>`). */
  tombstone: (c: AppConfig) => number;
}

/**
 * One record type of the catalog: everything the shared machinery (tiered read, versioned write, outbox
 * relay, invalidation) needs to know about it, so that machinery is written once. A type module declares
 * one (products/product.record-type.ts) and registers its store with the RecordTypeRegistry.
 *
 * Stored documents start with `{"id":<id>,"version":<v>,` (written so at write time): the version
 * is read off that head by the Lua scripts and by `versionOf`, never by parsing the document.
 */
export interface RecordType {
  /** Outbox `record_type` and the metrics' `type` label. At most 16 characters (outbox column). */
  readonly name: string;
  /** Redis key of record `id` is keyPrefix + id. */
  readonly keyPrefix: string;
  /** Nest token of the Redis connection this type lives on (shard by type is configuration). */
  readonly redis: symbol;
  /** MySQL table with the id column, `version`, `doc` and `deleted_at`. */
  readonly table: string;
  /** The table's id column; `id` when absent. */
  readonly idColumn?: string;
  /** Rows of this type are the table's rows where `column = value` (prices of one market). */
  readonly scope?: { readonly column: string; readonly value: string };
  /** Edge cache tag (xkey) of record `id` is tagPrefix + id: a write purges exactly the answers holding it. */
  readonly tagPrefix: string;
  readonly ttl: TtlPolicy;
  /**
   * Optional unique field indexed in Redis (index keyPrefix + value -> id), kept by the write script under
   * the same version guard; its value is read off the document head (`"<field>":"...`). A write publishes
   * tagPrefix + value too, for cached answers by that field which said "missing".
   */
  readonly uniqueIndex?: {
    readonly field: string;
    readonly keyPrefix: string;
    readonly tagPrefix: string;
  };
}

/** The default TTL policy: CACHE_TTL_SECONDS, NEGATIVE_TTL_SECONDS, TOMBSTONE_TTL_SECONDS. */
export const DEFAULT_TTL: TtlPolicy = {
  cache: (c) => c.CACHE_TTL_SECONDS,
  negative: (c) => c.NEGATIVE_TTL_SECONDS,
  tombstone: (c) => c.TOMBSTONE_TTL_SECONDS,
};

export function recordKey(type: RecordType, id: number): string {
  return type.keyPrefix + id;
}

export function recordTag(type: RecordType, id: number): string {
  return type.tagPrefix + id;
}

/**
 * `WHERE` of a record type's rows by id: `<id column> IN (?)` and its scope, with the parameters to bind
 * after the id list. Table and column names come from the definition, never from a request.
 */
export function rowsById(type: RecordType): { where: string; params: string[] } {
  const id = type.idColumn ?? 'id';
  return type.scope
    ? { where: `${id} IN (?) AND ${type.scope.column} = ?`, params: [type.scope.value] }
    : { where: `${id} IN (?)`, params: [] };
}
