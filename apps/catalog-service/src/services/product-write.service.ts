import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ConflictError, NotFoundError, PreconditionFailedError, ServiceUnavailableError } from '@app/errors';
import { AppLogger } from '@app/logger';
import { Metrics } from '@app/metrics';
import { redisErrorKind } from '@app/redis';
import { serializeProduct } from '@catalog/dtos/product-document';
import { parseBatchItem } from '@catalog/dtos/product-input';
import type { BatchItemDto, BatchResultDto, ProductInputDto } from '@catalog/dtos/product.dto';
import { CategoryProductsCacheRepository } from '@catalog/categories/repositories/category-products-cache.repository';
import { ProductCacheRepository } from '@catalog/repositories/product-cache.repository';
import {
  NotStored,
  Expect,
  ProductRepository,
  RowBuilder,
  SkuTaken,
  VersionMismatch,
  WriteResult,
  WriterUnavailable,
} from '@catalog/repositories/product.repository';
import { EdgePurgerService } from './edge-purger.service';
import { productEtag } from './product-read.service';

export interface Precondition {
  /** undefined: unconditional; null: `If-Match: *` (must exist); number: that version. */
  version?: number | null;
}

const builder =
  (id: number, input: ProductInputDto): RowBuilder =>
  (version, now) => ({
    sku: input.sku,
    status: input.status,
    doc: serializeProduct(id, version, now, input),
    categoryIds: input.categoryIds ?? [],
  });

/**
 * MySQL first (version and outbox row in one transaction), then Redis, then the caches at the edge.
 * If the process dies after the commit, the outbox relay finishes the job (OutboxRelayService).
 */
@Injectable()
export class ProductWriteService {
  constructor(
    private readonly products: ProductRepository,
    private readonly cache: ProductCacheRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly logger: AppLogger,
    private readonly purger: EdgePurgerService,
    private readonly categorySets: CategoryProductsCacheRepository,
  ) {}

  async put(id: number, input: ProductInputDto, pre: Precondition): Promise<WriteResult> {
    const result = await this.translate(
      () => this.products.upsert(id, expectation(pre), builder(id, input)),
      id,
      pre,
    );
    await this.afterCommit([result]);
    this.metrics.writes.inc({ type: 'product', outcome: result.created ? 'created' : 'replaced' });
    return result;
  }

  async delete(id: number, pre: Precondition): Promise<void> {
    const result = await this.translate(() => this.products.softDelete(id, expectation(pre)), id, pre);
    await this.afterCommit([result]);
    this.metrics.writes.inc({ type: 'product', outcome: 'deleted' });
  }

  /** Invalid items are rejected one by one; the valid ones are written together. */
  async batch(rawItems: readonly unknown[]): Promise<BatchResultDto[]> {
    const results = new Array<BatchResultDto>(rawItems.length);
    const valid: Array<{ index: number; item: BatchItemDto }> = [];
    const seenIds = new Set<number>();
    const seenSkus = new Set<string>();
    rawItems.forEach((raw, index) => {
      const parsed = parseBatchItem(raw);
      if (!parsed.ok) {
        results[index] = { id: idOf(raw), result: 'rejected', errors: parsed.errors };
      } else if (seenIds.has(parsed.value.id)) {
        results[index] = {
          id: parsed.value.id,
          result: 'rejected',
          errors: ['id: appears earlier in this batch'],
        };
      } else if (seenSkus.has(parsed.value.sku)) {
        results[index] = {
          id: parsed.value.id,
          result: 'rejected',
          errors: ['sku: appears earlier in this batch'],
        };
      } else {
        seenIds.add(parsed.value.id);
        seenSkus.add(parsed.value.sku);
        valid.push({ index, item: parsed.value });
      }
    });

    const written = await this.writeValid(valid);
    for (const { index, result } of written) results[index] = result;
    const committed = written.flatMap((w) => (w.write ? [w.write] : []));
    await this.afterCommit(committed);
    for (const r of results) this.metrics.writes.inc({ type: 'product', outcome: r.result });
    return results;
  }

  private async writeValid(valid: Array<{ index: number; item: BatchItemDto }>) {
    const asResult = (index: number, w: WriteResult) => ({
      index,
      write: w,
      result: { id: w.id, result: w.created ? 'created' : 'replaced', version: w.version } as BatchResultDto,
    });
    if (valid.length === 0) return [];
    try {
      const writes = await this.products.upsertMany(
        valid.map(({ item }) => ({ id: item.id, build: builder(item.id, item) })),
      );
      return writes.map((w, i) => asResult(valid[i].index, w));
    } catch (e) {
      if (e instanceof WriterUnavailable) throw writerUnavailable(e);
      if (!(e instanceof SkuTaken)) throw e;
    }
    // A sku conflict fails the whole statement: fall back to one transaction per item to find the culprits.
    const out = [];
    const rejected = (index: number, id: number, error: string) => ({
      index,
      write: undefined,
      result: { id, result: 'rejected', errors: [error] } as BatchResultDto,
    });
    for (const { index, item } of valid) {
      try {
        out.push(asResult(index, await this.products.upsert(item.id, undefined, builder(item.id, item))));
      } catch (e) {
        if (e instanceof SkuTaken) {
          out.push(rejected(index, item.id, `sku: ${item.sku} belongs to another product`));
        } else if (e instanceof WriterUnavailable) {
          // Items written before still stand and are answered as such; the rest are to be sent again.
          if (!out.some((o) => o.write)) throw writerUnavailable(e);
          out.push(
            rejected(index, item.id, 'unavailable: the database is failing over; send this item again'),
          );
        } else {
          throw e;
        }
      }
    }
    return out;
  }

  private async translate<T>(fn: () => Promise<T>, id: number, pre: Precondition): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof VersionMismatch) {
        throw new PreconditionFailedError(
          e.current === null
            ? `product ${id} does not exist`
            : `product ${id} is at ${productEtag(id, e.current)}, not ${pre.version === null ? '*' : productEtag(id, pre.version ?? 0)}`,
        );
      }
      if (e instanceof NotStored) throw new NotFoundError(`product ${id} does not exist`);
      if (e instanceof SkuTaken) throw new ConflictError(`sku ${e.sku} belongs to another product`);
      if (e instanceof WriterUnavailable) throw writerUnavailable(e);
      throw e;
    }
  }

  /**
   * Best effort: what fails here stays in the outbox and the relay applies it within its bound. The Redis
   * update also publishes the invalidation every node's purger reads; the answer waits (up to PURGE_WAIT_MS)
   * until this node's own Varnish has purged it, so a client reading back through the same node sees its write.
   */
  private async afterCommit(writes: readonly WriteResult[]): Promise<void> {
    if (writes.length === 0) return;
    if (this.config.CATALOG_FAILPOINT === 'after-mysql-commit') process.kill(process.pid, 'SIGKILL');
    let invalidation: string | null = null;
    try {
      const applied = await this.cache.apply(writes, {
        tombstoneTtl: this.config.TOMBSTONE_TTL_SECONDS,
        skuTtl: this.config.CACHE_TTL_SECONDS,
        streamMaxLen: this.config.PURGE_STREAM_MAXLEN,
        node: this.config.NODE_NAME,
        source: 'request',
      });
      invalidation = applied.invalidation;
      await this.categorySets.apply(writes.flatMap((w) => w.memberships));
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
    if (invalidation !== null && !(await this.purger.waitFor(invalidation, this.config.PURGE_WAIT_MS))) {
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
 * the row could not be read back, the body says that the write may have been stored: a retried PUT is safe.
 */
function writerUnavailable(e: WriterUnavailable): ServiceUnavailableError {
  return new ServiceUnavailableError(
    e.outcomeUnknown
      ? 'the database is failing over; this write may have been stored'
      : 'the database is failing over',
    { outcomeUnknown: e.outcomeUnknown },
    2,
  );
}

function expectation(pre: Precondition): Expect {
  return pre.version === undefined ? undefined : pre.version === null ? 'exists' : pre.version;
}

function idOf(raw: unknown): number | null {
  const id = (raw as { id?: unknown } | null)?.id;
  return typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : null;
}
