import { Body, Controller, Headers, Inject, Param, Res, Type } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import {
  ApiMarketRead,
  ApiScopedBatch,
  ApiScopedDelete,
  ApiScopedWrite,
  ReadRequest,
  ReadRequestParam,
} from './scoped-endpoints';
import type { ScopedHandlers } from './scoped-handlers';

type DtoClass = new () => unknown;

/** What a scoped record type's routes are called and how the contract documents them. */
export interface ScopedRoutes {
  /** Path and OpenAPI tag: `/v1/{path}`. */
  path: string;
  /** The scope in write paths: `/v1/{path}/{scope}/{id}`. */
  scope: { name: string; schema: object };
  list: { operationId: string; summary: string; dto: DtoClass; xkey: string; etag: string };
  put: { operationId: string; summary: string; input: DtoClass; answer: DtoClass; invalid: string };
  delete: { operationId: string; summary: string };
  batch: { operationId: string; summary: string; request: DtoClass; response: DtoClass };
}

/**
 * The controller of a scoped record type (prices per market, stock per warehouse): a bulk read in a
 * market, a write and a delete in one scope, a batch, each handed to the type's ScopedHandlers provider.
 * Both types get the same routes, validation order and documentation by construction.
 */
export function scopedController(
  name: string,
  r: ScopedRoutes,
  handlers: Type<ScopedHandlers<unknown, unknown>>,
): Type<unknown> {
  @ApiTags(r.path)
  @Controller({ path: r.path, version: '1' })
  class ScopedController {
    constructor(@Inject(handlers) private readonly h: ScopedHandlers<unknown, unknown>) {}

    @ApiMarketRead(r.list.operationId, r.list.summary, r.list.dto, r.list.xkey, r.list.etag)
    list(@ReadRequestParam() req: ReadRequest): Promise<Buffer | undefined> {
      return this.h.list(req);
    }

    @ApiScopedWrite(r.scope, r.put.operationId, r.put.summary, r.put.input, r.put.answer, r.put.invalid)
    put(
      @Param(r.scope.name) scope: string,
      @Param('id') id: string,
      @Body() body: unknown,
      @Res({ passthrough: true }) reply: FastifyReply,
    ): Promise<string> {
      return this.h.put(scope, id, body, reply);
    }

    @ApiScopedDelete(r.scope, r.delete.operationId, r.delete.summary)
    remove(
      @Param(r.scope.name) scope: string,
      @Param('id') id: string,
      @Headers('if-match') ifMatch: string | undefined,
    ): Promise<void> {
      return this.h.remove(scope, id, ifMatch);
    }

    @ApiScopedBatch(r.batch.operationId, r.batch.summary, r.batch.request, r.batch.response)
    batch(@Body() body: unknown): Promise<{ results: unknown[] }> {
      return this.h.batch(body);
    }
  }
  Object.defineProperty(ScopedController, 'name', { value: name });
  return ScopedController;
}
