import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
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
import { APP_CONFIG, AppConfig } from '@app/config';
import { NotFoundError, ValidationError } from '@app/errors';
import { ApiProblems } from '@catalog/common/api-docs';
import { ApiKeyGuard, RequireScope } from '@catalog/common/api-key.guard';
import { cacheControl, etagMatches, parseIfMatch, setReadHeaders } from '@catalog/common/http-caching';
import { ID_LIST_SCHEMA, ID_SCHEMA, MAX_LIST, onlyParam, parseIdList, requireId } from '@catalog/common/ids';
import { parseInput } from '@catalog/products/dtos/product-input';
import { CategoryDto, CategoryInputDto, CategoryListDto } from '../dtos/category.dto';
import { categoryEtag, CategoryReadService } from '../services/category-read.service';
import { CategoryWriteService } from '../services/category-write.service';

const JSON_TYPE = 'application/json; charset=utf-8';
const HEADERS = {
  ETag: {
    description: 'Strong validator; changes when and only when a returned version changes',
    schema: { type: 'string' },
  },
  'Cache-Control': {
    description: 'public, max-age, s-maxage, stale-while-revalidate, stale-if-error',
    schema: { type: 'string' },
  },
  xkey: {
    description: 'Space-separated cache tags, category:{id} per requested id',
    schema: { type: 'string' },
  },
  'X-Catalog-Tier': {
    description: 'Where the service found the data: redis or mysql',
    schema: { type: 'string', enum: ['redis', 'mysql'] },
  },
};
const tags = (ids: readonly number[]) => ids.map((id) => `category:${id}`).join(' ');

@ApiTags('categories')
@Controller({ path: 'categories', version: '1' })
export class CategoryController {
  private readonly cacheControl: string;
  private readonly listCacheControl: string;

  constructor(
    private readonly reads: CategoryReadService,
    private readonly writes: CategoryWriteService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.cacheControl = cacheControl(config, 'product');
    this.listCacheControl = cacheControl(config, 'productList');
  }

  @Get()
  @ApiOperation({ operationId: 'listCategories', summary: 'Bulk read of categories by ids' })
  @ApiQuery({
    name: 'ids',
    required: true,
    schema: ID_LIST_SCHEMA,
    description: `Comma-separated category ids, 1..${MAX_LIST} after removing duplicates, given once. No other query parameter (400).`,
    example: '1,7,43',
  })
  @ApiHeader({ name: 'If-None-Match', required: false })
  @ApiOkResponse({ type: CategoryListDto, headers: HEADERS })
  @ApiResponse({ status: 304, description: 'Not modified (If-None-Match matched)', headers: HEADERS })
  @ApiProblems([400, 'Empty, malformed or too many ids'])
  async list(
    @Query() query: Record<string, unknown>,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Buffer | undefined> {
    const ids = parseIdList(onlyParam(query, 'ids'), this.config.MAX_IDS);
    const result = await this.reads.getMany(ids);
    setReadHeaders(reply, this.listCacheControl, result.etag, tags(ids), result.tier);
    if (etagMatches(ifNoneMatch, result.etag)) {
      void reply.status(304);
      return undefined;
    }
    void reply.type(JSON_TYPE);
    return result.body;
  }

  @Get(':id')
  @ApiOperation({
    operationId: 'getCategory',
    summary: 'Read one category',
    description: 'Takes no query parameter: any is a 400.',
  })
  @ApiParam({ name: 'id', schema: ID_SCHEMA, description: '1 .. 2^53-1, written plainly' })
  @ApiHeader({ name: 'If-None-Match', required: false })
  @ApiOkResponse({ type: CategoryDto, headers: HEADERS })
  @ApiResponse({ status: 304, description: 'Not modified (If-None-Match matched)', headers: HEADERS })
  @ApiProblems([400, 'Malformed id'], [404, 'Unknown category'])
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
      void reply
        .header('cache-control', `public, max-age=${this.config.HTTP_NOT_FOUND_MAX_AGE}`)
        .header('xkey', `category:${id}`)
        .header('x-catalog-tier', result.tier);
      throw new NotFoundError(`category ${id} does not exist`);
    }
    setReadHeaders(reply, this.cacheControl, result.etag, `category:${id}`, result.tier);
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
  @ApiOperation({
    operationId: 'putCategory',
    summary: 'Create or replace a category',
    description:
      'Moving a category (a new parentId) moves its subtree: every category below gets its new path and version.',
  })
  @ApiParam({ name: 'id', schema: ID_SCHEMA, description: '1 .. 2^53-1, written plainly' })
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'ETag of the version this write replaces, or *',
  })
  @ApiBody({ type: CategoryInputDto })
  @ApiResponse({ status: 200, type: CategoryDto, description: 'Replaced' })
  @ApiResponse({ status: 201, type: CategoryDto, description: 'Created' })
  @ApiProblems(
    [400, 'Invalid category'],
    [401, 'Missing or invalid API key'],
    [403, 'API key without write scope'],
    [409, 'Parent missing, a cycle, or deeper than 8 levels'],
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
    const parsed = parseInput(CategoryInputDto, body);
    if (!parsed.ok)
      throw new ValidationError(`the category is invalid: ${parsed.errors.join('; ')}`, {
        errors: parsed.errors,
      });
    const result = await this.writes.put(id, parsed.value, parseIfMatch(ifMatch, id, 'c'));
    void reply
      .status(result.created ? 201 : 200)
      .header('etag', categoryEtag(id, result.version))
      .header('cache-control', 'no-store')
      .header('location', `/v1/categories/${id}`)
      .type(JSON_TYPE);
    return result.doc!;
  }

  @Delete(':id')
  @RequireScope('write')
  @UseGuards(ApiKeyGuard)
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'deleteCategory',
    summary: 'Delete a category (it must have no subcategories)',
  })
  @ApiParam({ name: 'id', schema: ID_SCHEMA, description: '1 .. 2^53-1, written plainly' })
  @ApiHeader({ name: 'If-Match', required: false })
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiProblems(
    [400, 'Malformed id'],
    [401, 'Missing or invalid API key'],
    [403, 'API key without write scope'],
    [404, 'Unknown category'],
    [409, 'The category has subcategories'],
    [412, 'If-Match does not match'],
  )
  async remove(@Param('id') rawId: string, @Headers('if-match') ifMatch: string | undefined): Promise<void> {
    const id = requireId(rawId);
    await this.writes.delete(id, parseIfMatch(ifMatch, id, 'c'));
  }
}
