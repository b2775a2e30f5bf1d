import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { IsInt, IsISO8601, IsOptional, Matches, Max, Min, ValidateIf } from 'class-validator';
import { BatchOutcomeDto } from '@catalog/common/batch-outcome.dto';
import { MAX_PRODUCT_ID } from '@catalog/products/dtos/product.dto';

export const MARKET = /^[a-z]{2}-[A-Z]{3}$/;
/** Minor units fit a JavaScript number exactly up to 2^53-1 (and the BIGINT column far beyond). */
export const MAX_AMOUNT = Number.MAX_SAFE_INTEGER;

export class PriceInputDto {
  @ApiProperty({
    type: 'integer',
    minimum: 0,
    maximum: MAX_AMOUNT,
    description: "In the currency's minor units (cents): 1999 is 19.99 EUR",
    example: 1999,
  })
  @IsInt()
  @Min(0)
  @Max(MAX_AMOUNT)
  amount!: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: MAX_AMOUNT,
    nullable: true,
    description: 'The former price shown struck through, in minor units',
    example: 2499,
  })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsInt()
  @Min(0)
  @Max(MAX_AMOUNT)
  strikeThrough?: number | null;

  @ApiPropertyOptional({
    type: 'string',
    format: 'date-time',
    // RFC 3339: a four-digit year (ISO 8601's expanded years, +012200-..., are refused).
    pattern: '^[0-9]{4}-',
    nullable: true,
    description: 'Start of the validity window',
    example: '2026-12-01T00:00:00Z',
  })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsISO8601({ strict: true })
  validFrom?: string | null;

  @ApiPropertyOptional({
    type: 'string',
    format: 'date-time',
    // RFC 3339: a four-digit year (ISO 8601's expanded years, +012200-..., are refused).
    pattern: '^[0-9]{4}-',
    nullable: true,
    description: 'End of the validity window: must be after validFrom',
    example: '2026-12-31T23:59:59Z',
  })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsISO8601({ strict: true })
  validTo?: string | null;
}

export class PriceBatchItemDto extends PriceInputDto {
  @ApiProperty({ type: 'integer', minimum: 1, maximum: MAX_PRODUCT_ID, example: 1 })
  @IsInt()
  @Min(1)
  @Max(MAX_PRODUCT_ID)
  id!: number;

  @ApiProperty({ type: 'string', pattern: MARKET.source, example: 'de-EUR' })
  @Matches(MARKET)
  market!: string;
}

export class PriceDto {
  @ApiProperty({ type: 'integer', minimum: 1, maximum: MAX_PRODUCT_ID, description: 'The product id' })
  id!: number;
  @ApiProperty({ type: 'integer', minimum: 1, description: 'Incremented by every write of this price' })
  version!: number;
  @ApiProperty({ type: 'string', pattern: MARKET.source, example: 'de-EUR' })
  market!: string;
  @ApiProperty({ type: 'string', pattern: '^[A-Z]{3}$', description: 'ISO 4217', example: 'EUR' })
  currency!: string;
  @ApiProperty({ type: 'integer', minimum: 0, maximum: MAX_AMOUNT, example: 1999 })
  amount!: number;
  @ApiProperty({ type: 'integer', minimum: 0, maximum: MAX_AMOUNT, nullable: true, example: 2499 })
  strikeThrough!: number | null;
  @ApiProperty({ type: 'string', format: 'date-time', nullable: true })
  validFrom!: string | null;
  @ApiProperty({ type: 'string', format: 'date-time', nullable: true })
  validTo!: string | null;
  @ApiProperty({ type: 'string', format: 'date-time' })
  updatedAt!: string;
}

export class PriceListDto {
  @ApiProperty({
    type: [PriceDto],
    description: 'Prices found in the market, in order of first appearance in ids',
  })
  data!: PriceDto[];
  @ApiProperty({
    type: 'integer',
    isArray: true,
    description: 'Requested product ids without a price in the market, in request order',
  })
  missing!: number[];
}

export class PriceBatchRequestDto {
  @ApiProperty({ type: [PriceBatchItemDto], minItems: 1, maxItems: 1000 })
  items!: PriceBatchItemDto[];
}

class PriceBatchKeysDto {
  @ApiProperty({ type: 'integer', nullable: true, description: 'The item id, null when it was not valid' })
  id!: number | null;
  @ApiProperty({ type: 'string', nullable: true, description: 'The item market, null when it was not valid' })
  market!: string | null;
}

export class PriceBatchResultDto extends IntersectionType(PriceBatchKeysDto, BatchOutcomeDto) {}

export class PriceBatchResponseDto {
  @ApiProperty({ type: [PriceBatchResultDto], description: 'One result per item, in request order' })
  results!: PriceBatchResultDto[];
}
