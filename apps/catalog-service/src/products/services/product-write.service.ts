import { Injectable } from '@nestjs/common';
import { ConflictError } from '@app/errors';
import { Metrics } from '@app/metrics';
import { serializeProduct } from '@catalog/products/dtos/product-document';
import { parseBatchItem } from '@catalog/products/dtos/product-input';
import type { BatchItemDto, BatchResultDto, ProductInputDto } from '@catalog/products/dtos/product.dto';
import {
  UniqueTaken,
  WriteResult,
  WriterUnavailable,
} from '@catalog/record-types/repositories/versioned-writer';
import { ProductCacheRepository } from '../repositories/product-cache.repository';
import { ProductRepository, RowBuilder } from '../repositories/product.repository';
import {
  expectation,
  RecordWrites,
  writeProblem,
  writerUnavailable,
} from '@catalog/record-types/services/record-writes.service';
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
    private readonly recordWrites: RecordWrites,
    private readonly metrics: Metrics,
  ) {}

  async put(id: number, input: ProductInputDto, pre: Precondition): Promise<WriteResult> {
    const result = await this.translate(
      () => this.products.upsert(id, expectation(pre.version), builder(id, input)),
      id,
      pre,
    );
    await this.recordWrites.afterCommit(this.cache, [result]);
    this.metrics.writes.inc({ type: 'product', outcome: result.created ? 'created' : 'replaced' });
    return result;
  }

  async delete(id: number, pre: Precondition): Promise<void> {
    const result = await this.translate(
      () => this.products.softDelete(id, expectation(pre.version)),
      id,
      pre,
    );
    await this.recordWrites.afterCommit(this.cache, [result]);
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
    await this.recordWrites.afterCommit(this.cache, committed);
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
      if (!(e instanceof UniqueTaken)) throw e;
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
        if (e instanceof UniqueTaken) {
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
      if (e instanceof UniqueTaken) throw new ConflictError(`sku ${e.value} belongs to another product`);
      throw writeProblem(e, `product ${id}`, (v) => productEtag(id, v), pre.version);
    }
  }
}

function idOf(raw: unknown): number | null {
  const id = (raw as { id?: unknown } | null)?.id;
  return typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : null;
}
