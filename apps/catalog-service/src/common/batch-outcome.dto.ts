import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/**
 * What every record type's batch answers per item after the item's own keys (id; market or warehouse):
 * `IntersectionType(<keys>, BatchOutcomeDto)` keeps the keys first in the contract, as they always were.
 */
export class BatchOutcomeDto {
  @ApiProperty({ enum: ['created', 'replaced', 'rejected'] })
  result!: 'created' | 'replaced' | 'rejected';

  @ApiPropertyOptional({ type: 'integer', example: 3 })
  version?: number;

  @ApiPropertyOptional({ type: [String], description: 'Why the item was rejected' })
  errors?: string[];
}
