import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig, marketsOf } from '@app/config';
import { Metrics } from '@app/metrics';
import type { ScopedRowBuilder } from '@catalog/record-types/repositories/scoped-rows.repository';
import type { WriteResult } from '@catalog/record-types/repositories/versioned-writer';
import { scopedBatch } from '@catalog/record-types/services/scoped-batch';
import { RecordWrites } from '@catalog/record-types/services/record-writes.service';
import { parsePriceBatchItem, priceEtagHead, serializePrice } from '../dtos/price-document';
import type { PriceBatchResultDto, PriceInputDto } from '../dtos/price.dto';
import { PriceCaches } from '../repositories/price-caches.repository';

const builder =
  (id: number, market: string, input: PriceInputDto): ScopedRowBuilder =>
  (version, now) => ({
    values: {
      amount: input.amount,
      strike_through: input.strikeThrough ?? null,
      valid_from: input.validFrom ? new Date(input.validFrom) : null,
      valid_to: input.validTo ? new Date(input.validTo) : null,
    },
    doc: serializePrice(id, version, market, now, input),
  });

/** MySQL first (price, version and outbox row in one transaction), then Redis, then the edge caches. */
@Injectable()
export class PriceWriteService {
  private readonly markets: ReadonlyMap<string, string[]>;

  constructor(
    private readonly caches: PriceCaches,
    private readonly recordWrites: RecordWrites,
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.markets = marketsOf(config);
  }

  async put(id: number, market: string, input: PriceInputDto): Promise<WriteResult> {
    const [result] = await this.write(market, [{ id, build: builder(id, market, input) }]);
    this.metrics.writes.inc({ type: 'price', outcome: result.created ? 'created' : 'replaced' });
    return result;
  }

  async delete(id: number, market: string, version: number | null | undefined): Promise<void> {
    await this.recordWrites.deleteScoped(this.caches.of(market), id, version, {
      what: `the price of product ${id} in ${market}`,
      etag: (v) => `"${priceEtagHead(id, market)}${v}"`,
    });
    this.metrics.writes.inc({ type: 'price', outcome: 'deleted' });
  }

  /** Invalid items are rejected one by one; the valid ones are written per market (scopedBatch). */
  async batch(rawItems: readonly unknown[]): Promise<PriceBatchResultDto[]> {
    const results = await scopedBatch(rawItems, {
      parse: parsePriceBatchItem,
      scopeOf: (item) => item.market,
      scopeName: 'market',
      configured: (market) => this.markets.has(market),
      write: (market, items) =>
        this.write(
          market,
          items.map((i) => ({ id: i.id, build: builder(i.id, market, i) })),
        ),
    });
    for (const r of results) this.metrics.writes.inc({ type: 'price', outcome: r.result });
    return results.map(({ scope, ...r }) => ({ ...r, market: scope }));
  }

  private write(market: string, items: ReadonlyArray<{ id: number; build: ScopedRowBuilder }>) {
    return this.recordWrites.upsertScoped(this.caches.of(market), items);
  }
}
