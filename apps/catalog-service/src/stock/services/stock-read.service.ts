import { Inject, Injectable } from '@nestjs/common';
import { hash } from 'node:crypto';
import { APP_CONFIG, AppConfig, marketsOf } from '@app/config';
import { versionOf } from '@catalog/record-types/record-document';
import { ABSENT, CacheEntry } from '@catalog/record-types/repositories/record-cache.repository';
import { PartResult, ReadPart, readParts, recordPart } from '@catalog/record-types/services/shared-mget';
import { ListResult, TieredReader, TieredReads } from '@catalog/record-types/services/tiered-reads.service';
import { availabilityOf, quantityOf } from '../dtos/stock-document';
import { AvailabilityRepository } from '../repositories/availability.repository';
import { StockCaches } from '../repositories/stock-caches.repository';

const OPEN_BRACE = 0x7b;

/**
 * A product's availability in a market, as stored (AvailabilityRepository): `<warehouse>:<version>;...`
 * (the levels it was derived from, for ETags) followed by the answer's JSON object.
 */
export interface Availability {
  versions: string;
  json: Buffer;
}

export function splitAvailability(doc: Buffer): Availability {
  const at = doc.indexOf(OPEN_BRACE);
  return { versions: doc.toString('latin1', 0, at), json: doc.subarray(at) };
}

/**
 * Availability per market: one key per (product, market) on the stock Redis, derived from the levels of
 * the market's warehouses when they are applied. A read that finds no key reads the levels (one MGET for
 * every warehouse of the market, misses loaded per warehouse like any record type), answers from them
 * and derives the key for the next read.
 */
@Injectable()
export class StockReadService {
  private readonly readers = new Map<string, TieredReader>();
  private readonly markets: ReadonlyMap<string, string[]>;
  private readonly lowThreshold: number;

  constructor(
    caches: StockCaches,
    reads: TieredReads,
    private readonly availability: AvailabilityRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.markets = marketsOf(config);
    this.lowThreshold = config.STOCK_LOW_THRESHOLD;
    for (const cache of caches.all()) this.readers.set(cache.type.scope!.value, reads.for(cache));
  }

  /** The availability of ids in a market: the stored documents, null where no warehouse has a level. */
  part(ids: readonly number[], market: string): ReadPart {
    const reader = this.readers.get(this.markets.get(market)?.[0] ?? '') ?? [...this.readers.values()][0];
    const prefix = this.availability.keyPrefix(market);
    const keys = new Array<string>(ids.length);
    for (let i = 0; i < ids.length; i++) keys[i] = prefix + ids[i];
    return { reader, keys, resolve: (entries) => this.resolve(reader, ids, market, entries) };
  }

  private async resolve(
    reader: TieredReader,
    ids: readonly number[],
    market: string,
    entries: readonly CacheEntry[],
  ): Promise<PartResult> {
    const docs = new Array<Buffer | null>(ids.length);
    const misses: number[] = [];
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (e === null) misses.push(i);
      else docs[i] = e === ABSENT ? null : e;
    }
    if (misses.length === 0) return { docs, cold: false };
    const missIds = misses.map((i) => ids[i]);
    const levels = await readParts(this.levelParts(missIds, market));
    const warehouses = this.markets.get(market) ?? [];
    misses.forEach((at, k) => (docs[at] = this.fromLevels(market, warehouses, levels, k)));
    await reader.backfillSafely('availability derive', { ids: missIds.length }, () =>
      this.availability.derive(missIds, market),
    );
    return { docs, cold: levels.some((r) => r.cold) };
  }

  /** One part per warehouse of the market. */
  private levelParts(ids: readonly number[], market: string): ReadPart[] {
    return (this.markets.get(market) ?? []).map((w) => recordPart(this.readers.get(w)!, ids));
  }

  /** The stored form of the k-th id's availability from its levels (what the derive script writes). */
  private fromLevels(
    market: string,
    warehouses: readonly string[],
    levels: readonly PartResult[],
    k: number,
  ): Buffer | null {
    let quantity = 0;
    let versions = '';
    levels.forEach((r, w) => {
      const doc = r.docs[k];
      if (!doc) return;
      quantity += quantityOf(doc);
      versions += `${warehouses[w]}:${versionOf(doc)};`;
    });
    if (versions === '') return null;
    const availability = availabilityOf(quantity, this.lowThreshold);
    return Buffer.from(
      `${versions}{"market":"${market}","availability":"${availability}","quantity":${quantity}}`,
    );
  }

  async getMany(ids: readonly number[], market: string): Promise<ListResult> {
    const [result] = await readParts([this.part(ids, market)]);
    const out: Buffer[] = [Buffer.from('{"data":[')];
    const missing: number[] = [];
    let tag = '';
    result.docs.forEach((doc, i) => {
      if (doc === null) {
        missing.push(ids[i]);
        tag += ids[i] + ':-,';
        return;
      }
      const { versions, json } = splitAvailability(doc);
      out.push(Buffer.from(`${out.length > 1 ? ',' : ''}{"id":${ids[i]},`), json.subarray(1));
      tag += ids[i] + ':' + versions + ',';
    });
    out.push(Buffer.from(`],"missing":[${missing.join(',')}]}`));
    return {
      body: Buffer.concat(out),
      etag: '"k' + hash('sha1', market + '|' + tag, 'base64url') + '"',
      tier: result.cold ? 'mysql' : 'redis',
    };
  }
}
