import { Injectable } from '@nestjs/common';
import { hash } from 'node:crypto';
import { versionOf } from '@catalog/record-types/record-document';
import { ReadPart, readParts, recordPart } from '@catalog/record-types/services/shared-mget';
import type { ListResult } from '@catalog/record-types/services/tiered-reads.service';
import { PriceReadService } from '@catalog/prices/services/price-read.service';
import { splitAvailability, StockReadService } from '@catalog/stock/services/stock-read.service';
import { keepLocale } from '../dtos/product-document';
import { ProductReadService } from './product-read.service';

export interface Projection {
  market?: string;
  locale?: string;
  price: boolean;
  stock: boolean;
}

const CLOSE = 0x7d; // '}'
const OPEN = Buffer.from('{"data":[');
const COMMA = Buffer.from(',');
const PRICE = Buffer.from(',"price":');
const STOCK = Buffer.from(',"stock":');
const NULL = Buffer.from('null');
const END = Buffer.from('}');

/**
 * A product projected to the caller's context in one request: each product with its price in the market
 * and its availability there. One MGET per Redis (record types that share a Redis share it), in parallel;
 * misses of every type are coalesced and backfilled like single-type reads. The answer is built from the
 * stored bytes: the product document with `,"price":<stored price>,"stock":<stored availability>` spliced
 * in before its closing brace (availability is one derived key per product and market, so a read of 100
 * ids fetches 100 stock keys whatever the number of warehouses); only `locale` parses a product document
 * (to drop the other locales of its texts).
 */
@Injectable()
export class ComposedReadService {
  constructor(
    private readonly products: ProductReadService,
    private readonly prices: PriceReadService,
    private readonly stock: StockReadService,
  ) {}

  async getMany(ids: readonly number[], p: Projection): Promise<ListResult> {
    const parts: ReadPart[] = [recordPart(this.products.reader, ids)];
    if (p.price) parts.push(recordPart(this.prices.reader(p.market!), ids));
    if (p.stock) parts.push(this.stock.part(ids, p.market!));
    const results = await readParts(parts);
    const products = results[0];
    const prices = p.price ? results[1] : null;
    const stocks = p.stock ? results[results.length - 1] : null;

    const out: Buffer[] = [OPEN];
    const missing: number[] = [];
    let tag = `${p.market ?? ''}|${p.locale ?? ''}|${p.price ? 'p' : ''}${p.stock ? 's' : ''}|`;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const doc = products.docs[i];
      if (!doc) {
        missing.push(id);
        tag += id + ':-,';
        continue;
      }
      const product = p.locale ? keepLocale(doc, p.locale) : doc;
      tag += id + ':' + versionOf(doc);
      if (out.length > 1) out.push(COMMA);
      out.push(product.subarray(0, product.lastIndexOf(CLOSE)));
      if (prices) {
        const price = prices.docs[i];
        out.push(PRICE, price ?? NULL);
        tag += ':p' + (price ? versionOf(price) : '-');
      }
      if (stocks) {
        const s = stocks.docs[i];
        if (s) {
          const { versions, json } = splitAvailability(s);
          out.push(STOCK, json);
          tag += ':s' + versions;
        } else {
          out.push(STOCK, NULL);
          tag += ':s-';
        }
      }
      out.push(END);
      tag += ',';
    }
    out.push(Buffer.from('],"missing":[' + missing.join(',') + ']}'));
    return {
      body: Buffer.concat(out),
      etag: '"c' + hash('sha1', tag, 'base64url') + '"',
      tier: results.some((r) => r.cold) ? 'mysql' : 'redis',
    };
  }
}
