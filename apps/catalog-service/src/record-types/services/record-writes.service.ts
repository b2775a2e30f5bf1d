import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { NotFoundError, PreconditionFailedError, ServiceUnavailableError } from '@app/errors';
import { AppLogger } from '@app/logger';
import { Metrics } from '@app/metrics';
import { redisErrorKind } from '@app/redis';
import { EdgePurgerService } from '@catalog/invalidation/services/edge-purger.service';
import type { RecordType } from '../record-type';
import { RecordTypeRegistry } from '../record-type.registry';
import type { ApplyOptions, RecordCacheRepository } from '../repositories/record-cache.repository';
import { ScopedRowBuilder, ScopedRowsRepository } from '../repositories/scoped-rows.repository';
import {
  Expect,
  NotStored,
  VersionMismatch,
  WriteResult,
  WriterUnavailable,
} from '../repositories/versioned-writer';

/**
 * What every record type's write does after MySQL committed: the guarded Redis apply (which also publishes
 * the invalidation entry), then a wait for this node's own edge purge.
 */
@Injectable()
export class RecordWrites {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly logger: AppLogger,
    private readonly purger: EdgePurgerService,
    private readonly registry: RecordTypeRegistry,
    private readonly rows: ScopedRowsRepository,
  ) {}

  /**
   * A write of a scoped record type (prices of a market, stock of a warehouse): the versioned transaction,
   * a 503 with Retry-After when the writer is away, then the after-commit apply.
   */
  async upsertScoped(
    cache: RecordCacheRepository,
    items: ReadonlyArray<{ id: number; build: ScopedRowBuilder }>,
  ): Promise<WriteResult[]> {
    let writes: WriteResult[];
    try {
      writes = await this.rows.upsertMany(cache.type, items);
    } catch (e) {
      if (e instanceof WriterUnavailable) throw writerUnavailable(e);
      throw e;
    }
    await this.afterCommit(cache, writes);
    return writes;
  }

  /**
   * A delete of a scoped record type (a price, a stock level): the tombstone in MySQL, then the apply (the
   * key becomes a tombstone, the answers holding it are purged). `expected`: If-Match (parseIfMatch).
   */
  async deleteScoped(
    cache: RecordCacheRepository,
    id: number,
    expected: number | null | undefined,
    describe: { what: string; etag: (version: number) => string },
  ): Promise<WriteResult> {
    let write: WriteResult;
    try {
      write = await this.rows.softDelete(cache.type, id, expectation(expected));
    } catch (e) {
      throw writeProblem(e, describe.what, describe.etag, expected);
    }
    await this.afterCommit(cache, [write]);
    return write;
  }

  applyOptions(type: RecordType, source: ApplyOptions['source']): ApplyOptions {
    return {
      tombstoneTtl: type.ttl.tombstone(this.config),
      indexTtl: type.uniqueIndex ? type.ttl.cache(this.config) : 0,
      streamMaxLen: this.config.PURGE_STREAM_MAXLEN,
      node: this.config.NODE_NAME,
      source,
    };
  }

  /**
   * Best effort: what fails here stays in the outbox and the relay applies it within its bound. The Redis
   * update also publishes the invalidation every node's purger reads; the answer waits (up to PURGE_WAIT_MS)
   * until this node's own Varnish has purged it, so a client reading back through the same node sees its write.
   */
  async afterCommit(cache: RecordCacheRepository, writes: readonly WriteResult[]): Promise<void> {
    if (writes.length === 0) return;
    if (this.config.CATALOG_FAILPOINT === 'after-mysql-commit') process.kill(process.pid, 'SIGKILL');
    let invalidation: string | null = null;
    try {
      const applied = await cache.apply(writes, this.applyOptions(cache.type, 'request'));
      invalidation = applied.invalidation;
      await this.registry.applyFollowers(cache.type.name, writes);
      if (applied.underOom) {
        this.metrics.redisErrors.inc({ op: 'write', kind: 'oom' });
        this.logger
          .channel('redis')
          .warn('redis is full (OOM): existing keys replaced, new ones left to MySQL', {
            ids: writes.length,
          });
      }
    } catch (e) {
      const kind = redisErrorKind(e);
      this.metrics.redisErrors.inc({ op: 'write', kind });
      const log = this.logger.channel('redis');
      (kind === 'oom' ? log.error.bind(log) : log.warn.bind(log))(
        `redis update after commit failed, left to the outbox relay: ${(e as Error).message}`,
        { ids: writes.length, kind },
      );
    }
    if (
      invalidation !== null &&
      !(await this.purger.waitFor(invalidation, this.config.PURGE_WAIT_MS, cache.connection))
    ) {
      this.logger
        .channel('invalidation')
        .warn(`answering before this node's purge (waited ${this.config.PURGE_WAIT_MS} ms)`, {
          invalidation,
          ids: writes.length,
        });
    }
  }
}

/**
 * The writer is failing over (or down): 503 with Retry-After, never 500. When a COMMIT's answer was lost and
 * the row could not be read back, the body says that the write may have been stored: a retried write is safe.
 */
export function writerUnavailable(e: WriterUnavailable): ServiceUnavailableError {
  return new ServiceUnavailableError(
    e.outcomeUnknown
      ? 'the database is failing over; this write may have been stored'
      : 'the database is failing over',
    { outcomeUnknown: e.outcomeUnknown },
    2,
  );
}

/** If-Match as the write path takes it: undefined unconditional, null (`*`) must exist, else that version. */
export function expectation(version: number | null | undefined): Expect {
  return version === undefined ? undefined : version === null ? 'exists' : version;
}

/**
 * What a failed write answers, alike for every record type: 412 (If-Match names another version), 404
 * (nothing to change), 503 (writer away); other errors pass through. `what` names the record.
 */
export function writeProblem(
  e: unknown,
  what: string,
  etag: (version: number) => string,
  expected: number | null | undefined,
): unknown {
  if (e instanceof VersionMismatch)
    return new PreconditionFailedError(
      e.current === null
        ? `${what} does not exist`
        : `${what} is at ${etag(e.current)}, not ${expected === null ? '*' : etag(expected ?? 0)}`,
    );
  if (e instanceof NotStored) return new NotFoundError(`${what} does not exist`);
  if (e instanceof WriterUnavailable) return writerUnavailable(e);
  return e;
}
