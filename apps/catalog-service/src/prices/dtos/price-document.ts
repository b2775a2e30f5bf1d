import { parseDto, Parsed } from '@catalog/common/parse-dto';
import { PriceBatchItemDto, PriceInputDto } from './price.dto';

/** The stored price, the API object serialised once at write time; it starts `{"id":..,"version":..,`. */
export function serializePrice(
  id: number,
  version: number,
  market: string,
  updatedAt: Date,
  p: PriceInputDto,
): string {
  return JSON.stringify({
    id,
    version,
    market,
    currency: market.slice(3),
    amount: p.amount,
    strikeThrough: p.strikeThrough ?? null,
    validFrom: p.validFrom ? new Date(p.validFrom).toISOString() : null,
    validTo: p.validTo ? new Date(p.validTo).toISOString() : null,
    updatedAt: updatedAt.toISOString(),
  });
}

/** Validation beyond one field: a window that ends before it starts is refused. */
function checkWindow<T extends PriceInputDto>(parsed: Parsed<T>): Parsed<T> {
  if (!parsed.ok) return parsed;
  const { validFrom, validTo } = parsed.value;
  if (validFrom && validTo && Date.parse(validTo) <= Date.parse(validFrom))
    return { ok: false, errors: ['validTo: must be after validFrom'] };
  return parsed;
}

export const parsePriceInput = (raw: unknown): Parsed<PriceInputDto> =>
  checkWindow(parseDto(PriceInputDto, raw));
export const parsePriceBatchItem = (raw: unknown): Parsed<PriceBatchItemDto> =>
  checkWindow(parseDto(PriceBatchItemDto, raw));

/** A price's ETag is `"pr{id}-{market}-v{version}"`; this is all of it but the version and the quotes. */
export const priceEtagHead = (id: number, market: string): string => `pr${id}-${market}-v`;
