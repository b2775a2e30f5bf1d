import { Body, Controller, Inject, Param, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { APP_CONFIG, AppConfig, marketsOf } from '@app/config';
import { ValidationError } from '@app/errors';
import { cacheControl } from '@catalog/common/http-caching';
import { requireId } from '@catalog/common/ids';
import { batchItems } from '@catalog/common/parse-dto';
import {
  answerMarketRead,
  ReadRequest,
  ReadRequestParam,
  answerWrite,
  ApiMarketRead,
  ApiScopedBatch,
  ApiScopedWrite,
} from '@catalog/common/scoped-endpoints';
import { parseStockInput } from '../dtos/stock-document';
import * as dto from '../dtos/stock.dto';
import { StockCaches } from '../repositories/stock-caches.repository';
import { StockReadService } from '../services/stock-read.service';
import { StockWriteService } from '../services/stock-write.service';

export const stockEtag = (id: number, warehouse: string, version: number) =>
  `"st${id}-${warehouse}-v${version}"`;

@ApiTags('stock')
@Controller({ path: 'stock', version: '1' })
export class StockController {
  private readonly markets: ReadonlyMap<string, string[]>;
  private readonly stockCacheControl: string;

  constructor(
    private readonly reads: StockReadService,
    private readonly writes: StockWriteService,
    private readonly caches: StockCaches,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.markets = marketsOf(config);
    this.stockCacheControl = cacheControl(config, 'stock');
  }

  @ApiMarketRead(
    'listStock',
    "Products' availability in one market",
    dto.StockListDto,
    'stock:{id} per requested id',
    'Strong validator over every warehouse level read and missing id',
  )
  async list(@ReadRequestParam() req: ReadRequest): Promise<Buffer | undefined> {
    return answerMarketRead(req, {
      maxIds: this.config.MAX_IDS,
      markets: this.markets,
      cacheControl: this.stockCacheControl,
      tag: (_, id) => `stock:${id}`,
      read: (ids, market) => this.reads.getMany(ids, market),
    });
  }

  @ApiScopedWrite(
    { name: 'warehouse', schema: { type: 'string', pattern: dto.WAREHOUSE.source } },
    'putStock',
    "Set a product's stock level in one warehouse",
    dto.StockInputDto,
    dto.StockDto,
    'Invalid level, malformed id or unknown warehouse',
  )
  async put(
    @Param('warehouse') warehouse: string,
    @Param('id') rawId: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const id = requireId(rawId);
    if (!this.caches.has(warehouse))
      throw new ValidationError(`unknown warehouse ${JSON.stringify(warehouse.slice(0, 40))}`);
    const parsed = parseStockInput(body);
    if (!parsed.ok)
      throw new ValidationError(`the stock level is invalid: ${parsed.errors.join('; ')}`, {
        errors: parsed.errors,
      });
    const result = await this.writes.put(id, warehouse, parsed.value);
    return answerWrite(reply, result, stockEtag(id, warehouse, result.version));
  }

  @ApiScopedBatch(
    'batchSetStock',
    'Set up to 1000 stock levels, in any warehouses',
    dto.StockBatchRequestDto,
    dto.StockBatchResponseDto,
  )
  async batch(@Body() body: unknown): Promise<dto.StockBatchResponseDto> {
    return { results: await this.writes.batch(batchItems(body, this.config.MAX_BATCH_ITEMS)) };
  }
}
