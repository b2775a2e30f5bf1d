import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { RecordType, rowsById } from '../record-type';
import { Expect, NotStored, VersionedWriter, VersionMismatch, WriteResult } from './versioned-writer';

/** A row of a scoped record type (a price, a stock level): its own columns, and the stored document. */
export interface ScopedRow {
  values: Record<string, unknown>;
  doc: string;
}

/** Builds the row once the new version is known (the document embeds its version). */
export type ScopedRowBuilder = (version: number, now: Date) => ScopedRow;

/**
 * Writes of record types whose table holds one row per (id, scope value): a product's price in a market,
 * its stock level in a warehouse. One versioned transaction: rows locked by id, absent ones inserted
 * with a plain INSERT (two creates of one row cannot both win), locked ones replaced, the outbox row.
 */
@Injectable()
export class ScopedRowsRepository {
  constructor(private readonly versioned: VersionedWriter) {}

  /** All-or-nothing for the given ids of one type; the caller validated them and removed duplicates. */
  upsertMany(
    type: RecordType,
    items: ReadonlyArray<{ id: number; build: ScopedRowBuilder }>,
  ): Promise<WriteResult[]> {
    return this.versioned.write(type, async (em) => {
      const ids = items.map((i) => i.id);
      const locked = new Map((await this.versioned.lock(em, type, ids)).map((r) => [Number(r.id), r]));
      const now = new Date();
      const planned = items.map(({ id, build }) => {
        const cur = locked.get(id);
        const version = (cur?.version ?? 0) + 1;
        const created = cur === undefined || cur.deleted_at !== null;
        return { id, version, row: build(version, now), isNew: cur === undefined, created };
      });
      await this.insertRows(em, type, planned, now);
      await this.versioned.insertOutbox(em, type, planned);
      return planned.map((p) => ({ id: p.id, version: p.version, doc: p.row.doc, created: p.created }));
    });
  }

  /**
   * A delete keeps a tombstone row (version bumped, document cleared), like a product's, so versions stay
   * monotonic: NotStored when there is nothing to delete, VersionMismatch when `expect` is another version.
   */
  async softDelete(type: RecordType, id: number, expect: Expect): Promise<WriteResult> {
    const [result] = await this.versioned.write(type, async (em) => {
      const [cur] = await this.versioned.lock(em, type, [id]);
      if (cur === undefined || cur.deleted_at !== null) throw new NotStored();
      if (typeof expect === 'number' && cur.version !== expect) throw new VersionMismatch(cur.version);
      const version = cur.version + 1;
      const now = new Date();
      const { where, params } = rowsById(type);
      await em.query(
        `UPDATE ${type.table} SET version = ?, doc = NULL, updated_at = ?, deleted_at = ? WHERE ${where}`,
        [version, now, now, [id], ...params],
      );
      await this.versioned.insertOutbox(em, type, [{ id, version }]);
      return [{ id, version, doc: null, created: false }];
    });
    return result;
  }

  private async insertRows(
    em: EntityManager,
    type: RecordType,
    rows: ReadonlyArray<{ id: number; version: number; row: ScopedRow; isNew: boolean }>,
    now: Date,
  ): Promise<void> {
    if (!type.scope) throw new Error(`record type ${type.name} has no scope`);
    const own = Object.keys(rows[0]?.row.values ?? {});
    const columns = [
      type.idColumn ?? 'id',
      type.scope.column,
      ...own,
      'version',
      'doc',
      'created_at',
      'updated_at',
      'deleted_at',
    ];
    const values = (isNew: boolean) =>
      rows
        .filter((r) => r.isNew === isNew)
        .map((r) => [
          r.id,
          type.scope!.value,
          ...own.map((c) => r.row.values[c]),
          r.version,
          r.row.doc,
          now,
          now,
          null,
        ]);
    const insert = `INSERT INTO ${type.table} (${columns.join(', ')}) VALUES ?`;
    const created = values(true);
    const replaced = values(false);
    if (created.length) await em.query(insert, [created]);
    if (replaced.length) {
      const update = [...own, 'version', 'doc', 'updated_at'].map((c) => `${c} = VALUES(${c})`).join(', ');
      await em.query(`${insert} ON DUPLICATE KEY UPDATE ${update}, deleted_at = NULL`, [replaced]);
    }
  }
}
