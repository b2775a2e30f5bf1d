import { Injectable } from '@nestjs/common';
import { hash } from 'node:crypto';
import { versionOf } from '@catalog/record-types/record-document';
import { ReadPart, readParts } from '@catalog/record-types/services/shared-mget';
import type { ListResult } from '@catalog/record-types/services/tiered-reads.service';
import { PriceReadService } from '@catalog/prices/services/price-read.service';
import { StockReadService } from '@catalog/stock/services/stock-read.service';
import { keepLocale } from '../dtos/product-document';
import { ProductReadService } from './product-read.service';

export interface Projection {
  market?: string;
  locale?: string;
  price: boolean;
  stock: boolean;
}

const CLOSE = 0x7d; // '}'

/**
 * A product projected to the caller's context in one request: each product with its price in the market
 * and its availability there. One MGET per Redis (record types that share a Redis share it), in parallel;
 * misses of every type are coalesced and backfilled like single-type reads. The answer is built from the
 * stored bytes: the product document with `,"price":<stored price>,"stock":{...}` spliced in before its
 * closing brace; only `locale` parses a product document (to drop the other locales of its texts).
 */
@Injectable()
export class ComposedReadService {
  constructor(
    private readonly products: ProductReadService,
    private readonly prices: PriceReadService,
    private readonly stock: StockReadService,
  ) {}

  async getMany(ids: readonly number[], p: Projection): Promise<ListResult> {
    const parts: ReadPart[] = [{ reader: this.products.reader, ids }];
    if (p.price) parts.push({ reader: this.prices.reader(p.market!), ids });
    const stockParts = p.stock ? this.stock.parts(ids, p.market!) : [];
    parts.push(...stockParts);
    const results = await readParts(parts);
    const [products, ...rest] = results;
    const prices = p.price ? rest.shift()! : null;
    const stocks = p.stock ? this.stock.combine(ids, p.market!, rest) : null;

    const out: Buffer[] = [Buffer.from('{"data":[')];
    const missing: number[] = [];
    let tag = `${p.market ?? ''}|${p.locale ?? ''}|${p.price ? 'p' : ''}${p.stock ? 's' : ''}|`;
    ids.forEach((id, i) => {
      const doc = products.docs[i];
      if (!doc) {
        missing.push(id);
        tag += id + ':-,';
        return;
      }
      const product = p.locale ? keepLocale(doc, p.locale) : doc;
      tag += id + ':' + versionOf(doc);
      if (out.length > 1) out.push(Buffer.from(','));
      out.push(product.subarray(0, product.lastIndexOf(CLOSE)));
      if (prices) {
        const price = prices.docs[i];
        out.push(Buffer.from(',"price":'), price ?? Buffer.from('null'));
        tag += ':p' + (price ? versionOf(price) : '-');
      }
      if (stocks) {
        const s = stocks[i];
        out.push(Buffer.from(',"stock":' + (s ? this.stock.fragment(p.market!, s) : 'null')));
        tag += ':s' + (s ? s.versions : '-');
      }
      out.push(Buffer.from('}'));
      tag += ',';
    });
    out.push(Buffer.from('],"missing":[' + missing.join(',') + ']}'));
    return {
      body: Buffer.concat(out),
      etag: '"c' + hash('sha1', tag, 'base64url') + '"',
      tier: results.some((r) => r.cold) ? 'mysql' : 'redis',
    };
  }
}
