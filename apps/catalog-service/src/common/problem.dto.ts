import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** RFC 9457 problem details, as every 4xx and 5xx answers (application/problem+json). */
export class ProblemDto {
  @ApiProperty({ format: 'uri', example: 'https://catalog.example.com/problems/validation' })
  type!: string;
  @ApiProperty({ example: 'Invalid request' })
  title!: string;
  @ApiProperty({ type: 'integer', example: 400 })
  status!: number;
  @ApiProperty({ example: 'ids must be integers between 1 and 9007199254740991; invalid: "abc"' })
  detail!: string;
  @ApiPropertyOptional({ example: '/v1/products' })
  instance?: string;
  @ApiPropertyOptional({ example: '5f0c6b3e-7d0c-4a70-9d36-0b5b0f6f3f4e' })
  requestId?: string;
  @ApiPropertyOptional({ type: [String], description: 'Offending values (ids)' })
  invalid?: string[];
  @ApiPropertyOptional({ type: [String], description: 'Validation messages, one per problem found' })
  errors?: string[];
}
