import { Body, Controller, Headers, Inject, Param, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { APP_CONFIG, AppConfig, marketsOf } from '@app/config';
import { cacheControl } from '@catalog/common/http-caching';
import { MARKET_SCHEMA, parseMarket } from '@catalog/common/ids';
import {
  ReadRequest,
  ReadRequestParam,
  ApiMarketRead,
  ApiScopedBatch,
  ApiScopedDelete,
  ApiScopedWrite,
} from '@catalog/common/scoped-endpoints';
import { ScopedHandlers } from '@catalog/common/scoped-handlers';
import { parsePriceInput, priceEtagHead } from '../dtos/price-document';
import * as dto from '../dtos/price.dto';
import { PriceReadService } from '../services/price-read.service';
import { PriceWriteService } from '../services/price-write.service';

const MARKET = { name: 'market', schema: MARKET_SCHEMA };

@ApiTags('prices')
@Controller({ path: 'prices', version: '1' })
export class PriceController {
  private readonly handlers: ScopedHandlers<dto.PriceInputDto, dto.PriceBatchResultDto>;

  constructor(reads: PriceReadService, writes: PriceWriteService, @Inject(APP_CONFIG) config: AppConfig) {
    const markets = marketsOf(config);
    this.handlers = new ScopedHandlers({
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

  @ApiMarketRead(
    'listPrices',
    "Bulk read of products' prices in one market",
    dto.PriceListDto,
    'price:{market}:{id} per requested id',
    'Strong validator over every (id, version) and missing id',
  )
  list(@ReadRequestParam() req: ReadRequest): Promise<Buffer | undefined> {
    return this.handlers.list(req);
  }

  @ApiScopedWrite(
    MARKET,
    'putPrice',
    "Set a product's price in one market",
    dto.PriceInputDto,
    dto.PriceDto,
    'Invalid price, malformed id or unknown market',
  )
  put(
    @Param('market') market: string,
    @Param('id') id: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    return this.handlers.put(market, id, body, reply);
  }

  @ApiScopedDelete(MARKET, 'deletePrice', "Delete a product's price in one market")
  remove(
    @Param('market') market: string,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<void> {
    return this.handlers.remove(market, id, ifMatch);
  }

  @ApiScopedBatch(
    'batchUpsertPrices',
    'Set up to 1000 prices, in any markets',
    dto.PriceBatchRequestDto,
    dto.PriceBatchResponseDto,
  )
  batch(@Body() body: unknown): Promise<dto.PriceBatchResponseDto> {
    return this.handlers.batch(body);
  }
}
