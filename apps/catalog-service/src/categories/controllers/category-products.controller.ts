import { Controller, Get, Headers, Inject, Param, Query, Res } from '@nestjs/common';
import { ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { APP_CONFIG, AppConfig } from '@app/config';
import { CURSOR_PATTERN } from '@catalog/categories/dtos/category-cursor';
import {
  CategoryProductPageDto,
  DEFAULT_PAGE,
  MAX_PAGE,
  parsePageQuery,
} from '@catalog/categories/dtos/category-products.dto';
import { CategoryProductsService } from '@catalog/categories/services/category-products.service';
import { ApiCachedRead, ApiProblems } from '@catalog/common/api-docs';
import { answerRead } from '@catalog/common/http-caching';
import { recordTag } from '@catalog/record-types/record-type';
import { CATEGORY } from '../category.record-type';
import { ID_SCHEMA, requireId } from '@catalog/common/ids';

const PAGE_HEADERS = {
  ETag: { description: 'Changes when the page changes', schema: { type: 'string' } },
  'Cache-Control': {
    description: 'Short freshness: membership changes are not purged (docs/categories.md)',
    schema: { type: 'string' },
  },
  xkey: { description: 'category:{id}', schema: { type: 'string' } },
  'X-Catalog-Tier': {
    description: 'redis (the category set) or mysql (fallback while the set is rebuilt)',
    schema: { type: 'string', enum: ['redis', 'mysql'] },
  },
};

@ApiTags('categories')
@Controller({ path: 'categories', version: '1' })
export class CategoryProductsController {
  private readonly cacheControl: string;

  constructor(
    private readonly pages: CategoryProductsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    const age = config.CATEGORY_PAGE_MAX_AGE;
    this.cacheControl = `public, max-age=${age}, s-maxage=${age}, stale-if-error=${config.HTTP_STALE_IF_ERROR}`;
  }

  @Get(':id/products')
  @ApiCachedRead(
    {
      operationId: 'listCategoryProducts',
      summary: 'Walk the products of a category, a page at a time',
      description:
        'Product ids in ascending order, after an opaque cursor. A walk stays correct while products are ' +
        'added, moved and removed: each product that stays in the category for the whole walk appears ' +
        'exactly once. Direct membership only (the categoryIds of each product).',
    },
    CategoryProductPageDto,
    PAGE_HEADERS,
  )
  @ApiParam({ name: 'id', schema: ID_SCHEMA, description: 'Category id, 1 .. 2^53-1, written plainly' })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE },
  })
  @ApiQuery({
    name: 'cursor',
    required: false,
    // x-opaque: only a value this endpoint issued is taken; matching the pattern is not enough.
    schema: { type: 'string', pattern: CURSOR_PATTERN, 'x-opaque': true } as object,
    description:
      'nextCursor of the previous page; a cursor that was altered or belongs to another category is a 400',
  })
  @ApiProblems([400, 'Malformed id, limit or cursor, or an unknown query parameter'])
  async products(
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Query() query: Record<string, unknown>,
    @Param('id') rawId: string,
  ): Promise<CategoryProductPageDto | undefined> {
    const id = requireId(rawId);
    const { limit, cursor } = parsePageQuery(query);
    const page = await this.pages.page(id, limit, cursor);
    const { etag, tier, productIds, nextCursor } = page;
    const headers = { cacheControl: this.cacheControl, etag, xkey: recordTag(CATEGORY, id), tier };
    return answerRead(reply, ifNoneMatch, headers, { categoryId: id, productIds, nextCursor });
  }
}
