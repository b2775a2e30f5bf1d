import { ApiProperty, IntersectionType } from '@nestjs/swagger';
import { IsInt, Matches, Max, Min } from 'class-validator';
import { BatchOutcomeDto } from '@catalog/common/batch-outcome.dto';
import { MAX_PRODUCT_ID } from '@catalog/products/dtos/product.dto';

export const WAREHOUSE = /^[a-z0-9-]{1,10}$/;
export const MAX_QUANTITY = 2_147_483_647;
export const AVAILABILITIES = ['in_stock', 'low', 'out_of_stock'] as const;

export class StockInputDto {
  @ApiProperty({
    type: 'integer',
    minimum: 0,
    maximum: MAX_QUANTITY,
    description: 'Units on hand',
    example: 12,
  })
  @IsInt()
  @Min(0)
  @Max(MAX_QUANTITY)
  quantity!: number;
}

export class StockBatchItemDto extends StockInputDto {
  @ApiProperty({ type: 'integer', minimum: 1, maximum: MAX_PRODUCT_ID, example: 1 })
  @IsInt()
  @Min(1)
  @Max(MAX_PRODUCT_ID)
  id!: number;

  @ApiProperty({ type: 'string', pattern: WAREHOUSE.source, example: 'berlin' })
  @Matches(WAREHOUSE)
  warehouse!: string;
}

export class AvailabilityDto {
  @ApiProperty({ type: 'integer', minimum: 1, maximum: MAX_PRODUCT_ID, description: 'The product id' })
  id!: number;
  @ApiProperty({ type: 'string', example: 'de-EUR' })
  market!: string;
  @ApiProperty({
    enum: AVAILABILITIES,
    description: 'out_of_stock at 0 units in the market, low up to STOCK_LOW_THRESHOLD (5), else in_stock',
  })
  availability!: (typeof AVAILABILITIES)[number];
  @ApiProperty({ type: 'integer', minimum: 0, description: "Units on hand in the market's warehouses" })
  quantity!: number;
}

export class StockListDto {
  @ApiProperty({ type: [AvailabilityDto], description: 'Availability in the market, in order of ids' })
  data!: AvailabilityDto[];
  @ApiProperty({
    type: 'integer',
    isArray: true,
    description: "Requested ids with no stock level in any of the market's warehouses, in request order",
  })
  missing!: number[];
}

export class StockDto extends StockInputDto {
  @ApiProperty({ type: 'integer', minimum: 1, maximum: MAX_PRODUCT_ID })
  id!: number;
  @ApiProperty({ type: 'integer', minimum: 1 })
  version!: number;
  @ApiProperty({ type: 'string', pattern: WAREHOUSE.source })
  warehouse!: string;
  @ApiProperty({ type: 'string', format: 'date-time' })
  updatedAt!: string;
}

export class StockBatchRequestDto {
  @ApiProperty({ type: [StockBatchItemDto], minItems: 1, maxItems: 1000 })
  items!: StockBatchItemDto[];
}

class StockBatchKeysDto {
  @ApiProperty({ type: 'integer', nullable: true })
  id!: number | null;
  @ApiProperty({ type: 'string', nullable: true })
  warehouse!: string | null;
}

export class StockBatchResultDto extends IntersectionType(StockBatchKeysDto, BatchOutcomeDto) {}

export class StockBatchResponseDto {
  @ApiProperty({ type: [StockBatchResultDto] })
  results!: StockBatchResultDto[];
}
