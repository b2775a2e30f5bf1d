import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsInt,
  IsOptional,
  IsPositive,
  Max,
  Min,
  registerDecorator,
  ValidateIf,
  ValidationArguments,
} from 'class-validator';
import { IsLocaleMap, LOCALE, MAX_LOCALES } from '@catalog/common/validators';

export const MAX_CATEGORY_ID = Number.MAX_SAFE_INTEGER;
/** How deep the tree may go: a path is at most this many ids (root first). */
export const MAX_DEPTH = 8;
export const MAX_POSITION = 1_000_000;
export const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const MAX_SLUG = 100;

/** A map of locale code to a URL slug (lower-case letters and digits in dash-separated words). */
function IsSlugMap() {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isSlugMap',
      target: object.constructor,
      propertyName,
      validator: {
        validate(value: unknown) {
          if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
          const entries = Object.entries(value);
          return (
            entries.length >= 1 &&
            entries.length <= MAX_LOCALES &&
            entries.every(
              ([k, v]) => LOCALE.test(k) && typeof v === 'string' && v.length <= MAX_SLUG && SLUG.test(v),
            )
          );
        },
        defaultMessage(args: ValidationArguments) {
          return `${args.property} must be an object of 1..${MAX_LOCALES} locale codes to slugs (${SLUG.source}, at most ${MAX_SLUG} characters)`;
        },
      },
    });
}

const localeKeys = {
  'x-propertyNames': { pattern: LOCALE.source },
  minProperties: 1,
  maxProperties: MAX_LOCALES,
};

/** What a client sends: the category without the server-set fields (id from the path, version, path, updatedAt). */
export class CategoryInputDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_CATEGORY_ID,
    nullable: true,
    description:
      'The parent category; null or absent for a root. Must exist; never the category itself or one below it.',
    example: 3,
  })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsInt()
  @IsPositive()
  @Max(MAX_CATEGORY_ID)
  parentId?: number | null;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: MAX_POSITION,
    default: 0,
    description: 'Order among its siblings (ascending)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_POSITION)
  position?: number;

  @ApiProperty({
    type: 'object',
    ...localeKeys,
    additionalProperties: { type: 'string', minLength: 1, maxLength: 200 },
    description: 'Name by locale',
    example: { en: 'Hiking boots', de: 'Wanderschuhe' },
  })
  @IsLocaleMap({ maxLength: 200 })
  name!: Record<string, string>;

  @ApiProperty({
    type: 'object',
    ...localeKeys,
    additionalProperties: { type: 'string', pattern: SLUG.source, maxLength: MAX_SLUG },
    description: 'URL slug by locale',
    example: { en: 'hiking-boots', de: 'wanderschuhe' },
  })
  @IsSlugMap()
  slug!: Record<string, string>;
}

export class CategoryDto {
  @ApiProperty({ type: 'integer', minimum: 1, maximum: MAX_CATEGORY_ID, example: 12 })
  id!: number;

  @ApiProperty({ type: 'integer', minimum: 1, description: 'Incremented by every write', example: 1 })
  version!: number;

  @ApiProperty({ type: 'integer', nullable: true, example: 3 })
  parentId!: number | null;

  @ApiProperty({ type: 'integer', example: 0 })
  position!: number;

  @ApiProperty({
    type: 'integer',
    isArray: true,
    maxItems: MAX_DEPTH,
    description: 'Ids from the root down to this category (itself last): the breadcrumb',
    example: [1, 3, 12],
  })
  path!: number[];

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { en: 'Hiking boots' } })
  name!: Record<string, string>;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { en: 'hiking-boots' } })
  slug!: Record<string, string>;

  @ApiProperty({ type: 'string', format: 'date-time' })
  updatedAt!: string;
}

export class CategoryListDto {
  @ApiProperty({ type: [CategoryDto], description: 'Categories found, in order of first appearance in ids' })
  data!: CategoryDto[];

  @ApiProperty({
    type: 'integer',
    isArray: true,
    description: 'Requested ids found nowhere, in request order',
  })
  missing!: number[];
}

/**
 * The stored document: the API object serialised once at write time, starting `{"id":…,"version":…,` like
 * every record type's (the version is read off the head).
 */
export function serializeCategory(
  id: number,
  version: number,
  updatedAt: Date,
  path: readonly number[],
  c: CategoryInputDto,
): string {
  return JSON.stringify({
    id,
    version,
    parentId: c.parentId ?? null,
    position: c.position ?? 0,
    path,
    name: c.name,
    slug: c.slug,
    updatedAt: updatedAt.toISOString(),
  });
}
