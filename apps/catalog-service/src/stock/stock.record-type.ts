import { REDIS_STOCK } from '@app/redis';
import { DEFAULT_TTL, RecordType } from '@catalog/record-types/record-type';

/**
 * Stock levels of one warehouse are a record type: `stock:{warehouse}:{id}` on the stock Redis, rows of
 * table `stock` with that warehouse, outbox type `stock:{warehouse}` (warehouse names are at most 10
 * characters: the outbox column holds 16). Every warehouse's level of a product is tagged `stock:{id}`,
 * the tag of the answers that show the product's availability.
 */
export function stockRecordType(warehouse: string): RecordType {
  return {
    name: `stock:${warehouse}`,
    keyPrefix: `stock:${warehouse}:`,
    redis: REDIS_STOCK,
    table: 'stock',
    idColumn: 'product_id',
    scope: { column: 'warehouse', value: warehouse },
    tagPrefix: 'stock:',
    ttl: DEFAULT_TTL,
  };
}

/**
 * A product's availability in a market, derived from its levels in the market's warehouses:
 * `stock:{market}:{warehouses}:{low threshold}:{id}` on the stock Redis (a market has capitals, a warehouse
 * never: no key is both). What it is derived from is in the key, so a configuration that changes a market's
 * warehouses or the threshold reads keys of its own, never ones derived under the old one.
 */
export function availabilityKeyPrefix(market: string, warehouses: readonly string[], low: number): string {
  return `stock:${market}:${warehouses.join('+')}:${low}:`;
}
