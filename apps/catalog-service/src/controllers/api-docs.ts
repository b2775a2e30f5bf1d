import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ProblemDto } from '@catalog/dtos/problem.dto';

const PROBLEM = 'application/problem+json';

/** Documents error statuses with the problem+json schema. */
export function ApiProblems(...statuses: Array<[number, string]>) {
  return applyDecorators(
    ...statuses.map(([status, description]) =>
      ApiResponse({
        status,
        description,
        content: { [PROBLEM]: { schema: { $ref: '#/components/schemas/ProblemDto' } } },
      }),
    ),
  );
}

export const EXTRA_MODELS = [ProblemDto];
