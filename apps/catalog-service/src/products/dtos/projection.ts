import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, ApiQuery, getSchemaPath } from '@nestjs/swagger';
import { ValidationError } from '@app/errors';
import { MARKET_SCHEMA, onlyParams, parseMarket } from '@catalog/common/ids';
import { LOCALE } from '@catalog/common/validators';
import { PriceDto } from '@catalog/prices/dtos/price.dto';
import { AVAILABILITIES } from '@catalog/stock/dtos/stock.dto';
import { ProductDto } from './product.dto';

export const INCLUDES = ['price', 'stock'] as const;

/** A product read in the caller's context: which parts, in which market and locale. */
export interface ProjectionQuery {
  ids: unknown;
  market?: string;
  locale?: string;
  price: boolean;
  stock: boolean;
}

/** ids, and optionally market, locale and include=price,stock (market required for either). */
export function parseProjection(
  query: Record<string, unknown>,
  markets: ReadonlyMap<string, unknown>,
): ProjectionQuery {
  const q = onlyParams(query, ['ids', 'market', 'locale', 'include']);
  const raw = typeof q.include === 'string' ? q.include : q.include === undefined ? undefined : '';
  const include = raw === undefined ? [] : raw.split(',');
  const unknown = include.filter((i) => !(INCLUDES as readonly string[]).includes(i));
  if (unknown.length > 0 || (raw !== undefined && raw === ''))
    throw new ValidationError(
      `include takes price and stock, comma-separated; got ${JSON.stringify((raw ?? '').slice(0, 40))}`,
    );
  if (q.locale !== undefined && (typeof q.locale !== 'string' || !LOCALE.test(q.locale)))
    throw new ValidationError('locale must be a locale code like de or de-DE');
  if (q.market !== undefined && include.length === 0)
    throw new ValidationError('market goes with include=price and/or include=stock');
  const market = include.length > 0 ? parseMarket(q.market, markets) : undefined;
  return {
    ids: q.ids,
    market,
    locale: q.locale,
    price: include.includes('price'),
    stock: include.includes('stock'),
  };
}

export const ApiProjectionQueries = () =>
  applyDecorators(
    ApiQuery({
      name: 'market',
      required: false,
      schema: MARKET_SCHEMA,
      description: 'With include: the market whose price and availability each product carries',
    }),
    ApiQuery({
      name: 'locale',
      required: false,
      schema: { type: 'string', pattern: LOCALE.source },
      description: 'Keep only this locale (and its regional variants) in localized texts',
    }),
    ApiQuery({
      name: 'include',
      required: false,
      schema: { type: 'string', pattern: '^(price|stock)(,(price|stock))?$' },
      description: 'price, stock or both: adds them to each product (needs market)',
    }),
  );

export class StockPartDto {
  @ApiProperty({ type: 'string', example: 'de-EUR' })
  market!: string;
  @ApiProperty({ enum: AVAILABILITIES })
  availability!: (typeof AVAILABILITIES)[number];
  @ApiProperty({ type: 'integer', minimum: 0 })
  quantity!: number;
}

/**
 * A part that is an object or null. OpenAPI 3.0 has no nullable $ref: `nullable` beside `allOf: [$ref]`
 * adds null only to the sibling `type`, and the referenced object schema still refuses it (3.0.3), so
 * validators and generated clients read such a part as never null. `anyOf` with a null-only schema says it.
 */
const nullable = (model: new () => unknown, description: string) =>
  ApiPropertyOptional({
    anyOf: [{ $ref: getSchemaPath(model) }, { type: 'object', nullable: true, enum: [null] }],
    description,
  });

@ApiExtraModels(PriceDto, StockPartDto)
export class ProjectedProductDto extends ProductDto {
  @nullable(PriceDto, 'With include=price: the price in the market, null when it has none')
  price?: PriceDto | null;
  @nullable(
    StockPartDto,
    'With include=stock: availability in the market, null when no warehouse of it has a level',
  )
  stock?: StockPartDto | null;
}

export class ProductListDto {
  @ApiProperty({
    type: [ProjectedProductDto],
    description: 'Products found, in order of first appearance in ids',
  })
  data!: ProjectedProductDto[];

  @ApiProperty({
    type: 'integer',
    isArray: true,
    description: 'Requested ids found nowhere, in request order',
  })
  missing!: number[];
}
