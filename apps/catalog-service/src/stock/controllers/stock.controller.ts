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
import { parseStockInput } from '../dtos/stock-document';
import {
  WAREHOUSE,
  StockBatchRequestDto,
  StockBatchResponseDto,
  StockDto,
  StockInputDto,
  StockListDto,
} from '../dtos/stock.dto';
import { StockCaches } from '../repositories/stock-caches.repository';
import { StockReadService } from '../services/stock-read.service';
import { StockWriteService } from '../services/stock-write.service';

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
    description: 'Space-separated cache tags, stock:{id} per requested id',
    schema: { type: 'string' },
  },
  'X-Catalog-Tier': {
    description: 'Where the service found the data: redis or mysql',
    schema: { type: 'string', enum: ['redis', 'mysql'] },
  },
};

export const stockEtag = (id: number, warehouse: string, version: number) =>
  `"st${id}-${warehouse}-v${version}"`;

@ApiTags('stock')
@Controller({ path: 'stock', version: '1' })
export class StockController {
  private readonly markets: ReadonlyMap<string, string[]>;
  private readonly listCacheControl: string;

  constructor(
    private readonly reads: StockReadService,
    private readonly writes: StockWriteService,
    private readonly caches: StockCaches,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.markets = marketsOf(config);
    this.listCacheControl = cacheControl(config, 'stock');
  }

  @Get()
  @ApiOperation({ operationId: 'listStock', summary: "Products' availability in one market" })
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
  @ApiOkResponse({ type: StockListDto, headers: HEADERS })
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
    const tag = 'stock:';
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

  @Put(':warehouse/:id')
  @RequireScope('write')
  @UseGuards(ApiKeyGuard)
  @ApiBearerAuth()
  @ApiOperation({ operationId: 'putStock', summary: "Set a product's stock level in one warehouse" })
  @ApiParam({ name: 'warehouse', schema: { type: 'string', pattern: WAREHOUSE.source } })
  @ApiParam({ name: 'id', schema: ID_SCHEMA, description: 'The product id, 1 .. 2^53-1, written plainly' })
  @ApiBody({ type: StockInputDto })
  @ApiResponse({ status: 200, type: StockDto, description: 'Replaced' })
  @ApiResponse({ status: 201, type: StockDto, description: 'Created' })
  @ApiProblems(
    [400, 'Invalid level, malformed id or unknown warehouse'],
    [401, 'Missing or invalid API key'],
    [403, 'API key without write scope'],
    [413, 'Body too large'],
    [415, 'Not application/json'],
  )
  async put(
    @Param('warehouse') rawWarehouse: string,
    @Param('id') rawId: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const id = requireId(rawId);
    if (!this.caches.has(rawWarehouse))
      throw new ValidationError(`unknown warehouse ${JSON.stringify(rawWarehouse.slice(0, 40))}`);
    const parsed = parseStockInput(body);
    if (!parsed.ok)
      throw new ValidationError(`the stock level is invalid: ${parsed.errors.join('; ')}`, {
        errors: parsed.errors,
      });
    const result = await this.writes.put(id, rawWarehouse, parsed.value);
    void reply
      .status(result.created ? 201 : 200)
      .header('etag', stockEtag(id, rawWarehouse, result.version))
      .header('cache-control', 'no-store')
      .type(JSON_TYPE);
    return result.doc!;
  }

  @Post('batch')
  @RequireScope('write')
  @UseGuards(ApiKeyGuard)
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOperation({ operationId: 'batchSetStock', summary: 'Set up to 1000 stock levels, in any warehouses' })
  @ApiBody({ type: StockBatchRequestDto })
  @ApiOkResponse({
    type: StockBatchResponseDto,
    description: 'One result per item; invalid items do not block valid ones',
  })
  @ApiProblems(
    [400, 'Not a batch, or more than 1000 items'],
    [401, 'Missing or invalid API key'],
    [403, 'API key without write scope'],
    [413, 'Body too large'],
    [415, 'Not application/json'],
  )
  async batch(@Body() body: unknown): Promise<StockBatchResponseDto> {
    const items = batchItems(body, this.config.MAX_BATCH_ITEMS);
    return { results: await this.writes.batch(items) };
  }
}
