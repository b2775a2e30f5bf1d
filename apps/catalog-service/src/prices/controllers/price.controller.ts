import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig, marketsOf } from '@app/config';
import { cacheControl } from '@catalog/common/http-caching';
import { MARKET_SCHEMA, parseMarket } from '@catalog/common/ids';
import { scopedController } from '@catalog/common/scoped-controller';
import { ScopedHandlers } from '@catalog/common/scoped-handlers';
import { parsePriceInput, priceEtagHead } from '../dtos/price-document';
import * as dto from '../dtos/price.dto';
import { PriceReadService } from '../services/price-read.service';
import { PriceWriteService } from '../services/price-write.service';

/** What the price routes do: markets checked against MARKETS, bodies against PriceInputDto. */
@Injectable()
export class PriceHandlers extends ScopedHandlers<dto.PriceInputDto, dto.PriceBatchResultDto> {
  constructor(reads: PriceReadService, writes: PriceWriteService, @Inject(APP_CONFIG) config: AppConfig) {
    const markets = marketsOf(config);
    super({
      noun: 'price',
      scope: (raw) => parseMarket(raw, markets),
      parse: parsePriceInput,
      etagHead: priceEtagHead,
      writes,
      maxBatchItems: config.MAX_BATCH_ITEMS,
      read: {
        maxIds: config.MAX_IDS,
        markets,
        cacheControl: cacheControl(config, 'productList'),
        tag: (market, id) => `price:${market}:${id}`,
        read: (ids, market) => reads.getMany(ids, market),
      },
    });
  }
}

/** `/v1/prices`: GET ?ids=&market=, PUT and DELETE /{market}/{id}, POST /batch. */
export const PriceController = scopedController(
  'PriceController',
  {
    path: 'prices',
    scope: { name: 'market', schema: MARKET_SCHEMA },
    list: {
      operationId: 'listPrices',
      summary: "Bulk read of products' prices in one market",
      dto: dto.PriceListDto,
      xkey: 'price:{market}:{id} per requested id',
      etag: 'Strong validator over every (id, version) and missing id',
    },
    put: {
      operationId: 'putPrice',
      summary: "Set a product's price in one market",
      input: dto.PriceInputDto,
      answer: dto.PriceDto,
      invalid: 'Invalid price, malformed id or unknown market',
    },
    delete: { operationId: 'deletePrice', summary: "Delete a product's price in one market" },
    batch: {
      operationId: 'batchUpsertPrices',
      summary: 'Set up to 1000 prices, in any markets',
      request: dto.PriceBatchRequestDto,
      response: dto.PriceBatchResponseDto,
    },
  },
  PriceHandlers,
);
