import { Inject, Injectable } from '@nestjs/common';
import { backOff } from 'exponential-backoff';
import { DataSource, EntityManager } from 'typeorm';
import { MYSQL_WRITER, OutboxEntity } from '@app/database';
import { RecordType, rowsById } from '../record-type';
import type { RecordState } from './record-cache.repository';

export interface WriteResult extends RecordState {
  created: boolean;
}

/** undefined: unconditional; 'exists': the record must exist (If-Match: *); number: that exact version. */
export type Expect = number | 'exists' | undefined;

export class VersionMismatch extends Error {
  constructor(readonly current: number | null) {
    super('version mismatch');
  }
}
/** A unique value (a product's sku) belongs to another record. */
export class UniqueTaken extends Error {
  constructor(readonly value: string) {
    super(`${value} belongs to another record`);
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

export interface LockedRow {
  id: number;
  version: number;
  deleted_at: Date | null;
}

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
 * The versioned write every record type shares: MySQL first, in a TypeORM transaction that bumps the
 * version and writes an outbox row naming the record type, so a crash after commit is repaired by the
 * outbox relay. The type's repository supplies what the transaction does to its own rows.
 */
@Injectable()
export class VersionedWriter {
  constructor(@Inject(MYSQL_WRITER) private readonly writer: DataSource) {}

  /** Current committed state from the writer (what Redis must converge to), deleted ids included. */
  async findStates(type: RecordType, ids: readonly number[]): Promise<RecordState[]> {
    if (ids.length === 0) return [];
    const { where, params } = rowsById(type);
    const rows: Array<{ id: number; version: number; doc: string | null }> = await this.writer.query(
      `SELECT ${type.idColumn ?? 'id'} AS id, version, doc FROM ${type.table} WHERE ${where}`,
      [ids, ...params],
    );
    return rows.map((r) => ({ id: Number(r.id), version: r.version, doc: r.doc }));
  }

  /** Locks the rows of ids (absent ones simply are not returned) for the rest of the transaction. */
  lock(em: EntityManager, type: RecordType, ids: readonly number[]): Promise<LockedRow[]> {
    const { where, params } = rowsById(type);
    return em.query(
      `SELECT ${type.idColumn ?? 'id'} AS id, version, deleted_at FROM ${type.table} WHERE ${where} FOR UPDATE`,
      [ids, ...params],
    );
  }

  async insertOutbox(
    em: EntityManager,
    type: RecordType,
    rows: ReadonlyArray<{ id: number; version: number }>,
  ): Promise<void> {
    // One multi-row INSERT; updateEntity(false): no read-back of generated columns inside the transaction.
    await em
      .createQueryBuilder()
      .insert()
      .into(OutboxEntity)
      .values(rows.map((r) => ({ recordType: type.name, recordId: r.id, version: r.version })))
      .updateEntity(false)
      .execute();
  }

  /**
   * One versioned write: a READ COMMITTED transaction (no gap locks, so concurrent creates of new ids do not
   * deadlock each other; every row it changes is locked by id first), retried on contention and on a lost
   * writer (ATTEMPTS). A connection lost during COMMIT leaves the outcome open: the rows are read back from
   * the writer, and a write that did commit is answered as such, never as a failure.
   */
  async write<T extends WriteResult>(
    type: RecordType,
    work: (em: EntityManager) => Promise<T[]>,
  ): Promise<T[]> {
    try {
      return await backOff(() => this.attempt(type, work), {
        ...ATTEMPTS,
        retry: (e: unknown) => CONTENTION.has(errCode(e) ?? '') || racedCreate(e) || e instanceof Retry,
      });
    } catch (e) {
      if (e instanceof Retry) throw new WriterUnavailable(e.cause);
      if (CONTENTION.has(errCode(e) ?? '')) throw new WriterUnavailable(e);
      if (errCode(e) === DUPLICATE && !racedCreate(e))
        throw new UniqueTaken(String((e as Error).message.match(/'([^']*)'/)?.[1] ?? ''));
      throw e;
    }
  }

  private async attempt<T extends WriteResult>(
    type: RecordType,
    work: (em: EntityManager) => Promise<T[]>,
  ): Promise<T[]> {
    let planned: T[] | undefined;
    try {
      return await this.writer.transaction('READ COMMITTED', async (em) => {
        const result = await work(em);
        planned = result;
        return result;
      });
    } catch (e) {
      if (!unreachable(e)) throw e;
      if (planned === undefined) throw new Retry(e); // nothing was committed: safe to try again
      const outcome = await this.outcome(type, planned);
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
  private async outcome(
    type: RecordType,
    planned: readonly WriteResult[],
  ): Promise<'committed' | 'not-committed' | 'unknown'> {
    const rows = await backOff(
      () =>
        this.findStates(
          type,
          planned.map((p) => p.id),
        ),
      { ...ATTEMPTS, retry: (e: unknown) => unreachable(e) },
    ).catch((e: unknown) => {
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
