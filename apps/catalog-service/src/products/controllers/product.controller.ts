import {
  Body,
  Controller,
  Delete,
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
import { NotFoundError, ValidationError } from '@app/errors';
import { ApiKeyGuard, RequireScope } from '@catalog/common/api-key.guard';
import {
  ID_LIST_SCHEMA,
  ID_SCHEMA,
  MAX_LIST,
  onlyParam,
  parseIdList,
  parseSkuList,
  requireId,
  SKU_LIST_SCHEMA,
} from '@catalog/common/ids';
import { parseProductInput } from '@catalog/products/dtos/product-input';
import {
  BatchRequestDto,
  BatchResponseDto,
  ProductDto,
  ProductInputDto,
  ProductSkuListDto,
} from '@catalog/products/dtos/product.dto';
import { productEtag, ProductReadService } from '@catalog/products/services/product-read.service';
import { ProductWriteService } from '@catalog/products/services/product-write.service';
import { ApiProblems } from '@catalog/common/api-docs';
import { recordTag } from '@catalog/record-types/record-type';
import { PRODUCT } from '../product.record-type';
import { ApiProjectionQueries, parseProjection, ProductListDto } from '../dtos/projection';
import { ComposedReadService } from '../services/composed-read.service';
import { CACHE_HEADERS, SKU_CACHE_HEADERS, skuXkeys, xkeys } from './product-headers';
import { cacheControl, etagMatches, parseIfMatch, setReadHeaders } from '@catalog/common/http-caching';

const JSON_TYPE = 'application/json; charset=utf-8';
@ApiTags('products')
@Controller({ path: 'products', version: '1' })
export class ProductController {
  private readonly cacheControl: string;
  private readonly listCacheControl: string;
  private readonly stockCacheControl: string;
  private readonly markets: ReadonlyMap<string, string[]>;

  constructor(
    private readonly reads: ProductReadService,
    private readonly writes: ProductWriteService,
    private readonly composed: ComposedReadService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.cacheControl = cacheControl(config, 'product');
    this.listCacheControl = cacheControl(config, 'productList');
    this.stockCacheControl = cacheControl(config, 'stock');
    this.markets = marketsOf(config);
  }

  @Get()
  @ApiOperation({ operationId: 'listProducts', summary: 'Bulk read by ids' })
  @ApiQuery({
    name: 'ids',
    required: true,
    schema: ID_LIST_SCHEMA,
    description: `Comma-separated product ids (1 .. 2^53-1, no sign or leading zero), 1..${MAX_LIST} after removing duplicates, given once. Besides market, locale and include, the endpoint takes no other query parameter (400).`,
    example: '1,2,3',
  })
  @ApiProjectionQueries()
  @ApiHeader({ name: 'If-None-Match', required: false })
  @ApiOkResponse({ type: ProductListDto, headers: CACHE_HEADERS })
  @ApiResponse({ status: 304, description: 'Not modified (If-None-Match matched)', headers: CACHE_HEADERS })
  @ApiProblems([400, 'Empty, malformed or too many ids'])
  async list(
    @Query() query: Record<string, unknown>,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Buffer | undefined> {
    const p = parseProjection(query, this.markets);
    const ids = parseIdList(p.ids, this.config.MAX_IDS);
    const plain = !p.price && !p.stock && !p.locale;
    const result = plain ? await this.reads.getMany(ids) : await this.composed.getMany(ids, p);
    // The shortest freshness of the parts: stock changes most often.
    const cc = p.stock ? this.stockCacheControl : this.listCacheControl;
    setReadHeaders(reply, cc, result.etag, xkeys(ids, p), result.tier);
    if (etagMatches(ifNoneMatch, result.etag)) {
      void reply.status(304);
      return undefined;
    }
    void reply.type(JSON_TYPE);
    return result.body;
  }

  // Declared before ':id' so the static segment wins on any router (find-my-way prefers it anyway).
  @Get('by-sku')
  @ApiOperation({ operationId: 'listProductsBySku', summary: 'Bulk read by skus' })
  @ApiQuery({
    name: 'skus',
    required: true,
    schema: SKU_LIST_SCHEMA,
    description: `Comma-separated skus, 1..${MAX_LIST} after removing duplicates, given once. The endpoint takes no other query parameter (400).`,
    example: 'SKU-000001,SKU-000002',
  })
  @ApiHeader({ name: 'If-None-Match', required: false })
  @ApiOkResponse({ type: ProductSkuListDto, headers: SKU_CACHE_HEADERS })
  @ApiResponse({
    status: 304,
    description: 'Not modified (If-None-Match matched)',
    headers: SKU_CACHE_HEADERS,
  })
  @ApiProblems([400, 'Empty, malformed or too many skus'])
  async listBySku(
    @Query() query: Record<string, unknown>,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Buffer | undefined> {
    const skus = parseSkuList(onlyParam(query, 'skus'), this.config.MAX_IDS);
    const result = await this.reads.getManyBySku(skus);
    setReadHeaders(reply, this.cacheControl, result.etag, skuXkeys(skus, result.ids), result.tier);
    if (etagMatches(ifNoneMatch, result.etag)) {
      void reply.status(304);
      return undefined;
    }
    void reply.type(JSON_TYPE);
    return result.body;
  }

  @Get(':id')
  @ApiOperation({
    operationId: 'getProduct',
    summary: 'Read one product',
    description: 'Takes no query parameter: any is a 400.',
  })
  @ApiParam({ name: 'id', schema: ID_SCHEMA, description: '1 .. 2^53-1, written plainly' })
  @ApiHeader({ name: 'If-None-Match', required: false })
  @ApiOkResponse({ type: ProductDto, headers: CACHE_HEADERS })
  @ApiResponse({ status: 304, description: 'Not modified (If-None-Match matched)', headers: CACHE_HEADERS })
  @ApiProblems([400, 'Malformed id'], [404, 'Unknown product'])
  async one(
    @Param('id') rawId: string,
    @Query() query: Record<string, unknown>,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Buffer | undefined> {
    const id = requireId(rawId);
    onlyParam(query);
    const result = await this.reads.getOne(id);
    if (result.doc === null) {
      // Cached briefly and tagged, so that creating the product purges the cached 404.
      void reply
        .header('cache-control', `public, max-age=${this.config.HTTP_NOT_FOUND_MAX_AGE}`)
        .header('xkey', recordTag(PRODUCT, id))
        .header('x-catalog-tier', result.tier);
      throw new NotFoundError(`product ${id} does not exist`);
    }
    setReadHeaders(reply, this.cacheControl, result.etag, recordTag(PRODUCT, id), result.tier);
    if (etagMatches(ifNoneMatch, result.etag)) {
      void reply.status(304);
      return undefined;
    }
    void reply.type(JSON_TYPE);
    return result.doc;
  }

  @Put(':id')
  @RequireScope('write')
  @UseGuards(ApiKeyGuard)
  @ApiBearerAuth()
  @ApiOperation({ operationId: 'putProduct', summary: 'Create or replace a product' })
  @ApiParam({ name: 'id', schema: ID_SCHEMA, description: '1 .. 2^53-1, written plainly' })
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'ETag of the version this write replaces, or *',
  })
  @ApiBody({ type: ProductInputDto })
  @ApiResponse({ status: 200, type: ProductDto, description: 'Replaced' })
  @ApiResponse({ status: 201, type: ProductDto, description: 'Created' })
  @ApiProblems(
    [400, 'Invalid product'],
    [401, 'Missing or invalid API key'],
    [403, 'API key without write scope'],
    [409, 'The sku belongs to another product'],
    [412, 'If-Match does not match the stored version'],
    [413, 'Body too large'],
    [415, 'Not application/json'],
  )
  async put(
    @Param('id') rawId: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const id = requireId(rawId);
    const parsed = parseProductInput(body);
    if (!parsed.ok)
      throw new ValidationError(`the product is invalid: ${parsed.errors.join('; ')}`, {
        errors: parsed.errors,
      });
    const result = await this.writes.put(id, parsed.value, { version: parseIfMatch(ifMatch, id) });
    void reply
      .status(result.created ? 201 : 200)
      .header('etag', productEtag(id, result.version))
      .header('cache-control', 'no-store')
      .header('location', `/v1/products/${id}`)
      .type(JSON_TYPE);
    return result.doc!;
  }

  @Delete(':id')
  @RequireScope('write')
  @UseGuards(ApiKeyGuard)
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({ operationId: 'deleteProduct', summary: 'Delete a product' })
  @ApiParam({ name: 'id', schema: ID_SCHEMA, description: '1 .. 2^53-1, written plainly' })
  @ApiHeader({ name: 'If-Match', required: false })
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiProblems(
    [400, 'Malformed id'],
    [401, 'Missing or invalid API key'],
    [403, 'API key without write scope'],
    [404, 'Unknown product'],
    [412, 'If-Match does not match'],
  )
  async remove(@Param('id') rawId: string, @Headers('if-match') ifMatch: string | undefined): Promise<void> {
    const id = requireId(rawId);
    await this.writes.delete(id, { version: parseIfMatch(ifMatch, id) });
  }

  @Post('batch')
  @RequireScope('write')
  @UseGuards(ApiKeyGuard)
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOperation({ operationId: 'batchUpsertProducts', summary: 'Create or replace up to 1000 products' })
  @ApiBody({ type: BatchRequestDto })
  @ApiOkResponse({
    type: BatchResponseDto,
    description: 'One result per item; invalid items do not block valid ones',
  })
  @ApiProblems(
    [400, 'Not a batch, or more than 1000 items'],
    [401, 'Missing or invalid API key'],
    [403, 'API key without write scope'],
    [413, 'Body too large'],
    [415, 'Not application/json'],
  )
  async batch(@Body() body: unknown): Promise<BatchResponseDto> {
    const items = (body as { items?: unknown } | null)?.items;
    const extra =
      typeof body === 'object' && body !== null ? Object.keys(body).filter((k) => k !== 'items') : [];
    if (
      !Array.isArray(items) ||
      items.length === 0 ||
      items.length > this.config.MAX_BATCH_ITEMS ||
      extra.length > 0
    ) {
      throw new ValidationError(
        `body must be {"items": [...]} with 1..${this.config.MAX_BATCH_ITEMS} items` +
          (extra.length
            ? `; unknown fields: ${extra.slice(0, 5).join(', ')}`
            : Array.isArray(items)
              ? `; got ${items.length}`
              : ''),
      );
    }
    return { results: await this.writes.batch(items) };
  }
}
