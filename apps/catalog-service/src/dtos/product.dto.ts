import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsPositive,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { IsAttributeMap, IsLocaleMap } from './validators';

export const PRODUCT_STATUSES = ['active', 'draft', 'archived'] as const;
export type ProductStatus = (typeof PRODUCT_STATUSES)[number];
export const MAX_PRODUCT_ID = Number.MAX_SAFE_INTEGER;
export const SKU = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** GTIN-8, -12, -13 or -14: the barcode number, digits only. */
const GTIN = /^(\d{8}|\d{12,14})$/;
const localeMapSchema = (example: Record<string, string>) => ({
  type: 'object' as const,
  additionalProperties: { type: 'string' as const },
  example,
});

export class ProductImageDto {
  @ApiProperty({ format: 'uri', maxLength: 2048, example: 'https://img.example.com/p/1/main.jpg' })
  @IsUrl({ protocols: ['https'], require_protocol: true })
  @MaxLength(2048)
  url!: string;

  @ApiPropertyOptional({ ...localeMapSchema({ en: 'Front view' }), description: 'Alt text by locale' })
  @IsOptional()
  @IsLocaleMap({ maxLength: 300 })
  alt?: Record<string, string>;
}

export class ProductVariantDto {
  @ApiProperty({ pattern: SKU.source, example: 'TSHIRT-RED-M' })
  @Matches(SKU, { message: 'sku must be 1..64 characters of letters, digits, ".", "_" or "-"' })
  sku!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] },
  })
  @IsAttributeMap()
  attributes!: Record<string, string | number | boolean>;
}

/** What a client sends: the product without the server-set fields (id from the path, version, updatedAt). */
export class ProductInputDto {
  @ApiProperty({ pattern: SKU.source, maxLength: 64, example: 'SKU-000001' })
  @Matches(SKU, { message: 'sku must be 1..64 characters of letters, digits, ".", "_" or "-"' })
  sku!: string;

  // Added after v1.0.0: optional in, omitted from responses when not set, so old clients see no change.
  @ApiPropertyOptional({
    pattern: GTIN.source,
    example: '4006381333931',
    description: 'Global Trade Item Number (GTIN-8/12/13/14); absent when unknown',
  })
  @IsOptional()
  @Matches(GTIN, { message: 'gtin must be 8, 12, 13 or 14 digits' })
  gtin?: string;

  @ApiProperty({ enum: PRODUCT_STATUSES, example: 'active' })
  @IsIn(PRODUCT_STATUSES)
  status!: ProductStatus;

  @ApiPropertyOptional({ type: 'string', maxLength: 100, nullable: true, example: 'Acme' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  brand?: string | null;

  @ApiProperty({
    ...localeMapSchema({ en: 'Trail running shoe', de: 'Trailrunning-Schuh' }),
    description: 'Name by locale',
  })
  @IsLocaleMap({ maxLength: 200 })
  name!: Record<string, string>;

  @ApiPropertyOptional({
    ...localeMapSchema({ en: 'Light and grippy.' }),
    description: 'Description by locale',
  })
  @IsOptional()
  @IsLocaleMap({ maxLength: 5000 })
  description?: Record<string, string>;

  @ApiPropertyOptional({ type: 'integer', isArray: true, maxItems: 50, example: [12, 40] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsInt({ each: true })
  @IsPositive({ each: true })
  @Max(MAX_PRODUCT_ID, { each: true })
  categoryIds?: number[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] },
    example: { color: 'red', weight_g: 280, waterproof: true },
  })
  @IsOptional()
  @IsAttributeMap()
  attributes?: Record<string, string | number | boolean>;

  @ApiPropertyOptional({ type: [ProductImageDto], maxItems: 20 })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => ProductImageDto)
  images?: ProductImageDto[];

  @ApiPropertyOptional({ type: [ProductVariantDto], maxItems: 100 })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => ProductVariantDto)
  variants?: ProductVariantDto[];
}

export class BatchItemDto extends ProductInputDto {
  @ApiProperty({ type: 'integer', minimum: 1, maximum: MAX_PRODUCT_ID, example: 1 })
  @IsInt()
  @IsPositive()
  @Max(MAX_PRODUCT_ID)
  id!: number;
}

/**
 * What the API returns: the input plus the server-set fields, always in this key order. Fields that are
 * optional in the input are always present here (serializeProduct writes their defaults), and the
 * contract says so: a frontend may rely on them.
 */
export class ProductDto extends OmitType(ProductInputDto, [
  'brand',
  'description',
  'categoryIds',
  'attributes',
  'images',
  'variants',
] as const) {
  @ApiProperty({ type: 'integer', minimum: 1, maximum: MAX_PRODUCT_ID, example: 1 })
  id!: number;

  @ApiProperty({ type: 'integer', minimum: 1, description: 'Incremented by every write', example: 3 })
  version!: number;

  @ApiProperty({ format: 'date-time', example: '2026-11-22T10:00:00.000Z' })
  updatedAt!: string;

  @ApiProperty({ type: 'string', maxLength: 100, nullable: true, example: 'Acme' })
  brand!: string | null;

  @ApiProperty({ ...localeMapSchema({ en: 'Light and grippy.' }), description: 'Description by locale' })
  description!: Record<string, string>;

  @ApiProperty({ type: 'integer', isArray: true, maxItems: 50, example: [12, 40] })
  categoryIds!: number[];

  @ApiProperty({
    type: 'object',
    additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] },
    example: { color: 'red', weight_g: 280, waterproof: true },
  })
  attributes!: Record<string, string | number | boolean>;

  @ApiProperty({ type: [ProductImageDto], maxItems: 20 })
  images!: ProductImageDto[];

  @ApiProperty({ type: [ProductVariantDto], maxItems: 100 })
  variants!: ProductVariantDto[];
}

export class ProductListDto {
  @ApiProperty({ type: [ProductDto], description: 'Products found, in order of first appearance in ids' })
  data!: ProductDto[];

  @ApiProperty({
    type: 'integer',
    isArray: true,
    description: 'Requested ids found nowhere, in request order',
  })
  missing!: number[];
}

export class ProductSkuListDto {
  @ApiProperty({ type: [ProductDto], description: 'Products found, in order of first appearance in skus' })
  data!: ProductDto[];

  @ApiProperty({ type: [String], description: 'Requested skus found nowhere, in request order' })
  missing!: string[];
}

export class BatchRequestDto {
  @ApiProperty({ type: [BatchItemDto], minItems: 1, maxItems: 1000 })
  items!: BatchItemDto[];
}

export class BatchResultDto {
  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 1,
    description: 'null when the item has no valid id',
  })
  id!: number | null;

  @ApiProperty({ enum: ['created', 'replaced', 'rejected'] })
  result!: 'created' | 'replaced' | 'rejected';

  @ApiPropertyOptional({ type: 'integer', example: 3 })
  version?: number;

  @ApiPropertyOptional({ type: [String], description: 'Why the item was rejected' })
  errors?: string[];
}

export class BatchResponseDto {
  @ApiProperty({ type: [BatchResultDto], description: 'One result per item, in request order' })
  results!: BatchResultDto[];
}
