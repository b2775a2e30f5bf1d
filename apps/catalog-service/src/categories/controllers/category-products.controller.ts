import { Controller, Get, Headers, Inject, Param, Query, Res } from '@nestjs/common';
import {
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
import { CURSOR_PATTERN } from '@catalog/categories/dtos/category-cursor';
import {
  CategoryProductPageDto,
  DEFAULT_PAGE,
  MAX_PAGE,
  parsePageQuery,
} from '@catalog/categories/dtos/category-products.dto';
import { CategoryProductsService } from '@catalog/categories/services/category-products.service';
import { ApiProblems } from '@catalog/common/api-docs';
import { etagMatches, setReadHeaders } from '@catalog/common/http-caching';
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
  @ApiOperation({
    operationId: 'listCategoryProducts',
    summary: 'Walk the products of a category, a page at a time',
    description:
      'Product ids in ascending order, after an opaque cursor. A walk stays correct while products are ' +
      'added, moved and removed: each product that stays in the category for the whole walk appears ' +
      'exactly once. Direct membership only (the categoryIds of each product).',
  })
  @ApiParam({ name: 'id', schema: ID_SCHEMA, description: 'Category id, 1 .. 2^53-1, written plainly' })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE },
  })
  @ApiQuery({
    name: 'cursor',
    required: false,
    schema: { type: 'string', pattern: CURSOR_PATTERN },
    description:
      'nextCursor of the previous page; a cursor that was altered or belongs to another category is a 400',
  })
  @ApiHeader({ name: 'If-None-Match', required: false })
  @ApiOkResponse({ type: CategoryProductPageDto, headers: PAGE_HEADERS })
  @ApiResponse({ status: 304, description: 'Not modified (If-None-Match matched)', headers: PAGE_HEADERS })
  @ApiProblems([400, 'Malformed id, limit or cursor, or an unknown query parameter'])
  async products(
    @Param('id') rawId: string,
    @Query() query: Record<string, unknown>,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CategoryProductPageDto | undefined> {
    const id = requireId(rawId);
    const { limit, cursor } = parsePageQuery(query);
    const page = await this.pages.page(id, limit, cursor);
    setReadHeaders(reply, this.cacheControl, page.etag, `category:${id}`, page.tier);
    if (etagMatches(ifNoneMatch, page.etag)) {
      void reply.status(304);
      return undefined;
    }
    return { categoryId: id, productIds: page.productIds, nextCursor: page.nextCursor };
  }
}
