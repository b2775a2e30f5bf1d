import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiResponse } from '@nestjs/swagger';
import { ProblemDto } from './problem.dto';

const PROBLEM = 'application/problem+json';

export const problemResponse = (description: string) => ({
  description,
  content: { [PROBLEM]: { schema: { $ref: '#/components/schemas/ProblemDto' } } },
});

/** Documents error statuses with the problem+json schema. */
export function ApiProblems(...statuses: Array<[number, string]>) {
  return applyDecorators(
    ...statuses.map(([status, description]) => ApiResponse({ status, ...problemResponse(description) })),
  );
}

/**
 * Statuses any operation can get from the front HAProxy, Varnish, or the service below its router
 * (docs/errors.md). Added to every operation that does not document the status itself, so a client
 * generated from the contract knows every answer it can see.
 */
export const EDGE_PROBLEMS: Array<[string, string]> = [
  [
    '400',
    'Malformed request: HTTP syntax, percent-encoding, or a query parameter the operation does not take',
  ],
  // The front decodes the path before routing (docs/edge.md), so an id holding an encoded "/" (%2F) is
  // another path, which no route takes.
  ['404', 'No such route: the path, once decoded, names no resource'],
  ['405', 'Method not allowed'],
  ['408', 'The request did not arrive in time'],
  ['413', 'Body over the limit'],
  ['414', 'URL over the limit'],
  ['417', 'An Expect other than 100-continue'],
  ['429', 'Rate limited at the front (Retry-After)'],
  ['431', 'Request headers over the limit'],
  ['500', 'Internal error (no internal detail in the body)'],
  ['502', 'The front could not get a valid answer from a node'],
  ['503', 'Overloaded or unavailable (Retry-After when known)'],
  ['504', 'The front timed out waiting for a node'],
];

export const EXTRA_MODELS = [ProblemDto];

/** What GET /health/live serves. */
export const LIVE_SCHEMA = {
  type: 'object' as const,
  required: ['status'],
  properties: { status: { type: 'string' as const, enum: ['ok'] } },
};

const checks = (example: Record<string, { status: string }>) => ({
  type: 'object' as const,
  example,
  additionalProperties: {
    type: 'object' as const,
    required: ['status'],
    properties: {
      status: { type: 'string' as const, enum: ['up', 'degraded', 'down'] },
      responseTime: { type: 'number' as const, description: 'Time the check took, in ms' },
    },
    additionalProperties: true,
  },
});

/**
 * What GET /health/ready serves when ready: Terminus' result (its own swagger schema for 200, written here
 * because its 503 schema is not what the service answers: a not-ready node answers problem+json).
 */
export const READY_SCHEMA = {
  type: 'object' as const,
  properties: {
    status: { type: 'string' as const, enum: ['ok', 'degraded'], example: 'ok' },
    reads: {
      type: 'string' as const,
      enum: ['redis', 'mysql'],
      description: 'Where this node answers reads from now (mysql: Redis is down, the cold tier serves)',
    },
    info: { ...checks({ redis: { status: 'up' }, mysqlReader: { status: 'up' } }), nullable: true },
    error: { ...checks({}), nullable: true },
    details: checks({ redis: { status: 'up' }, mysqlReader: { status: 'up' } }),
  },
};

/** A cached read: the operation, If-None-Match, 200 with its body type and headers, 304 with the same headers. */
export function ApiCachedRead(
  operation: { operationId: string; summary: string; description?: string },
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- what @nestjs/swagger takes as a type
  type: Function,
  headers: Record<string, { description: string; schema: object }>,
) {
  return applyDecorators(
    ApiOperation(operation),
    ApiHeader({ name: 'If-None-Match', required: false }),
    ApiOkResponse({ type, headers }),
    ApiResponse({ status: 304, description: 'Not modified (If-None-Match matched)', headers }),
  );
}

/** What every write can get besides its own problems: credentials, and a body the edge or parser refuses. */
export const WRITE_PROBLEMS: Array<[number, string]> = [
  [401, 'Missing or invalid API key'],
  [403, 'API key without write scope'],
  [413, 'Body too large'],
  [415, 'Not application/json'],
];

/** A create-or-replace by id: If-Match, the body, 200 when replaced and 201 when created, both the record. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- what @nestjs/swagger takes as a type
export function ApiUpsert(input: Function, record: Function) {
  return applyDecorators(
    ApiHeader({
      name: 'If-Match',
      required: false,
      description: 'ETag of the version this write replaces, or *',
    }),
    ApiBody({ type: input }),
    ApiResponse({ status: 200, type: record, description: 'Replaced' }),
    ApiResponse({ status: 201, type: record, description: 'Created' }),
  );
}
