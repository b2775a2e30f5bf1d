import {
  applyDecorators,
  createParamDecorator,
  Delete,
  ExecutionContext,
  Get,
  HttpCode,
  Post,
  Put,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyGuard, RequireScope } from './api-key.guard';
import { ApiProblems } from './api-docs';
import { etagMatches, setReadHeaders } from './http-caching';
import {
  ID_LIST_SCHEMA,
  ID_SCHEMA,
  MARKET_SCHEMA,
  MAX_LIST,
  onlyParams,
  parseIdList,
  parseMarket,
} from './ids';

/*
 * The endpoints every scoped record type (prices per market, stock per warehouse) has: a bulk read by
 * ids in a market, a write of one record in one scope, and a batch. Their contract and their answers.
 */

type DtoClass = new () => unknown;
const JSON_TYPE = 'application/json; charset=utf-8';
const WRITE_PROBLEMS: Array<[number, string]> = [
  [401, 'Missing or invalid API key'],
  [403, 'API key without write scope'],
  [413, 'Body too large'],
  [415, 'Not application/json'],
];

export function readHeaders(xkey: string, etag: string) {
  return {
    ETag: { description: etag, schema: { type: 'string' } },
    'Cache-Control': {
      description: 'public, max-age, s-maxage, stale-while-revalidate, stale-if-error',
      schema: { type: 'string' },
    },
    xkey: { description: `Space-separated cache tags, ${xkey}`, schema: { type: 'string' } },
    'X-Catalog-Tier': {
      description: 'Where the service found the data: redis or mysql',
      schema: { type: 'string', enum: ['redis', 'mysql'] },
    },
  };
}

/** GET ?ids=&market= of a scoped type. */
export function ApiMarketRead(
  operationId: string,
  summary: string,
  type: DtoClass,
  xkey: string,
  etag: string,
) {
  const headers = readHeaders(xkey, etag);
  return applyDecorators(
    Get(),
    ApiOperation({ operationId, summary }),
    ApiQuery({
      name: 'ids',
      required: true,
      schema: ID_LIST_SCHEMA,
      description: `Comma-separated product ids, 1..${MAX_LIST}`,
      example: '1,2,3',
    }),
    ApiQuery({
      name: 'market',
      required: true,
      schema: MARKET_SCHEMA,
      description: 'A configured market (country-currency)',
    }),
    ApiHeader({ name: 'If-None-Match', required: false }),
    ApiOkResponse({ type, headers }),
    ApiResponse({ status: 304, description: 'Not modified (If-None-Match matched)', headers }),
    ApiProblems([400, 'Empty, malformed or too many ids; unknown market']),
  );
}

/** PUT /{scope}/{id}, write scope. */
export function ApiScopedWrite(
  scope: { name: string; schema: object },
  operationId: string,
  summary: string,
  body: DtoClass,
  answer: DtoClass,
  invalid: string,
) {
  return applyDecorators(
    Put(`:${scope.name}/:id`),
    RequireScope('write'),
    UseGuards(ApiKeyGuard),
    ApiBearerAuth(),
    ApiOperation({ operationId, summary }),
    ApiParam({ name: scope.name, schema: scope.schema }),
    ApiParam({ name: 'id', schema: ID_SCHEMA, description: 'The product id, 1 .. 2^53-1, written plainly' }),
    ApiBody({ type: body }),
    ApiResponse({ status: 200, type: answer, description: 'Replaced' }),
    ApiResponse({ status: 201, type: answer, description: 'Created' }),
    ApiProblems([400, invalid], ...WRITE_PROBLEMS),
  );
}

/** DELETE /{scope}/{id}, write scope: a tombstone through the versioned write, If-Match like products. */
export function ApiScopedDelete(
  scope: { name: string; schema: object },
  operationId: string,
  summary: string,
) {
  return applyDecorators(
    Delete(`:${scope.name}/:id`),
    RequireScope('write'),
    UseGuards(ApiKeyGuard),
    HttpCode(204),
    ApiBearerAuth(),
    ApiOperation({ operationId, summary }),
    ApiParam({ name: scope.name, schema: scope.schema }),
    ApiParam({ name: 'id', schema: ID_SCHEMA, description: 'The product id, 1 .. 2^53-1, written plainly' }),
    ApiHeader({ name: 'If-Match', required: false, description: 'The ETag a write answered, or *' }),
    ApiResponse({ status: 204, description: 'Deleted' }),
    ApiProblems(
      [400, `Malformed id or unknown ${scope.name}`],
      ...WRITE_PROBLEMS.slice(0, 2),
      [404, 'Nothing to delete'],
      [412, 'If-Match does not match'],
    ),
  );
}

/** POST /batch, write scope: one result per item. */
export function ApiScopedBatch(operationId: string, summary: string, body: DtoClass, answer: DtoClass) {
  return applyDecorators(
    Post('batch'),
    RequireScope('write'),
    UseGuards(ApiKeyGuard),
    HttpCode(200),
    ApiBearerAuth(),
    ApiOperation({ operationId, summary }),
    ApiBody({ type: body }),
    ApiOkResponse({
      type: answer,
      description: 'One result per item; invalid items do not block valid ones',
    }),
    ApiProblems([400, 'Not a batch, or more than 1000 items'], ...WRITE_PROBLEMS),
  );
}

/** A read's headers, then 304 when If-None-Match matches, else the body. */
export function answerRead(
  reply: FastifyReply,
  ifNoneMatch: string | undefined,
  cc: string,
  xkey: string,
  result: { body: Buffer; etag: string; tier: string },
): Buffer | undefined {
  setReadHeaders(reply, cc, result.etag, xkey, result.tier);
  if (etagMatches(ifNoneMatch, result.etag)) {
    void reply.status(304);
    return undefined;
  }
  void reply.type(JSON_TYPE);
  return result.body;
}

/** A write's answer: 201 or 200, its ETag, never cached, the stored document. */
export function answerWrite(
  reply: FastifyReply,
  result: { created: boolean; doc: string | null },
  etag: string,
): string {
  void reply
    .status(result.created ? 201 : 200)
    .header('etag', etag)
    .header('cache-control', 'no-store')
    .type(JSON_TYPE);
  return result.doc!;
}

/** What a GET ?ids=&market= of a scoped type needs: limits, markets, headers, and the read itself. */
export interface MarketRead {
  maxIds: number;
  markets: ReadonlyMap<string, unknown>;
  cacheControl: string;
  tag: (market: string, id: number) => string;
  read: (ids: number[], market: string) => Promise<{ body: Buffer; etag: string; tier: string }>;
}

/** GET ?ids=&market= answered: parameters checked (400 otherwise), read, tagged per id, 304 or the body. */
export async function answerMarketRead(req: ReadRequest, opts: MarketRead): Promise<Buffer | undefined> {
  const q = onlyParams(req.query, ['ids', 'market']);
  const ids = parseIdList(q.ids, opts.maxIds);
  const market = parseMarket(q.market, opts.markets);
  const result = await opts.read(ids, market);
  const xkey = ids.map((id) => opts.tag(market, id)).join(' ');
  return answerRead(req.reply, req.ifNoneMatch, opts.cacheControl, xkey, result);
}

export interface ReadRequest {
  query: Record<string, unknown>;
  ifNoneMatch: string | undefined;
  reply: FastifyReply;
}

/** What a read handler needs of the request: the query, If-None-Match, and the reply for its headers. */
export const ReadRequestParam = createParamDecorator((_: unknown, ctx: ExecutionContext): ReadRequest => {
  const http = ctx.switchToHttp();
  const req = http.getRequest<FastifyRequest>();
  const inm = req.headers['if-none-match'];
  return {
    query: (req.query ?? {}) as Record<string, unknown>,
    ifNoneMatch: typeof inm === 'string' ? inm : undefined,
    reply: http.getResponse<FastifyReply>(),
  };
});
