import { ApiProperty, ApiPropertyOptional, IntersectionType, OmitType } from '@nestjs/swagger';
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
import {
  ATTRIBUTE_KEY,
  IsAttributeMap,
  IsLocaleMap,
  LOCALE,
  MAX_ATTRIBUTE_STRING,
  MAX_ATTRIBUTES,
  MAX_LOCALES,
} from '@catalog/common/validators';
import { BatchOutcomeDto } from '@catalog/common/batch-outcome.dto';

export const PRODUCT_STATUSES = ['active', 'draft', 'archived'] as const;
export type ProductStatus = (typeof PRODUCT_STATUSES)[number];
export const MAX_PRODUCT_ID = Number.MAX_SAFE_INTEGER;
export const SKU = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** GTIN-8, -12, -13 or -14: the barcode number, digits only. */
const GTIN = /^(\d{8}|\d{12,14})$/;
/*
 * The schemas say everything the validators below enforce (docs/api-lifecycle.md: "the contract is the
 * server"). OpenAPI 3.0 has no propertyNames, so the key rule of a map is `x-propertyNames` (JSON Schema's
 * keyword under an extension name: the fuzzer and generators that read it use it) and the description.
 */
const localeMapSchema = (maxLength: number, example: Record<string, string>) => ({
  type: 'object' as const,
  minProperties: 1,
  maxProperties: MAX_LOCALES,
  additionalProperties: { type: 'string' as const, minLength: 1, maxLength },
  'x-propertyNames': { pattern: LOCALE.source },
  example,
});
const LOCALE_KEYS = `keys are locale codes (${LOCALE.source}, like en or de-DE), 1..${MAX_LOCALES} of them`;
const attributeMapSchema = {
  type: 'object' as const,
  maxProperties: MAX_ATTRIBUTES,
  additionalProperties: {
    oneOf: [
      { type: 'string' as const, maxLength: MAX_ATTRIBUTE_STRING },
      { type: 'number' as const },
      { type: 'boolean' as const },
    ],
  },
  'x-propertyNames': { pattern: ATTRIBUTE_KEY.source },
  description: `Keys are snake_case (${ATTRIBUTE_KEY.source}), at most ${MAX_ATTRIBUTES} of them`,
};
/**
 * The documented form of an image URL: https, a DNS name with a letter TLD or an IPv4 address, an optional
 * port, path, query and fragment. The server checks it with validator.js isURL (https only), which also
 * takes a few rarer forms (userinfo, IPv6 literals) that are not promised.
 */
const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
const PORT = '(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})';
const URL_CHARS = "[A-Za-z0-9._~!$&'()*+,;=:@%/-]";
export const IMAGE_URL = new RegExp(
  '^https://(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}|' +
    `${OCTET}(?:\\.${OCTET}){3})(?::${PORT})?(?:/${URL_CHARS}*)?(?:\\?(?:${URL_CHARS}|\\?)*)?(?:#(?:${URL_CHARS}|\\?)*)?$`,
);

export class ProductImageDto {
  @ApiProperty({
    format: 'uri',
    pattern: IMAGE_URL.source,
    maxLength: 2048,
    example: 'https://img.example.com/p/1/main.jpg',
  })
  @IsUrl({ protocols: ['https'], require_protocol: true })
  @MaxLength(2048)
  url!: string;

  @ApiPropertyOptional({
    ...localeMapSchema(300, { en: 'Front view' }),
    description: `Alt text by locale; ${LOCALE_KEYS}`,
  })
  @IsOptional()
  @IsLocaleMap({ maxLength: 300 })
  alt?: Record<string, string>;
}

export class ProductVariantDto {
  @ApiProperty({ pattern: SKU.source, maxLength: 64, example: 'TSHIRT-RED-M' })
  @Matches(SKU, { message: 'sku must be 1..64 characters of letters, digits, ".", "_" or "-"' })
  sku!: string;

  @ApiProperty(attributeMapSchema)
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
    ...localeMapSchema(200, { en: 'Trail running shoe', de: 'Trailrunning-Schuh' }),
    description: `Name by locale; ${LOCALE_KEYS}`,
  })
  @IsLocaleMap({ maxLength: 200 })
  name!: Record<string, string>;

  @ApiPropertyOptional({
    ...localeMapSchema(5000, { en: 'Light and grippy.' }),
    description: `Description by locale; ${LOCALE_KEYS}`,
  })
  @IsOptional()
  @IsLocaleMap({ maxLength: 5000 })
  description?: Record<string, string>;

  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'integer', minimum: 1, maximum: MAX_PRODUCT_ID },
    maxItems: 50,
    example: [12, 40],
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsInt({ each: true })
  @IsPositive({ each: true })
  @Max(MAX_PRODUCT_ID, { each: true })
  categoryIds?: number[];

  @ApiPropertyOptional({ ...attributeMapSchema, example: { color: 'red', weight_g: 280, waterproof: true } })
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

/** Inputs refuse fields they do not list (forbidNonWhitelisted): their schemas say additionalProperties false. */
export const CLOSED_INPUT_SCHEMAS = [
  'ProductInputDto',
  'BatchItemDto',
  'ProductImageDto',
  'ProductVariantDto',
  'BatchRequestDto',
];

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

  // Empty when the product has no description, so not the input's 1..30 schema.
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { en: 'Light and grippy.' },
    description: 'Description by locale',
  })
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

class BatchResultIdDto {
  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 1,
    description: 'null when the item has no valid id',
  })
  id!: number | null;
}

export class BatchResultDto extends IntersectionType(BatchResultIdDto, BatchOutcomeDto) {}

export class BatchResponseDto {
  @ApiProperty({ type: [BatchResultDto], description: 'One result per item, in request order' })
  results!: BatchResultDto[];
}
