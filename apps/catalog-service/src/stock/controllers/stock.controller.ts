import { Body, Controller, Headers, Inject, Param, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { APP_CONFIG, AppConfig, marketsOf } from '@app/config';
import { ValidationError } from '@app/errors';
import { cacheControl } from '@catalog/common/http-caching';
import {
  ReadRequest,
  ReadRequestParam,
  ApiMarketRead,
  ApiScopedBatch,
  ApiScopedDelete,
  ApiScopedWrite,
} from '@catalog/common/scoped-endpoints';
import { ScopedHandlers } from '@catalog/common/scoped-handlers';
import { parseStockInput, stockEtagHead } from '../dtos/stock-document';
import * as dto from '../dtos/stock.dto';
import { StockCaches } from '../repositories/stock-caches.repository';
import { StockReadService } from '../services/stock-read.service';
import { StockWriteService } from '../services/stock-write.service';

const WAREHOUSE = { name: 'warehouse', schema: { type: 'string', pattern: dto.WAREHOUSE.source } };

@ApiTags('stock')
@Controller({ path: 'stock', version: '1' })
export class StockController {
  private readonly handlers: ScopedHandlers<dto.StockInputDto, dto.StockBatchResultDto>;

  constructor(
    reads: StockReadService,
    writes: StockWriteService,
    caches: StockCaches,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.handlers = new ScopedHandlers({
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

  @ApiMarketRead(
    'listStock',
    "Products' availability in one market",
    dto.StockListDto,
    'stock:{id} per requested id',
    'Strong validator over every warehouse level read and missing id',
  )
  list(@ReadRequestParam() req: ReadRequest): Promise<Buffer | undefined> {
    return this.handlers.list(req);
  }

  @ApiScopedWrite(
    WAREHOUSE,
    'putStock',
    "Set a product's stock level in one warehouse",
    dto.StockInputDto,
    dto.StockDto,
    'Invalid level, malformed id or unknown warehouse',
  )
  put(
    @Param('warehouse') warehouse: string,
    @Param('id') id: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    return this.handlers.put(warehouse, id, body, reply);
  }

  @ApiScopedDelete(WAREHOUSE, 'deleteStock', "Delete a product's stock level in one warehouse")
  remove(
    @Param('warehouse') warehouse: string,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<void> {
    return this.handlers.remove(warehouse, id, ifMatch);
  }

  @ApiScopedBatch(
    'batchSetStock',
    'Set up to 1000 stock levels, in any warehouses',
    dto.StockBatchRequestDto,
    dto.StockBatchResponseDto,
  )
  batch(@Body() body: unknown): Promise<dto.StockBatchResponseDto> {
    return this.handlers.batch(body);
  }
}
