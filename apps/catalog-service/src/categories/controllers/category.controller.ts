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
  ApiHeader,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ApiCachedRead, ApiProblems, ApiUpsert, WRITE_PROBLEMS } from '@catalog/common/api-docs';
import { ApiKeyGuard, RequireScope } from '@catalog/common/api-key.guard';
import { answerRead, answerWrite, cacheControl, notFound, parseIfMatch } from '@catalog/common/http-caching';
import { ID_LIST_SCHEMA, ID_SCHEMA, MAX_LIST, onlyParam, parseIdList, requireId } from '@catalog/common/ids';
import { requireInput } from '@catalog/common/parse-dto';
import { recordTag } from '@catalog/record-types/record-type';
import { CATEGORY } from '../category.record-type';
import { CACHE_HEADERS } from '@catalog/products/controllers/product-headers';
import { CategoryDto, CategoryInputDto, CategoryListDto } from '../dtos/category.dto';
import { categoryEtag, CategoryReadService } from '../services/category-read.service';
import { CategoryWriteService } from '../services/category-write.service';

const HEADERS = {
  ...CACHE_HEADERS,
  xkey: {
    description: 'Space-separated cache tags, category:{id} per requested id',
    schema: { type: 'string' },
  },
};
const tags = (ids: readonly number[]) => ids.map((id) => recordTag(CATEGORY, id)).join(' ');

@ApiTags('categories')
@Controller({ path: 'categories', version: '1' })
export class CategoryController {
  /** Categories are cached like products: one record, and lists of them. */
  private readonly cc: { one: string; list: string };

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly reads: CategoryReadService,
    private readonly writes: CategoryWriteService,
  ) {
    this.cc = { one: cacheControl(config, 'product'), list: cacheControl(config, 'productList') };
  }

  @Get()
  @ApiCachedRead(
    { operationId: 'listCategories', summary: 'Bulk read of categories by ids' },
    CategoryListDto,
    HEADERS,
  )
  @ApiQuery({
    name: 'ids',
    required: true,
    schema: ID_LIST_SCHEMA,
    description: `Comma-separated category ids, 1..${MAX_LIST} after removing duplicates, given once. No other query parameter (400).`,
    example: '1,7,43',
  })
  @ApiProblems([400, 'Empty, malformed or too many ids'])
  async list(
    @Query() query: Record<string, unknown>,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Buffer | undefined> {
    const ids = parseIdList(onlyParam(query, 'ids'), this.config.MAX_IDS);
    const { body, etag, tier } = await this.reads.getMany(ids);
    return answerRead(reply, ifNoneMatch, { cacheControl: this.cc.list, etag, xkey: tags(ids), tier }, body);
  }

  @Get(':id')
  @ApiCachedRead(
    {
      operationId: 'getCategory',
      summary: 'Read one category',
      description: 'Takes no query parameter: any is a 400.',
    },
    CategoryDto,
    HEADERS,
  )
  @ApiParam({ name: 'id', schema: ID_SCHEMA, description: 'Category id, 1 .. 2^53-1, written plainly' })
  @ApiProblems([400, 'Malformed id'], [404, 'Unknown category'])
  async one(
    @Res({ passthrough: true }) reply: FastifyReply,
    @Param('id') rawId: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Query() query: Record<string, unknown>,
  ): Promise<Buffer | undefined> {
    const id = requireId(rawId);
    onlyParam(query);
    const { doc, etag, tier } = await this.reads.getOne(id);
    const maxAge = this.config.HTTP_NOT_FOUND_MAX_AGE;
    if (doc === null) notFound(reply, maxAge, tags([id]), tier, `category ${id} does not exist`);
    return answerRead(reply, ifNoneMatch, { cacheControl: this.cc.one, etag, xkey: tags([id]), tier }, doc);
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
  @ApiParam({ name: 'id', schema: ID_SCHEMA, description: 'Category id, 1 .. 2^53-1, written plainly' })
  @ApiUpsert(CategoryInputDto, CategoryDto)
  @ApiProblems(
    [400, 'Invalid category'],
    [409, 'Parent missing, a cycle, or deeper than 8 levels'],
    [412, 'If-Match does not match the stored version'],
    ...WRITE_PROBLEMS,
  )
  async put(
    @Param('id') rawId: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const id = requireId(rawId);
    const input = requireInput(CategoryInputDto, body, 'category');
    const { created, version, doc } = await this.writes.put(id, input, parseIfMatch(ifMatch, id, 'c'));
    return answerWrite(reply, created, categoryEtag(id, version), `/v1/categories/${id}`, doc!);
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
    [404, 'Unknown category'],
    [409, 'The category has subcategories'],
    [412, 'If-Match does not match'],
    ...WRITE_PROBLEMS.slice(0, 2),
  )
  async remove(@Param('id') rawId: string, @Headers('if-match') ifMatch: string | undefined): Promise<void> {
    const id = requireId(rawId);
    await this.writes.delete(id, parseIfMatch(ifMatch, id, 'c'));
  }
}
