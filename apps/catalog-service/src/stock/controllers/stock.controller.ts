import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig, marketsOf } from '@app/config';
import { ValidationError } from '@app/errors';
import { cacheControl } from '@catalog/common/http-caching';
import { scopedController } from '@catalog/common/scoped-controller';
import { ScopedHandlers } from '@catalog/common/scoped-handlers';
import { parseStockInput, stockEtagHead } from '../dtos/stock-document';
import * as dto from '../dtos/stock.dto';
import { StockCaches } from '../repositories/stock-caches.repository';
import { StockReadService } from '../services/stock-read.service';
import { StockWriteService } from '../services/stock-write.service';

/** What the stock routes do: warehouses checked against MARKETS, bodies against StockInputDto. */
@Injectable()
export class StockHandlers extends ScopedHandlers<dto.StockInputDto, dto.StockBatchResultDto> {
  constructor(
    reads: StockReadService,
    writes: StockWriteService,
    caches: StockCaches,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    super({
      noun: 'stock level',
      scope: (warehouse) => {
        if (!caches.has(warehouse))
          throw new ValidationError(`unknown warehouse ${JSON.stringify(warehouse.slice(0, 40))}`);
        return warehouse;
      },
      parse: parseStockInput,
      etagHead: stockEtagHead,
      writes,
      maxBatchItems: config.MAX_BATCH_ITEMS,
      read: {
        maxIds: config.MAX_IDS,
        markets: marketsOf(config),
        cacheControl: cacheControl(config, 'stock'),
        tag: (_, id) => `stock:${id}`,
        read: (ids, market) => reads.getMany(ids, market),
      },
    });
  }
}

/** `/v1/stock`: GET ?ids=&market= (availability), PUT and DELETE /{warehouse}/{id}, POST /batch. */
export const StockController = scopedController(
  'StockController',
  {
    path: 'stock',
    scope: { name: 'warehouse', schema: { type: 'string', pattern: dto.WAREHOUSE.source } },
    list: {
      operationId: 'listStock',
      summary: "Products' availability in one market",
      dto: dto.StockListDto,
      xkey: 'stock:{id} per requested id',
      etag: 'Strong validator over every warehouse level read and missing id',
    },
    put: {
      operationId: 'putStock',
      summary: "Set a product's stock level in one warehouse",
      input: dto.StockInputDto,
      answer: dto.StockDto,
      invalid: 'Invalid level, malformed id or unknown warehouse',
    },
    delete: { operationId: 'deleteStock', summary: "Delete a product's stock level in one warehouse" },
    batch: {
      operationId: 'batchSetStock',
      summary: 'Set up to 1000 stock levels, in any warehouses',
      request: dto.StockBatchRequestDto,
      response: dto.StockBatchResponseDto,
    },
  },
  StockHandlers,
);
