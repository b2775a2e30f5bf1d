import { parseDto, Parsed } from '@catalog/common/parse-dto';
import { StockBatchItemDto, StockInputDto } from './stock.dto';

/** The stored level, written once per version; it starts `{"id":..,"version":..,`. */
export function serializeStock(
  id: number,
  version: number,
  warehouse: string,
  updatedAt: Date,
  s: StockInputDto,
): string {
  return JSON.stringify({ id, version, warehouse, quantity: s.quantity, updatedAt: updatedAt.toISOString() });
}

const QUANTITY = Buffer.from('"quantity":');

/** The quantity off a stored level without parsing it (it sits in the first 80 bytes). */
export function quantityOf(doc: Buffer): number {
  const at = doc.indexOf(QUANTITY);
  let q = 0;
  for (let i = at + QUANTITY.length; at >= 0 && i < doc.length; i++) {
    const c = doc[i];
    if (c < 0x30 || c > 0x39) break;
    q = q * 10 + (c - 0x30);
  }
  return q;
}

export function availabilityOf(quantity: number, low: number): 'in_stock' | 'low' | 'out_of_stock' {
  return quantity === 0 ? 'out_of_stock' : quantity <= low ? 'low' : 'in_stock';
}

export const parseStockInput = (raw: unknown): Parsed<StockInputDto> => parseDto(StockInputDto, raw);
export const parseStockBatchItem = (raw: unknown): Parsed<StockBatchItemDto> =>
  parseDto(StockBatchItemDto, raw);

/** A stock level's ETag is `"st{id}-{warehouse}-v{version}"`; this is all of it but the version and quotes. */
export const stockEtagHead = (id: number, warehouse: string): string => `st${id}-${warehouse}-v`;
