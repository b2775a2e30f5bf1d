import { Body, Controller, Inject, Param, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { APP_CONFIG, AppConfig, marketsOf } from '@app/config';
import { ValidationError } from '@app/errors';
import { cacheControl } from '@catalog/common/http-caching';
import { MARKET_SCHEMA, parseMarket, requireId } from '@catalog/common/ids';
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
import { parsePriceInput } from '../dtos/price-document';
import * as dto from '../dtos/price.dto';
import { PriceReadService } from '../services/price-read.service';
import { PriceWriteService } from '../services/price-write.service';

export const priceEtag = (id: number, market: string, version: number) => `"pr${id}-${market}-v${version}"`;

@ApiTags('prices')
@Controller({ path: 'prices', version: '1' })
export class PriceController {
  private readonly markets: ReadonlyMap<string, string[]>;
  private readonly listCacheControl: string;

  constructor(
    private readonly reads: PriceReadService,
    private readonly writes: PriceWriteService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.markets = marketsOf(config);
    this.listCacheControl = cacheControl(config, 'productList');
  }

  @ApiMarketRead(
    'listPrices',
    "Bulk read of products' prices in one market",
    dto.PriceListDto,
    'price:{market}:{id} per requested id',
    'Strong validator over every (id, version) and missing id',
  )
  async list(@ReadRequestParam() req: ReadRequest): Promise<Buffer | undefined> {
    return answerMarketRead(req, {
      maxIds: this.config.MAX_IDS,
      markets: this.markets,
      cacheControl: this.listCacheControl,
      tag: (market, id) => `price:${market}:${id}`,
      read: (ids, market) => this.reads.getMany(ids, market),
    });
  }

  @ApiScopedWrite(
    { name: 'market', schema: MARKET_SCHEMA },
    'putPrice',
    "Set a product's price in one market",
    dto.PriceInputDto,
    dto.PriceDto,
    'Invalid price, malformed id or unknown market',
  )
  async put(
    @Param('market') rawMarket: string,
    @Param('id') rawId: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const id = requireId(rawId);
    const market = parseMarket(rawMarket, this.markets);
    const parsed = parsePriceInput(body);
    if (!parsed.ok)
      throw new ValidationError(`the price is invalid: ${parsed.errors.join('; ')}`, {
        errors: parsed.errors,
      });
    const result = await this.writes.put(id, market, parsed.value);
    return answerWrite(reply, result, priceEtag(id, market, result.version));
  }

  @ApiScopedBatch(
    'batchUpsertPrices',
    'Set up to 1000 prices, in any markets',
    dto.PriceBatchRequestDto,
    dto.PriceBatchResponseDto,
  )
  async batch(@Body() body: unknown): Promise<dto.PriceBatchResponseDto> {
    return { results: await this.writes.batch(batchItems(body, this.config.MAX_BATCH_ITEMS)) };
  }
}
