import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { RecordReader } from '@catalog/record-types/repositories/record-reader';
import {
  Expect,
  NotStored,
  UniqueTaken,
  VersionedWriter,
  VersionMismatch,
  WriteResult,
} from '@catalog/record-types/repositories/versioned-writer';
import type { RecordState } from '@catalog/record-types/repositories/record-cache.repository';
import {
  CategoryMembershipRepository,
  Membership,
} from '@catalog/categories/repositories/category-membership.repository';
import { PRODUCT } from '../product.record-type';

export interface ProductRow {
  sku: string;
  status: string;
  doc: string;
  /** The product's categories (its document's categoryIds), kept in category_products by the same write. */
  categoryIds: readonly number[];
}

/** A product write's result, with every (category, product) pair of the product after it. */
export interface ProductWriteResult extends WriteResult {
  memberships: Membership[];
}

/** Builds the stored row once the new version is known (the document embeds its version). */
export type RowBuilder = (version: number, now: Date) => ProductRow;

/**
 * The system of record. Every write bumps the version in a transaction that also writes an outbox row,
 * so a crash after commit is repaired by whoever applies the outbox (see OutboxRelayService).
 */
@Injectable()
export class ProductRepository {
  constructor(
    private readonly versioned: VersionedWriter,
    private readonly reader: RecordReader,
    private readonly membership: CategoryMembershipRepository,
  ) {}

  /** Live documents for ids, from the reader endpoint; deleted and unknown ids are simply absent. */
  findDocs(ids: readonly number[]): Promise<Map<number, Buffer>> {
    return this.reader.findDocs(PRODUCT, ids);
  }

  /** Live documents by sku, from the reader endpoint (the unique sku index): sku -> id and document. */
  async findDocsBySku(skus: readonly string[]): Promise<Map<string, { id: number; doc: Buffer }>> {
    const rows = await this.reader.query<{ id: number; sku: string; doc: Buffer }>(
      'SELECT id, sku, doc FROM products WHERE sku IN (?) AND deleted_at IS NULL',
      [skus],
    );
    const out = new Map<string, { id: number; doc: Buffer }>();
    for (const r of rows) out.set(r.sku, { id: Number(r.id), doc: r.doc });
    return out;
  }

  /** Current committed state from the writer (what Redis must converge to), deleted ids included. */
  findStates(ids: readonly number[]): Promise<RecordState[]> {
    return this.versioned.findStates(PRODUCT, ids);
  }

  async upsert(id: number, expect: Expect, build: RowBuilder): Promise<ProductWriteResult> {
    const [result] = await this.versioned.write(PRODUCT, async (em) => {
      const [cur] = await this.versioned.lock(em, PRODUCT, [id]);
      const exists = cur !== undefined && cur.deleted_at === null;
      if (expect !== undefined && (!exists || (expect !== 'exists' && cur.version !== expect))) {
        throw new VersionMismatch(exists ? cur.version : null);
      }
      const version = (cur?.version ?? 0) + 1;
      const row = build(version, new Date());
      await this.assertSkusFree(em, [{ id, sku: row.sku }]);
      await this.insertRows(em, [{ id, version, row, isNew: cur === undefined }]);
      const memberships = await this.membership.sync(em, [
        { productId: id, version, categoryIds: row.categoryIds },
      ]);
      await this.versioned.insertOutbox(em, PRODUCT, [{ id, version }]);
      return [{ id, version, doc: row.doc, created: !exists, memberships }];
    });
    return result;
  }

  /**
   * All-or-nothing for the given items; the caller has validated them and removed duplicates.
   * Throws UniqueTaken if any sku belongs to another product.
   */
  async upsertMany(items: ReadonlyArray<{ id: number; build: RowBuilder }>): Promise<ProductWriteResult[]> {
    return this.versioned.write(PRODUCT, async (em) => {
      const locked = new Map(
        (
          await this.versioned.lock(
            em,
            PRODUCT,
            items.map((i) => i.id),
          )
        ).map((r) => [Number(r.id), r]),
      );
      const now = new Date();
      const planned = items.map(({ id, build }) => {
        const cur = locked.get(id);
        const version = (cur?.version ?? 0) + 1;
        return {
          id,
          version,
          row: build(version, now),
          created: cur === undefined || cur.deleted_at !== null,
          isNew: cur === undefined,
        };
      });
      await this.assertSkusFree(
        em,
        planned.map((p) => ({ id: p.id, sku: p.row.sku })),
      );
      await this.insertRows(em, planned);
      const memberships = await this.membership.sync(
        em,
        planned.map((p) => ({ productId: p.id, version: p.version, categoryIds: p.row.categoryIds })),
      );
      await this.versioned.insertOutbox(em, PRODUCT, planned);
      const byProduct = new Map<number, Membership[]>();
      for (const m of memberships) byProduct.set(m.productId, [...(byProduct.get(m.productId) ?? []), m]);
      return planned.map((p) => ({
        id: p.id,
        version: p.version,
        doc: p.row.doc,
        created: p.created,
        memberships: byProduct.get(p.id) ?? [],
      }));
    });
  }

  /** Deletes keep a tombstone row (version bumped, document and sku cleared). */
  async softDelete(id: number, expect: Expect): Promise<ProductWriteResult> {
    const [result] = await this.versioned.write(PRODUCT, async (em) => {
      const [cur] = await this.versioned.lock(em, PRODUCT, [id]);
      if (cur === undefined || cur.deleted_at !== null) throw new NotStored();
      if (typeof expect === 'number' && cur.version !== expect) throw new VersionMismatch(cur.version);
      const version = cur.version + 1;
      await em.query(
        'UPDATE products SET version = ?, doc = NULL, sku = NULL, updated_at = ?, deleted_at = ? WHERE id = ?',
        [version, new Date(), new Date(), id],
      );
      const memberships = await this.membership.sync(em, [{ productId: id, version, categoryIds: [] }]);
      await this.versioned.insertOutbox(em, PRODUCT, [{ id, version }]);
      return [{ id, version, doc: null, created: false, memberships }];
    });
    return result;
  }

  private async assertSkusFree(
    em: EntityManager,
    items: ReadonlyArray<{ id: number; sku: string }>,
  ): Promise<void> {
    const rows: Array<{ id: number; sku: string }> = await em.query(
      'SELECT id, sku FROM products WHERE sku IN (?) FOR UPDATE',
      [items.map((i) => i.sku)],
    );
    const owner = new Map(rows.map((r) => [r.sku, Number(r.id)]));
    const ids = new Set(items.map((i) => i.id));
    for (const item of items) {
      const holder = owner.get(item.sku);
      // A sku held by a product of this same write moves with it only if that product changes sku too.
      if (
        holder !== undefined &&
        holder !== item.id &&
        !(ids.has(holder) && !items.some((i) => i.id === holder && i.sku === item.sku))
      ) {
        throw new UniqueTaken(item.sku);
      }
    }
  }

  /**
   * Rows this transaction locked are replaced; rows it found absent are inserted with a plain INSERT, so
   * two concurrent creates of one id cannot both write version 1 (the second hits the primary key and is
   * retried, then sees the row and writes version 2).
   */
  private async insertRows(
    em: EntityManager,
    rows: ReadonlyArray<{ id: number; version: number; row: ProductRow; isNew: boolean }>,
  ): Promise<void> {
    const now = new Date();
    const values = (isNew: boolean) =>
      rows
        .filter((r) => r.isNew === isNew)
        .map((r) => [r.id, r.row.sku, r.row.status, r.version, r.row.doc, now, now, null]);
    const created = values(true);
    const replaced = values(false);
    const insert =
      'INSERT INTO products (id, sku, status, version, doc, created_at, updated_at, deleted_at) VALUES ?';
    if (created.length) await em.query(insert, [created]);
    if (replaced.length)
      await em.query(
        `${insert} ON DUPLICATE KEY UPDATE sku = VALUES(sku), status = VALUES(status),
           version = VALUES(version), doc = VALUES(doc), updated_at = VALUES(updated_at), deleted_at = NULL`,
        [replaced],
      );
  }
}
