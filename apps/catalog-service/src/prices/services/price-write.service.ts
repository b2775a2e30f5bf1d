import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig, marketsOf } from '@app/config';
import { ServiceUnavailableError } from '@app/errors';
import { Metrics } from '@app/metrics';
import { WriteResult, WriterUnavailable } from '@catalog/record-types/repositories/versioned-writer';
import { RecordWrites, writerUnavailable } from '@catalog/record-types/services/record-writes.service';
import { parsePriceBatchItem, serializePrice } from '../dtos/price-document';
import type { PriceBatchResultDto, PriceInputDto } from '../dtos/price.dto';
import { PriceCaches } from '../repositories/price-caches.repository';
import { PriceRepository, PriceRowBuilder } from '../repositories/price.repository';

const builder =
  (id: number, market: string, input: PriceInputDto): PriceRowBuilder =>
  (version, now) => ({
    amount: input.amount,
    strikeThrough: input.strikeThrough ?? null,
    validFrom: input.validFrom ? new Date(input.validFrom) : null,
    validTo: input.validTo ? new Date(input.validTo) : null,
    doc: serializePrice(id, version, market, now, input),
  });

/** MySQL first (price, version and outbox row in one transaction), then Redis, then the edge caches. */
@Injectable()
export class PriceWriteService {
  private readonly markets: ReadonlyMap<string, string[]>;

  constructor(
    private readonly prices: PriceRepository,
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

  /**
   * Invalid items are rejected one by one; the valid ones are written in one transaction per market (a
   * market's prices are one record type), markets one after the other.
   */
  async batch(rawItems: readonly unknown[]): Promise<PriceBatchResultDto[]> {
    const results = new Array<PriceBatchResultDto>(rawItems.length);
    const byMarket = new Map<string, Array<{ index: number; id: number; input: PriceInputDto }>>();
    const seen = new Set<string>();
    rawItems.forEach((raw, index) => {
      const parsed = parsePriceBatchItem(raw);
      const reject = (errors: string[]) =>
        (results[index] = {
          id: parsed.ok ? parsed.value.id : null,
          market: parsed.ok ? parsed.value.market : null,
          result: 'rejected',
          errors,
        });
      if (!parsed.ok) return reject(parsed.errors);
      const { id, market } = parsed.value;
      if (!this.markets.has(market)) return reject([`market: ${market} is not configured`]);
      if (seen.has(`${market}:${id}`)) return reject(['id: appears earlier in this batch for this market']);
      seen.add(`${market}:${id}`);
      byMarket.set(market, [...(byMarket.get(market) ?? []), { index, id, input: parsed.value }]);
    });
    let written = 0;
    for (const [market, items] of byMarket) {
      let writes: WriteResult[];
      try {
        writes = await this.write(
          market,
          items.map((i) => ({ id: i.id, build: builder(i.id, market, i.input) })),
        );
      } catch (e) {
        // Markets written before still stand and are answered as such; this one is to be sent again.
        if (!(e instanceof ServiceUnavailableError && written > 0)) throw e;
        for (const i of items)
          results[i.index] = {
            id: i.id,
            market,
            result: 'rejected',
            errors: ['unavailable: the database is failing over; send this item again'],
          };
        continue;
      }
      written += writes.length;
      writes.forEach((w, k) => {
        results[items[k].index] = {
          id: w.id,
          market,
          result: w.created ? 'created' : 'replaced',
          version: w.version,
        };
      });
    }
    for (const r of results) this.metrics.writes.inc({ type: 'price', outcome: r.result });
    return results;
  }

  private async write(
    market: string,
    items: Parameters<PriceRepository['upsertMany']>[1],
  ): Promise<WriteResult[]> {
    let writes: WriteResult[];
    try {
      writes = await this.prices.upsertMany(market, items);
    } catch (e) {
      if (e instanceof WriterUnavailable) throw writerUnavailable(e);
      throw e;
    }
    await this.recordWrites.afterCommit(this.caches.of(market), writes);
    return writes;
  }
}
