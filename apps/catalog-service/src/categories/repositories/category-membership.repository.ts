import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { MYSQL_READER, MYSQL_WRITER } from '@app/database';

/** One (category, product) pair as MySQL holds it: present or a tombstone, with the version that set it. */
export interface Membership {
  categoryId: number;
  productId: number;
  present: boolean;
  /** The product version whose write last changed this pair. */
  version: number;
}

/** A product's categories after one of its writes (a delete leaves it in none). */
export interface MembershipChange {
  productId: number;
  version: number;
  categoryIds: readonly number[];
}

interface Row {
  category_id: number;
  product_id: number;
  present: number;
  version: number;
}

const asMembership = (r: Row): Membership => ({
  categoryId: Number(r.category_id),
  productId: Number(r.product_id),
  present: r.present === 1,
  version: r.version,
});

/**
 * The `category_products` table. Pairs are changed only inside the product's own write transaction (which
 * holds the product row's lock), so the pairs of one product are never written by two transactions at once.
 */
@Injectable()
export class CategoryMembershipRepository {
  constructor(
    @Inject(MYSQL_WRITER) private readonly writer: DataSource,
    @Inject(MYSQL_READER) private readonly reader: DataSource,
  ) {}

  /**
   * Brings each product's pairs to its new categories: new pairs and re-entries become present at the new
   * version, pairs it left become tombstones at the new version, unchanged pairs keep theirs. Returns every
   * pair of these products as now stored (what the guarded Redis apply needs).
   */
  async sync(em: EntityManager, changes: readonly MembershipChange[]): Promise<Membership[]> {
    if (changes.length === 0) return [];
    const rows: Row[] = await em.query(
      'SELECT category_id, product_id, present, version FROM category_products WHERE product_id IN (?)',
      [changes.map((c) => c.productId)],
    );
    const current = new Map<string, Membership>();
    for (const m of rows.map(asMembership)) current.set(`${m.categoryId}:${m.productId}`, m);
    const upserts: Membership[] = [];
    for (const c of changes) {
      const wanted = new Set(c.categoryIds);
      for (const categoryId of wanted) {
        const had = current.get(`${categoryId}:${c.productId}`);
        if (had?.present) continue;
        upserts.push({ categoryId, productId: c.productId, present: true, version: c.version });
      }
      for (const m of current.values()) {
        if (m.productId === c.productId && m.present && !wanted.has(m.categoryId))
          upserts.push({ ...m, present: false, version: c.version });
      }
    }
    if (upserts.length > 0) {
      await em.query(
        `INSERT INTO category_products (category_id, product_id, present, version) VALUES ?
         ON DUPLICATE KEY UPDATE present = VALUES(present), version = VALUES(version)`,
        [upserts.map((m) => [m.categoryId, m.productId, m.present ? 1 : 0, m.version])],
      );
      for (const m of upserts) current.set(`${m.categoryId}:${m.productId}`, m);
    }
    return [...current.values()];
  }

  /** Every pair of these products, present or not, from the writer: what the outbox relay converges to. */
  async findByProducts(productIds: readonly number[]): Promise<Membership[]> {
    if (productIds.length === 0) return [];
    const rows: Row[] = await this.writer.query(
      'SELECT category_id, product_id, present, version FROM category_products WHERE product_id IN (?)',
      [productIds],
    );
    return rows.map(asMembership);
  }

  /**
   * One keyset page of a category's pairs, tombstones included, from the writer (a rebuild must not miss
   * what was committed before it read): product ids above `after`, ascending.
   */
  async rebuildPage(categoryId: number, after: number, limit: number): Promise<Membership[]> {
    const rows: Row[] = await this.writer.query(
      `SELECT category_id, product_id, present, version FROM category_products
       WHERE category_id = ? AND product_id > ? ORDER BY product_id LIMIT ?`,
      [categoryId, after, limit],
    );
    return rows.map(asMembership);
  }

  /**
   * The walk's fallback while a category's set is incomplete: present product ids above `after`, ascending.
   * A range scan of the primary key: never OFFSET, never a count. On the writer, so a listing read right
   * after an assignment shows it (the reader may be the other master, which applies it a little later: a
   * golden case's first page came back empty under load); on the reader when the writer does not answer
   * (a failover), where an answer a moment old beats a 503.
   */
  async page(categoryId: number, after: number, limit: number): Promise<number[]> {
    const sql = `SELECT product_id FROM category_products
       WHERE category_id = ? AND product_id > ? AND present = 1 ORDER BY product_id LIMIT ?`;
    const args = [categoryId, after, limit];
    let rows: Array<{ product_id: number }>;
    try {
      rows = await this.writer.query(sql, args);
    } catch {
      rows = await this.reader.query(sql, args);
    }
    return rows.map((r) => Number(r.product_id));
  }
}
