import { Injectable } from '@nestjs/common';
import { Metrics } from '@app/metrics';
import type { ScopedRowBuilder } from '@catalog/record-types/repositories/scoped-rows.repository';
import type { WriteResult } from '@catalog/record-types/repositories/versioned-writer';
import { RecordWrites } from '@catalog/record-types/services/record-writes.service';
import { scopedBatch } from '@catalog/record-types/services/scoped-batch';
import { parseStockBatchItem, serializeStock, stockEtagHead } from '../dtos/stock-document';
import type { StockBatchResultDto, StockInputDto } from '../dtos/stock.dto';
import { StockCaches } from '../repositories/stock-caches.repository';

const builder =
  (id: number, warehouse: string, input: StockInputDto): ScopedRowBuilder =>
  (version, now) => ({
    values: { quantity: input.quantity },
    doc: serializeStock(id, version, warehouse, now, input),
  });

/** Sets stock levels: MySQL first (level, version, outbox row in one transaction), then Redis, then edges. */
@Injectable()
export class StockWriteService {
  constructor(
    private readonly caches: StockCaches,
    private readonly recordWrites: RecordWrites,
    private readonly metrics: Metrics,
  ) {}

  async put(id: number, warehouse: string, input: StockInputDto): Promise<WriteResult> {
    const [result] = await this.recordWrites.upsertScoped(this.caches.of(warehouse), [
      { id, build: builder(id, warehouse, input) },
    ]);
    this.metrics.writes.inc({ type: 'stock', outcome: result.created ? 'created' : 'replaced' });
    return result;
  }

  async delete(id: number, warehouse: string, version: number | null | undefined): Promise<void> {
    await this.recordWrites.deleteScoped(this.caches.of(warehouse), id, version, {
      what: `the stock level of product ${id} in ${warehouse}`,
      etag: (v) => `"${stockEtagHead(id, warehouse)}${v}"`,
    });
    this.metrics.writes.inc({ type: 'stock', outcome: 'deleted' });
  }

  /** Invalid items are rejected one by one; the valid ones are written per warehouse (scopedBatch). */
  async batch(rawItems: readonly unknown[]): Promise<StockBatchResultDto[]> {
    const results = await scopedBatch(rawItems, {
      parse: parseStockBatchItem,
      scopeOf: (item) => item.warehouse,
      scopeName: 'warehouse',
      configured: (w) => this.caches.has(w),
      write: (warehouse, items) =>
        this.recordWrites.upsertScoped(
          this.caches.of(warehouse),
          items.map((i) => ({ id: i.id, build: builder(i.id, warehouse, i) })),
        ),
    });
    for (const r of results) this.metrics.writes.inc({ type: 'stock', outcome: r.result });
    return results.map(({ scope, ...r }) => ({ ...r, warehouse: scope }));
  }
}
