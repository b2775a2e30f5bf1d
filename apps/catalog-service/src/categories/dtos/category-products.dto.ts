import { ApiProperty } from '@nestjs/swagger';
import { ValidationError } from '@app/errors';

export const DEFAULT_PAGE = 24;
export const MAX_PAGE = 100;
const LIMIT = /^[1-9][0-9]{0,2}$/;

export class CategoryProductPageDto {
  @ApiProperty({ type: 'integer', example: 7 })
  categoryId!: number;

  @ApiProperty({
    type: 'integer',
    isArray: true,
    description:
      'Product ids in the category, ascending, after the cursor. Read the products themselves with ' +
      'GET /v1/products?ids= (one bulk read per page).',
    example: [1012, 1040, 1177],
  })
  productIds!: number[];

  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'Pass as cursor to get the next page; null on the last page',
    example: 'AQAAAAAAAAAHAAAAAAAAA_R4sFrb',
  })
  nextCursor!: string | null;
}

export interface PageQuery {
  limit: number;
  cursor?: string;
}

/** `limit` (1..MAX_PAGE, default DEFAULT_PAGE) and `cursor`, each at most once; any other parameter is a 400. */
export function parsePageQuery(query: Record<string, unknown>): PageQuery {
  const unknown = Object.keys(query).filter((k) => k !== 'limit' && k !== 'cursor');
  if (unknown.length > 0) {
    throw new ValidationError(
      `unknown query parameter: ${unknown
        .slice(0, 20)
        .map((k) => JSON.stringify(k.slice(0, 32)))
        .join(', ')}; ` + 'this endpoint takes only limit and cursor',
      { invalid: unknown.slice(0, 100).map((k) => k.slice(0, 32)) },
    );
  }
  const once = (name: 'limit' | 'cursor'): string | undefined => {
    const v = query[name];
    if (v !== undefined && typeof v !== 'string')
      throw new ValidationError(`${name} must be given once`, { invalid: [name] });
    return v;
  };
  const limit = once('limit');
  const cursor = once('cursor');
  const n = limit === undefined ? DEFAULT_PAGE : LIMIT.test(limit) ? Number(limit) : 0;
  if (n < 1 || n > MAX_PAGE)
    throw new ValidationError(`limit must be an integer between 1 and ${MAX_PAGE}`, {
      invalid: [String(limit).slice(0, 32)],
    });
  return { limit: n, cursor };
}
