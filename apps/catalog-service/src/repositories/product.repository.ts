import { Inject, Injectable } from '@nestjs/common';
import { backOff } from 'exponential-backoff';
import type { Pool, TypeCast } from 'mysql2';
import { DataSource, EntityManager } from 'typeorm';
import { MYSQL_READER, MYSQL_WRITER } from '@app/database';
import {
  CategoryMembershipRepository,
  Membership,
} from '@catalog/categories/repositories/category-membership.repository';
import type { ProductState } from './product-cache.repository';

export interface ProductRow {
  sku: string;
  status: string;
  doc: string;
  /** The product's categories (its document's categoryIds), kept in category_products by the same write. */
  categoryIds: readonly number[];
}

/** Builds the stored row once the new version is known (the document embeds its version). */
export type RowBuilder = (version: number, now: Date) => ProductRow;

export interface WriteResult extends ProductState {
  created: boolean;
  /** Every (category, product) pair of this product after the write, for the category sets in Redis. */
  memberships: Membership[];
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
/**
 * The writer could not be reached, or lost the connection before COMMIT (nothing was committed), or lost it
 * during COMMIT and the outcome could not be settled by reading the row back. Temporary: try again.
 */
export class WriterUnavailable extends Error {
  constructor(
    override readonly cause: unknown,
    readonly outcomeUnknown = false,
  ) {
    super(`mysql writer unavailable: ${(cause as Error)?.message ?? String(cause)}`);
  }
}

interface LockedRow {
  id: number;
  version: number;
  deleted_at: Date | null;
}

type MysqlCallbackPool = Pick<Pool, 'query'>;
const docAsBuffer: TypeCast = (field, next) => (field.name === 'doc' ? field.buffer() : next());

const DUPLICATE = 'ER_DUP_ENTRY';
/** A transaction MySQL aborted to break a lock cycle or a lock wait: retried, as MySQL's manual advises. */
const CONTENTION = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);
/** Errors that mean "no usable writer right now" (down, failing over, restarting, read-only). */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'POOL_CLOSED',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'ER_CON_COUNT_ERROR',
  'ER_OPTION_PREVENTS_STATEMENT',
  'ER_QUERY_INTERRUPTED',
]);

function driverError(e: unknown): { code?: string; fatal?: boolean; message?: string } {
  const err = e as { code?: string; fatal?: boolean; driverError?: { code?: string; fatal?: boolean } };
  return err?.driverError ?? err ?? {};
}
function errCode(e: unknown): string | undefined {
  return driverError(e).code;
}
function unreachable(e: unknown): boolean {
  const d = driverError(e);
  return d.fatal === true || (d.code !== undefined && UNREACHABLE.has(d.code));
}
/** Two creates of the same id: the loser's plain INSERT hits the primary key, and its retry sees the row. */
function racedCreate(e: unknown): boolean {
  return errCode(e) === DUPLICATE && /for key '(?:[^']*\.)?PRIMARY'/.test(String((e as Error).message));
}

/**
 * Attempts of one write: contention and a lost writer are retried with full jitter (20 ms doubling, at most
 * 1 s apart): about 3 s in all, the time the DB HAProxy takes to move writes to the other master. Then the
 * caller answers 503 with Retry-After.
 */
const ATTEMPTS = {
  numOfAttempts: 6,
  startingDelay: 20,
  timeMultiple: 2,
  maxDelay: 1_000,
  jitter: 'full',
} as const;

/**
 * The system of record. Every write bumps the version in a transaction that also writes an outbox row,
 * so a crash after commit is repaired by whoever applies the outbox (see OutboxRelayService).
 */
@Injectable()
export class ProductRepository {
  constructor(
    @Inject(MYSQL_WRITER) private readonly writer: DataSource,
    @Inject(MYSQL_READER) private readonly reader: DataSource,
    private readonly membership: CategoryMembershipRepository,
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
    const [result] = await this.write(async (em) => {
      const [cur] = await this.lock(em, [id]);
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
      await this.insertOutbox(em, [{ id, version }]);
      return [{ id, version, doc: row.doc, created: !exists, memberships }];
    });
    return result;
  }

  /**
   * All-or-nothing for the given items; the caller has validated them and removed duplicates.
   * Throws SkuTaken if any sku belongs to another product.
   */
  async upsertMany(items: ReadonlyArray<{ id: number; build: RowBuilder }>): Promise<WriteResult[]> {
    return this.write(async (em) => {
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
      await this.insertOutbox(em, planned);
      return planned.map((p) => ({
        id: p.id,
        version: p.version,
        doc: p.row.doc,
        created: p.created,
        memberships: memberships.filter((m) => m.productId === p.id),
      }));
    });
  }

  /** Deletes keep a tombstone row (version bumped, document and sku cleared). */
  async softDelete(id: number, expect: Expect): Promise<WriteResult> {
    const [result] = await this.write(async (em) => {
      const [cur] = await this.lock(em, [id]);
      if (cur === undefined || cur.deleted_at !== null) throw new NotStored();
      if (typeof expect === 'number' && cur.version !== expect) throw new VersionMismatch(cur.version);
      const version = cur.version + 1;
      await em.query(
        'UPDATE products SET version = ?, doc = NULL, sku = NULL, updated_at = ?, deleted_at = ? WHERE id = ?',
        [version, new Date(), new Date(), id],
      );
      const memberships = await this.membership.sync(em, [{ productId: id, version, categoryIds: [] }]);
      await this.insertOutbox(em, [{ id, version }]);
      return [{ id, version, doc: null, created: false, memberships }];
    });
    return result;
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

  private async insertOutbox(
    em: EntityManager,
    rows: ReadonlyArray<{ id: number; version: number }>,
  ): Promise<void> {
    await em.query('INSERT INTO outbox (record_type, record_id, version) VALUES ?', [
      rows.map((r) => ['product', r.id, r.version]),
    ]);
  }

  /**
   * One versioned write: a READ COMMITTED transaction (no gap locks, so concurrent creates of new ids do not
   * deadlock each other; every row it changes is locked by id first), retried on contention and on a lost
   * writer (ATTEMPTS). A connection lost during COMMIT leaves the outcome open: the rows are read back from
   * the writer, and a write that did commit is answered as such, never as a failure.
   */
  private async write(work: (em: EntityManager) => Promise<WriteResult[]>): Promise<WriteResult[]> {
    try {
      return await backOff(() => this.attempt(work), {
        ...ATTEMPTS,
        retry: (e: unknown) => CONTENTION.has(errCode(e) ?? '') || racedCreate(e) || e instanceof Retry,
      });
    } catch (e) {
      if (e instanceof Retry) throw new WriterUnavailable(e.cause);
      if (CONTENTION.has(errCode(e) ?? '')) throw new WriterUnavailable(e);
      if (errCode(e) === DUPLICATE && !racedCreate(e))
        throw new SkuTaken(String((e as Error).message.match(/'([^']*)'/)?.[1] ?? ''));
      throw e;
    }
  }

  private async attempt(work: (em: EntityManager) => Promise<WriteResult[]>): Promise<WriteResult[]> {
    let planned: WriteResult[] | undefined;
    try {
      return await this.writer.transaction('READ COMMITTED', async (em) => {
        const result = await work(em);
        planned = result;
        return result;
      });
    } catch (e) {
      if (!unreachable(e)) throw e;
      if (planned === undefined) throw new Retry(e); // nothing was committed: safe to try again
      const outcome = await this.outcome(planned);
      if (outcome === 'committed') return planned;
      if (outcome === 'not-committed') throw new Retry(e);
      throw new WriterUnavailable(e, true);
    }
  }

  /**
   * Settles a COMMIT whose answer was lost, on the writer HAProxy names now (which has applied everything its
   * peer committed): `committed` when it holds exactly these versions and documents, `not-committed` when
   * every row is still below its planned version (safe to try again), `unknown` otherwise. Asked for a few
   * seconds, as the writer may be failing over; WriterUnavailable when nobody answers.
   */
  private async outcome(planned: readonly WriteResult[]): Promise<'committed' | 'not-committed' | 'unknown'> {
    const rows = await backOff(() => this.findStates(planned.map((p) => p.id)), {
      ...ATTEMPTS,
      retry: (e: unknown) => unreachable(e),
    }).catch((e: unknown) => {
      throw new WriterUnavailable(e, true);
    });
    const byId = new Map(rows.map((r) => [r.id, r]));
    const mine = (p: WriteResult) => {
      const row = byId.get(p.id);
      return row !== undefined && row.version === p.version && (row.doc ?? null) === (p.doc ?? null);
    };
    if (planned.every(mine)) return 'committed';
    if (planned.every((p) => (byId.get(p.id)?.version ?? 0) < p.version)) return 'not-committed';
    return 'unknown';
  }
}

/** An attempt that failed before COMMIT because the writer was unreachable: nothing was written. */
class Retry extends Error {
  constructor(override readonly cause: unknown) {
    super((cause as Error)?.message ?? String(cause));
  }
}
