import { Inject, Injectable } from '@nestjs/common';
import type { Pool, TypeCast } from 'mysql2';
import { DataSource, EntityManager } from 'typeorm';
import { MYSQL_READER, MYSQL_WRITER } from '@app/database';
import type { ProductState } from './product-cache.repository';

export interface ProductRow {
  sku: string;
  status: string;
  doc: string;
}

/** Builds the stored row once the new version is known (the document embeds its version). */
export type RowBuilder = (version: number, now: Date) => ProductRow;

export interface WriteResult extends ProductState {
  created: boolean;
}

/** undefined: unconditional; 'exists': the product must exist (If-Match: *); number: that exact version. */
export type Expect = number | 'exists' | undefined;

export class VersionMismatch extends Error {
  constructor(readonly current: number | null) {
    super('version mismatch');
  }
}
export class SkuTaken extends Error {
  constructor(readonly sku: string) {
    super(`sku ${sku} belongs to another product`);
  }
}
export class NotStored extends Error {}

interface LockedRow {
  id: number;
  version: number;
  deleted_at: Date | null;
}

type MysqlCallbackPool = Pick<Pool, 'query'>;
const docAsBuffer: TypeCast = (field, next) => (field.name === 'doc' ? field.buffer() : next());

const DEADLOCK = 'ER_LOCK_DEADLOCK';
const DUPLICATE = 'ER_DUP_ENTRY';

function errCode(e: unknown): string | undefined {
  const err = e as { code?: string; driverError?: { code?: string } };
  return err?.driverError?.code ?? err?.code;
}

/**
 * The system of record. Every write bumps the version in a transaction that also writes an outbox row,
 * so a crash after commit is repaired by whoever applies the outbox (see OutboxRelayService).
 */
@Injectable()
export class ProductRepository {
  constructor(
    @Inject(MYSQL_WRITER) private readonly writer: DataSource,
    @Inject(MYSQL_READER) private readonly reader: DataSource,
  ) {}

  /** Live documents for ids, from the reader endpoint; deleted and unknown ids are simply absent. */
  async findDocs(ids: readonly number[]): Promise<Map<number, Buffer>> {
    const rows = await this.readRaw<{ id: number; doc: Buffer }>(
      'SELECT id, doc FROM products WHERE id IN (?) AND deleted_at IS NULL',
      [ids],
    );
    const out = new Map<number, Buffer>();
    for (const r of rows) out.set(Number(r.id), r.doc);
    return out;
  }

  /** Live documents by sku, from the reader endpoint (the unique sku index): sku -> id and document. */
  async findDocsBySku(skus: readonly string[]): Promise<Map<string, { id: number; doc: Buffer }>> {
    const rows = await this.readRaw<{ id: number; sku: string; doc: Buffer }>(
      'SELECT id, sku, doc FROM products WHERE sku IN (?) AND deleted_at IS NULL',
      [skus],
    );
    const out = new Map<string, { id: number; doc: Buffer }>();
    for (const r of rows) out.set(r.sku, { id: Number(r.id), doc: r.doc });
    return out;
  }

  /**
   * The cold-read hot path goes straight to the reader's mysql2 pool (the one TypeORM manages), with the
   * document column as raw bytes: no QueryRunner per query, and no UTF-8 decode and re-encode of ~1 KB
   * per row on its way to Redis and the response (measured: npm run bench, cold-100).
   */
  private readRaw<T>(sql: string, values: unknown[]): Promise<T[]> {
    const pool = (this.reader.driver as unknown as { pool: MysqlCallbackPool }).pool;
    return new Promise((resolve, reject) =>
      pool.query({ sql, values, typeCast: docAsBuffer }, (err, rows) =>
        err ? reject(err) : resolve(rows as T[]),
      ),
    );
  }

  /** Current committed state from the writer (what Redis must converge to), deleted ids included. */
  async findStates(ids: readonly number[]): Promise<ProductState[]> {
    if (ids.length === 0) return [];
    const rows: Array<{ id: number; version: number; doc: string | null }> = await this.writer.query(
      'SELECT id, version, doc FROM products WHERE id IN (?)',
      [ids],
    );
    return rows.map((r) => ({ id: Number(r.id), version: r.version, doc: r.doc }));
  }

  async upsert(id: number, expect: Expect, build: RowBuilder): Promise<WriteResult> {
    return this.withRetry(() =>
      this.writer.transaction(async (em) => {
        const [cur] = await this.lock(em, [id]);
        const exists = cur !== undefined && cur.deleted_at === null;
        if (expect !== undefined && (!exists || (expect !== 'exists' && cur.version !== expect))) {
          throw new VersionMismatch(exists ? cur.version : null);
        }
        const version = (cur?.version ?? 0) + 1;
        const row = build(version, new Date());
        await this.assertSkusFree(em, [{ id, sku: row.sku }]);
        await this.insertRows(em, [{ id, version, row }]);
        await this.insertOutbox(em, [{ id, version }]);
        return { id, version, doc: row.doc, created: !exists };
      }),
    );
  }

  /**
   * All-or-nothing for the given items; the caller has validated them and removed duplicates.
   * Throws SkuTaken if any sku belongs to another product.
   */
  async upsertMany(items: ReadonlyArray<{ id: number; build: RowBuilder }>): Promise<WriteResult[]> {
    return this.withRetry(() =>
      this.writer.transaction(async (em) => {
        const locked = new Map(
          (
            await this.lock(
              em,
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
          };
        });
        await this.assertSkusFree(
          em,
          planned.map((p) => ({ id: p.id, sku: p.row.sku })),
        );
        await this.insertRows(em, planned);
        await this.insertOutbox(em, planned);
        return planned.map((p) => ({ id: p.id, version: p.version, doc: p.row.doc, created: p.created }));
      }),
    );
  }

  /** Deletes keep a tombstone row (version bumped, document and sku cleared). */
  async softDelete(id: number, expect: Expect): Promise<WriteResult> {
    return this.withRetry(() =>
      this.writer.transaction(async (em) => {
        const [cur] = await this.lock(em, [id]);
        if (cur === undefined || cur.deleted_at !== null) throw new NotStored();
        if (typeof expect === 'number' && cur.version !== expect) throw new VersionMismatch(cur.version);
        const version = cur.version + 1;
        await em.query(
          'UPDATE products SET version = ?, doc = NULL, sku = NULL, updated_at = ?, deleted_at = ? WHERE id = ?',
          [version, new Date(), new Date(), id],
        );
        await this.insertOutbox(em, [{ id, version }]);
        return { id, version, doc: null, created: false };
      }),
    );
  }

  private lock(em: EntityManager, ids: readonly number[]): Promise<LockedRow[]> {
    return em.query('SELECT id, version, deleted_at FROM products WHERE id IN (?) FOR UPDATE', [ids]);
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
        throw new SkuTaken(item.sku);
      }
    }
  }

  private async insertRows(
    em: EntityManager,
    rows: ReadonlyArray<{ id: number; version: number; row: ProductRow }>,
  ): Promise<void> {
    const now = new Date();
    const values = rows.map((r) => [r.id, r.row.sku, r.row.status, r.version, r.row.doc, now, now, null]);
    await em.query(
      `INSERT INTO products (id, sku, status, version, doc, created_at, updated_at, deleted_at) VALUES ?
       ON DUPLICATE KEY UPDATE sku = VALUES(sku), status = VALUES(status), version = VALUES(version),
         doc = VALUES(doc), updated_at = VALUES(updated_at), deleted_at = NULL`,
      [values],
    );
  }

  private async insertOutbox(
    em: EntityManager,
    rows: ReadonlyArray<{ id: number; version: number }>,
  ): Promise<void> {
    await em.query('INSERT INTO outbox (record_type, record_id, version) VALUES ?', [
      rows.map((r) => ['product', r.id, r.version]),
    ]);
  }

  private async withRetry<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return await fn();
      } catch (e) {
        if (errCode(e) === DUPLICATE)
          throw new SkuTaken(String((e as Error).message.match(/'([^']*)'/)?.[1] ?? ''));
        if (errCode(e) !== DEADLOCK || i >= attempts) throw e;
      }
    }
  }
}
