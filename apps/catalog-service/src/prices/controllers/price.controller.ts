import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { APP_CONFIG, AppConfig, marketsOf } from '@app/config';
import { ValidationError } from '@app/errors';
import { ApiKeyGuard, RequireScope } from '@catalog/common/api-key.guard';
import { ApiProblems } from '@catalog/common/api-docs';
import { cacheControl, etagMatches, setReadHeaders } from '@catalog/common/http-caching';
import {
  ID_LIST_SCHEMA,
  ID_SCHEMA,
  MARKET_SCHEMA,
  MAX_LIST,
  onlyParams,
  parseIdList,
  parseMarket,
  requireId,
} from '@catalog/common/ids';
import { batchItems } from '@catalog/common/parse-dto';
import { parsePriceInput } from '../dtos/price-document';
import {
  PriceBatchRequestDto,
  PriceBatchResponseDto,
  PriceDto,
  PriceInputDto,
  PriceListDto,
} from '../dtos/price.dto';
import { PriceReadService } from '../services/price-read.service';
import { PriceWriteService } from '../services/price-write.service';

const JSON_TYPE = 'application/json; charset=utf-8';
const HEADERS = {
  ETag: {
    description: 'Strong validator over every (id, version) and missing id',
    schema: { type: 'string' },
  },
  'Cache-Control': {
    description: 'public, max-age, s-maxage, stale-while-revalidate, stale-if-error',
    schema: { type: 'string' },
  },
  xkey: {
    description: 'Space-separated cache tags, price:{market}:{id} per requested id',
    schema: { type: 'string' },
  },
  'X-Catalog-Tier': {
    description: 'Where the service found the data: redis or mysql',
    schema: { type: 'string', enum: ['redis', 'mysql'] },
  },
};

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

  @Get()
  @ApiOperation({ operationId: 'listPrices', summary: "Bulk read of products' prices in one market" })
  @ApiQuery({
    name: 'ids',
    required: true,
    schema: ID_LIST_SCHEMA,
    description: `Comma-separated product ids, 1..${MAX_LIST}`,
    example: '1,2,3',
  })
  @ApiQuery({
    name: 'market',
    required: true,
    schema: MARKET_SCHEMA,
    description: 'A configured market (country-currency)',
  })
  @ApiHeader({ name: 'If-None-Match', required: false })
  @ApiOkResponse({ type: PriceListDto, headers: HEADERS })
  @ApiResponse({ status: 304, description: 'Not modified (If-None-Match matched)', headers: HEADERS })
  @ApiProblems([400, 'Empty, malformed or too many ids; unknown market'])
  async list(
    @Query() query: Record<string, unknown>,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Buffer | undefined> {
    const q = onlyParams(query, ['ids', 'market']);
    const ids = parseIdList(q.ids, this.config.MAX_IDS);
    const market = parseMarket(q.market, this.markets);
    const result = await this.reads.getMany(ids, market);
    const tag = `price:${market}:`;
    setReadHeaders(
      reply,
      this.listCacheControl,
      result.etag,
      ids.map((id) => tag + id).join(' '),
      result.tier,
    );
    if (etagMatches(ifNoneMatch, result.etag)) {
      void reply.status(304);
      return undefined;
    }
    void reply.type(JSON_TYPE);
    return result.body;
  }

  @Put(':market/:id')
  @RequireScope('write')
  @UseGuards(ApiKeyGuard)
  @ApiBearerAuth()
  @ApiOperation({ operationId: 'putPrice', summary: "Set a product's price in one market" })
  @ApiParam({ name: 'market', schema: MARKET_SCHEMA })
  @ApiParam({ name: 'id', schema: ID_SCHEMA, description: 'The product id, 1 .. 2^53-1, written plainly' })
  @ApiBody({ type: PriceInputDto })
  @ApiResponse({ status: 200, type: PriceDto, description: 'Replaced' })
  @ApiResponse({ status: 201, type: PriceDto, description: 'Created' })
  @ApiProblems(
    [400, 'Invalid price, malformed id or unknown market'],
    [401, 'Missing or invalid API key'],
    [403, 'API key without write scope'],
    [413, 'Body too large'],
    [415, 'Not application/json'],
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
    void reply
      .status(result.created ? 201 : 200)
      .header('etag', priceEtag(id, market, result.version))
      .header('cache-control', 'no-store')
      .type(JSON_TYPE);
    return result.doc!;
  }

  @Post('batch')
  @RequireScope('write')
  @UseGuards(ApiKeyGuard)
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOperation({ operationId: 'batchUpsertPrices', summary: 'Set up to 1000 prices, in any markets' })
  @ApiBody({ type: PriceBatchRequestDto })
  @ApiOkResponse({
    type: PriceBatchResponseDto,
    description: 'One result per item; invalid items do not block valid ones',
  })
  @ApiProblems(
    [400, 'Not a batch, or more than 1000 items'],
    [401, 'Missing or invalid API key'],
    [403, 'API key without write scope'],
    [413, 'Body too large'],
    [415, 'Not application/json'],
  )
  async batch(@Body() body: unknown): Promise<PriceBatchResponseDto> {
    const items = batchItems(body, this.config.MAX_BATCH_ITEMS);
    return { results: await this.writes.batch(items) };
  }
}
