import type { FastifyReply } from 'fastify';
import { ValidationError } from '@app/errors';
import { ifMatchVersion } from './http-caching';
import { requireId } from './ids';
import { batchItems, Parsed } from './parse-dto';
import { answerMarketRead, answerWrite, MarketRead, ReadRequest } from './scoped-endpoints';

/** What a scoped record type's write service offers its routes. */
export interface ScopedWrites<I, R> {
  put(
    id: number,
    scope: string,
    input: I,
  ): Promise<{ created: boolean; doc: string | null; version: number }>;
  /** `version`: If-Match (undefined: unconditional, null: `*`). */
  delete(id: number, scope: string, version: number | null | undefined): Promise<void>;
  batch(rawItems: readonly unknown[]): Promise<R[]>;
}

export interface ScopedType<I, R> {
  /** What the 400 of an invalid body calls it: "the price is invalid: ...". */
  noun: string;
  /** The scope in the path (a market, a warehouse), checked: 400 when it is not configured. */
  scope: (raw: string) => string;
  parse: (body: unknown) => Parsed<I>;
  /** The ETag of a record is `"{etagHead(id, scope)}{version}"`. */
  etagHead: (id: number, scope: string) => string;
  writes: ScopedWrites<I, R>;
  maxBatchItems: number;
  read: MarketRead;
}

/**
 * The handlers behind a scoped record type's routes (prices per market, stock per warehouse): each route
 * method of its controller is its decorators and one call here, so the two types answer alike.
 */
export class ScopedHandlers<I, R> {
  constructor(private readonly t: ScopedType<I, R>) {}

  list(req: ReadRequest): Promise<Buffer | undefined> {
    return answerMarketRead(req, this.t.read);
  }

  async put(rawScope: string, rawId: string, body: unknown, reply: FastifyReply): Promise<string> {
    const id = requireId(rawId);
    const scope = this.t.scope(rawScope);
    const parsed = this.t.parse(body);
    if (!parsed.ok)
      throw new ValidationError(`the ${this.t.noun} is invalid: ${parsed.errors.join('; ')}`, {
        errors: parsed.errors,
      });
    const result = await this.t.writes.put(id, scope, parsed.value);
    return answerWrite(reply, result, `"${this.t.etagHead(id, scope)}${result.version}"`);
  }

  async remove(rawScope: string, rawId: string, ifMatch: string | undefined): Promise<void> {
    const id = requireId(rawId);
    const scope = this.t.scope(rawScope);
    await this.t.writes.delete(id, scope, ifMatchVersion(ifMatch, this.t.etagHead(id, scope)));
  }

  async batch(body: unknown): Promise<{ results: R[] }> {
    return { results: await this.t.writes.batch(batchItems(body, this.t.maxBatchItems)) };
  }
}
